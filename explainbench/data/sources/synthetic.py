"""The embedded benchmark: a deterministic generator of review worlds in which the explanation depends
on who the user is and what the item is (the very thing the MVAE paper is about).

The world (all numpy, vectorised; TripAdvisor scale in seconds):
- users: sparse Dirichlet preferences over the domain's aspects, a rating bias, a favourite adjective
  slot and a favourite sentence pattern (a personal style);
- items: Dirichlet aspect salience, a quality per aspect (standard normal), a rating bias, one to
  three detail phrases drawn from their most salient aspects, a signature aspect (the most salient)
  and an own surface word per aspect;
- activity: every user and item gets one record, the rest are drawn in proportion to Pareto weights, so
  counts follow a long tail as sparse as the paper's Table 1 (about 4 reviews per user and per item);
- a record: rating = round(3.9 + b_u + b_i + 1.2 * sum_a pref_u[a] quality_i[a] + noise), clipped
  to 1..5; aspect = the item's signature aspect with probability ITEM_FOCUS, else ~ pref_u * salience_i;
  sentiment = sign(quality_i[aspect] + 0.8 (rating - 3.5) + noise); a surface word of the aspect (the
  item's own with probability ITEM_TERM), an adjective from the aspect's pool for that sentiment, a
  pattern for that sentiment; when the item has a detail phrase for the aspect, 70% of sentences name
  it; 40% of sentences get a closing clause of the same sentiment.
Ground truth kept per record: aspect, aspect_terms (all surface words of the aspect), detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from explainbench.data.schema import RECORD_COLUMNS, RECORD_SCHEMA
from explainbench.data.sources.synthetic_world import ADJECTIVES, DOMAINS, Domain, load_domain

GENERATOR_VERSION = "synthetic/2"
DETAIL_MENTION = 0.7  # chance that a sentence about an aspect the item has a detail for names the detail
STYLE_ADJECTIVE = 0.4  # chance that a user picks their favourite adjective slot
STYLE_PATTERN = 0.3  # chance that a user picks their favourite sentence pattern
TAIL = 0.4  # chance that a sentence gets a closing clause ("and overall a lovely time")
WEIGHT_CAP = 25.0  # cap of the Pareto activity weights (the busiest user has ~10x the average)
DETAIL_SALIENCE = 0.1  # salience added to the aspects an item has detail phrases for
SALIENCE_ALPHA = 0.15  # Dirichlet concentration of an item's aspect salience (smaller: fewer aspects)
PREFERENCE_ALPHA = 3.0  # total Dirichlet concentration of a user's aspect preferences
ITEM_FOCUS = 0.5  # chance that a sentence is about the item's signature (most salient) aspect
ITEM_TERM = 0.8  # chance that a sentence uses the item's own surface word for the aspect


@dataclass(frozen=True)
class Preset:
    name: str
    n_records: int
    n_users: int
    n_items: int


PRESETS: dict[str, Preset] = {
    "synthetic-tiny": Preset("synthetic-tiny", 2_000, 400, 350),
    "synthetic": Preset("synthetic", 20_000, 5_000, 4_600),
    # The same world ten times denser (~35 reviews per user and item): does a model learn who and what
    # when it sees each often? (docs/models/mvae.md, "A denser world").
    "synthetic-dense": Preset("synthetic-dense", 20_000, 500, 460),
    # TripAdvisor's row of the paper's Table 1: 1,311,676 reviews, 333,409 users, 304,954 items.
    "synthetic-xl": Preset("synthetic-xl", 1_311_676, 333_409, 304_954),
}


@dataclass
class SyntheticWorld:
    """The generator's hidden factors (kept so tests can check that identity predicts content)."""

    domain: Domain
    seed: int
    preference: np.ndarray  # [n_users, A], rows sum to 1
    user_bias: np.ndarray  # [n_users]
    salience: np.ndarray  # [n_items, A], rows sum to 1
    quality: np.ndarray  # [n_items, A]
    item_bias: np.ndarray  # [n_items]
    detail_aspect: np.ndarray  # [n_items, 3], aspect of each detail phrase, -1 where none
    detail_phrase: np.ndarray  # [n_items, 3], index into the flat detail list, -1 where none

    @staticmethod
    def user_index(user_id: str) -> int:
        return int(user_id[1:])

    @staticmethod
    def item_index(item_id: str) -> int:
        return int(item_id[1:])

    def aspect_names(self) -> list[str]:
        return [a.name for a in self.domain.aspects]

    def predict_aspect(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The most likely aspect of a (user, item) record under the generator's mixture:
        argmax_a ITEM_FOCUS [a = signature_i] + (1 - ITEM_FOCUS) pref_u[a] salience_i[a] / sum."""
        joint = self.preference[users] * self.salience[items]
        joint = (1.0 - ITEM_FOCUS) * joint / joint.sum(axis=1, keepdims=True)
        joint[np.arange(len(items)), np.argmax(self.salience[items], axis=1)] += ITEM_FOCUS
        return np.argmax(joint, axis=1)


def _parse_pattern(pattern: str) -> tuple[list[str], list[int]]:
    """Split a pattern (less its final " .") into 4 literals around at most 3 slots.

    Slot kinds: 1 {t}, 2 {a}, 3 {d}, 0 none."""
    pieces = re.split(r"(\{[tad]\})", pattern[: -len(" .")])  # every pattern ends with " ."
    literals, kinds = pieces[0::2], [{"{t}": 1, "{a}": 2, "{d}": 3}[s] for s in pieces[1::2]]
    if len(kinds) > 3:
        raise ValueError(f"pattern {pattern!r} has more than 3 slots")
    literals += [""] * (4 - len(literals))
    kinds += [0] * (3 - len(kinds))
    return literals, kinds


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    """n Dirichlet(alpha) rows via normalised gammas (float64, then float32)."""
    g = rng.gamma(alpha, size=(n, alpha.size))
    g /= np.maximum(g.sum(axis=1, keepdims=True), 1e-300)
    return g.astype(np.float32)


def _activity(rng: np.random.Generator, n_entities: int, n_records: int, tail: float) -> np.ndarray:
    """Entity of each record: every entity once, the rest in proportion to capped Pareto weights."""
    weights = np.minimum((1.0 - rng.random(n_entities)) ** (-1.0 / tail), WEIGHT_CAP)
    extra = rng.choice(n_entities, size=max(n_records - n_entities, 0), p=weights / weights.sum())
    out = np.concatenate([np.arange(n_entities), extra])
    rng.shuffle(out)
    return out


def generate(
    preset: Preset | str, domain: str = "restaurant", seed: int = 0
) -> tuple[pa.Table, SyntheticWorld]:
    """Records (canonical schema) and the world that made them; same arguments -> same output."""
    if isinstance(preset, str):
        preset = PRESETS[preset]
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    dom = load_domain(domain)
    rng = np.random.default_rng([int(seed), DOMAINS.index(domain)])
    n_aspects = len(dom.aspects)
    n_users, n_items = preset.n_users, preset.n_items

    # --- the world ---------------------------------------------------------------------------------
    popularity = 1.0 / (rng.permutation(n_aspects) + 2.0) ** 0.8  # some aspects matter to many users
    popularity /= popularity.sum()
    preference = _dirichlet(rng, PREFERENCE_ALPHA * popularity, n_users)
    preference = 0.97 * preference + 0.03 * popularity.astype(np.float32)
    user_bias = rng.normal(0.0, 0.4, n_users).astype(np.float32)
    salience = 0.9 * _dirichlet(rng, np.full(n_aspects, SALIENCE_ALPHA), n_items) + 0.1 / n_aspects
    quality = rng.normal(0.0, 1.0, (n_items, n_aspects)).astype(np.float32)
    item_bias = rng.normal(0.0, 0.4, n_items).astype(np.float32)
    # one to three detail phrases per item, from its most salient aspects (Gumbel top-k)
    n_details = np.array([len(a.details) for a in dom.aspects])
    detail_offset = np.concatenate([[0], np.cumsum(n_details)[:-1]])
    top = np.argsort(-(np.log(salience) + rng.gumbel(size=salience.shape)), axis=1)[:, :3]
    keep = np.arange(3)[None, :] < rng.integers(1, 4, n_items)[:, None]
    detail_aspect = np.where(keep, top, -1)
    pick = (rng.random((n_items, 3)) * n_details[top]).astype(np.int64)
    detail_phrase = np.where(keep, detail_offset[top] + pick, -1)
    rows = np.repeat(np.arange(n_items), 3).reshape(n_items, 3)
    np.add.at(salience, (rows[keep], top[keep]), DETAIL_SALIENCE)  # an item is known for its details
    salience /= salience.sum(axis=1, keepdims=True)
    signature = np.argmax(salience, axis=1)  # what the item is known for
    user_adj_style = rng.integers(0, 1 << 16, n_users)
    user_pattern_style = rng.integers(0, 1 << 16, n_users)
    item_term_style = rng.integers(0, 1 << 16, n_items)
    world = SyntheticWorld(
        dom, int(seed), preference, user_bias, salience, quality, item_bias, detail_aspect, detail_phrase
    )

    # --- who reviews what --------------------------------------------------------------------------
    users = _activity(rng, n_users, preset.n_records, tail=1.6)
    items = _activity(rng, n_items, preset.n_records, tail=1.6)
    n = min(users.size, items.size)
    users, items = users[:n], items[:n]
    _, first = np.unique(users.astype(np.int64) * n_items + items, return_index=True)
    first.sort()  # drop repeated (user, item) pairs, keep the first
    users, items = users[first], items[first]
    n = users.size

    # --- one record each, in chunks to bound memory -------------------------------------------------
    rating = np.empty(n, np.float32)
    aspect = np.empty(n, np.int64)
    sentiment = np.empty(n, np.int8)
    noise = rng.normal(0.0, 0.6, n).astype(np.float32)
    chunk = 1 << 17
    for s in range(0, n, chunk):
        u, i = users[s : s + chunk], items[s : s + chunk]
        pu, si, qi = preference[u], salience[i], quality[i]
        match = np.einsum("ba,ba->b", pu, qi)
        raw = 3.9 + user_bias[u] + item_bias[i] + 1.2 * match + noise[s : s + chunk]
        rating[s : s + chunk] = np.clip(np.rint(raw), 1, 5)
        cum = np.cumsum(pu * si, axis=1)
        r = rng.random(u.size) * cum[:, -1]
        a = np.minimum((cum < r[:, None]).sum(axis=1), n_aspects - 1)
        a = np.where(rng.random(u.size) < ITEM_FOCUS, signature[i], a)
        aspect[s : s + chunk] = a
        z = qi[np.arange(u.size), a] + 0.8 * (rating[s : s + chunk] - 3.5) + rng.normal(0.0, 0.5, u.size)
        sentiment[s : s + chunk] = np.where(z >= 0, 1, -1)

    # surface word of the aspect
    terms_flat = [t for a in dom.aspects for t in a.terms]
    n_terms = np.array([len(a.terms) for a in dom.aspects])
    term_offset = np.concatenate([[0], np.cumsum(n_terms)[:-1]])
    own = item_term_style[items] % n_terms[aspect]
    anyone = (rng.random(n) * n_terms[aspect]).astype(np.int64)
    term = term_offset[aspect] + np.where(rng.random(n) < ITEM_TERM, own, anyone)

    # adjective from the aspect's pool for the sentiment (sometimes the user's favourite slot)
    classes = sorted(ADJECTIVES)
    adj_flat: list[str] = []
    pool_offset = np.zeros((len(classes), 2), np.int64)
    pool_size = np.zeros((len(classes), 2), np.int64)
    for c, cls in enumerate(classes):
        for j, words in enumerate(ADJECTIVES[cls]):  # j 0 positive, 1 negative
            pool_offset[c, j], pool_size[c, j] = len(adj_flat), len(words.split())
            adj_flat.extend(words.split())
    aspect_class = np.array([classes.index(a.adjective_class) for a in dom.aspects])
    cls_of = aspect_class[aspect]
    neg = (sentiment < 0).astype(np.int64)
    size = pool_size[cls_of, neg]
    slot = np.where(
        rng.random(n) < STYLE_ADJECTIVE, user_adj_style[users] % size, (rng.random(n) * size).astype(np.int64)
    )
    adjective = pool_offset[cls_of, neg] + slot

    # the item's detail phrase for this aspect, when it has one
    hit = detail_aspect[items] == aspect[:, None]
    use_detail = hit.any(axis=1) & (rng.random(n) < DETAIL_MENTION)
    details_flat = [d for a in dom.aspects for d in a.details]
    detail = np.where(use_detail, detail_phrase[items, np.argmax(hit, axis=1)], len(details_flat))

    # sentence pattern for (detail?, sentiment), sometimes the user's favourite
    groups = [(False, 1), (False, -1), (True, 1), (True, -1)]
    literals: list[list[str]] = [[], [], [], []]
    kinds: list[list[int]] = [[], [], []]
    group_offset, group_size = np.zeros(4, np.int64), np.zeros(4, np.int64)
    for g, key in enumerate(groups):
        group_offset[g], group_size[g] = len(literals[0]), len(dom.patterns[key])
        for p in dom.patterns[key]:
            lits, ks = _parse_pattern(p)
            for k in range(4):
                literals[k].append(lits[k])
            for k in range(3):
                kinds[k].append(ks[k])
    group = use_detail.astype(np.int64) * 2 + neg
    gsize = group_size[group]
    choice = np.where(
        rng.random(n) < STYLE_PATTERN,
        user_pattern_style[users] % gsize,
        (rng.random(n) * gsize).astype(np.int64),
    )
    pattern = group_offset[group] + choice

    # optional closing clause, inserted before the final " ."
    tails_flat = [""] + list(dom.tails[1]) + list(dom.tails[-1])
    n_pos, n_neg = len(dom.tails[1]), len(dom.tails[-1])
    tail_pick = np.where(
        neg == 1,
        1 + n_pos + (rng.random(n) * n_neg).astype(np.int64),
        1 + (rng.random(n) * n_pos).astype(np.int64),
    )
    tail = np.where(rng.random(n) < TAIL, tail_pick, 0)

    # --- strings, assembled column-wise by Arrow ----------------------------------------------------
    term_col = pa.array(terms_flat).take(pa.array(term))
    adj_col = pa.array(adj_flat).take(pa.array(adjective))
    detail_col = pa.array(details_flat + [""]).take(pa.array(detail))
    empty = pa.array([""]).take(pa.array(np.zeros(n, np.int64)))
    pat = pa.array(pattern)
    lit_cols = [pa.array(literals[k]).take(pat) for k in range(4)]
    tail_col = pa.array([(" " + t if t else "") + " ." for t in tails_flat]).take(pa.array(tail))
    slot_cols = [
        pc.choose(pa.array(np.asarray(kinds[k], np.int8)[pattern]), empty, term_col, adj_col, detail_col)
        for k in range(3)
    ]
    explanation = pc.binary_join_element_wise(
        lit_cols[0],
        slot_cols[0],
        lit_cols[1],
        slot_cols[1],
        lit_cols[2],
        slot_cols[2],
        lit_cols[3],
        tail_col,
        "",
    )
    user_names = pa.array([f"u{k:06d}" for k in range(n_users)])
    item_names = pa.array([f"i{k:06d}" for k in range(n_items)])
    aspect_idx = pa.array(aspect)
    columns = {
        "user_id": user_names.take(pa.array(users)),
        "item_id": item_names.take(pa.array(items)),
        "rating": pa.array(rating, pa.float32()),
        "explanation": explanation,
        "feature": term_col,
        "adjective": adj_col,
        "sentiment": pa.array(sentiment, pa.int8()),
        "aspect": pa.array([a.name for a in dom.aspects]).take(aspect_idx),
        "aspect_terms": pa.array([list(a.terms) for a in dom.aspects], pa.list_(pa.string())).take(
            aspect_idx
        ),
        "detail": detail_col,
    }
    table = pa.Table.from_arrays([columns[c] for c in RECORD_COLUMNS], schema=RECORD_SCHEMA)
    return table, world
