"""Reference-compatible BLEU and ROUGE: the definitions of the bleu.py / rouge.py that PETER, NETE, NRT,
Att2Seq and PEPLER share (lileipisces/PETER, themselves from tensorflow/nmt), re-written as per-example
sufficient statistics so that corpus scores, bootstrap resamples and buckets aggregate them.

- BLEU-n (compute_bleu): corpus-level clipped n-gram matches over orders 1..n, no smoothing, geometric
  mean, brevity penalty exp(1 - 1/ratio) when ratio = c/r <= 1, x100. BLEU-1 has max order 1.
- ROUGE-N (rouge_n): n-gram SETS, P = |common|/|hyp|, R = |common|/|ref|, F = 2PR/(P+R+1e-8).
- ROUGE-L (rouge_l_sentence_level): R = LCS/|ref|, P = LCS/|hyp|, beta = P/(R+1e-12),
  F = (1+beta^2)RP/(R+beta^2 P + 1e-12). Scores are per sentence, averaged, x100.
The reference re-splits the space-joined tokens on " ", so an empty text is one empty token [""].
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

try:
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python implementations

    def _count_elements(mapping: dict, items: Iterable) -> None:
        for x in items:
            mapping[x] = mapping.get(x, 0) + 1


import numpy as np

BLEU_MAX_ORDER = 4
# Per-example BLEU statistics: matches m1..m4, possible p1..p4, hypothesis length, reference length.
BLEU_COLUMNS = (
    tuple(f"bleu_m{o}" for o in range(1, 5))
    + tuple(f"bleu_p{o}" for o in range(1, 5))
    + (
        "bleu_hyp_len",
        "bleu_ref_len",
    )
)
ROUGE_COLUMNS = (
    "rouge1_p",
    "rouge1_r",
    "rouge1_f",
    "rouge2_p",
    "rouge2_r",
    "rouge2_f",
    "rougeL_p",
    "rougeL_r",
    "rougeL_f",
)


def _ngram_counter(tokens: Sequence[str], max_order: int) -> Counter:
    """All n-grams of orders 1..max_order with their counts (bleu.py _get_ngrams)."""
    counts: Counter = Counter()
    n = len(tokens)
    for order in range(1, max_order + 1):
        for i in range(n - order + 1):
            counts[tuple(tokens[i : i + order])] += 1
    return counts


def bleu_stats(ref: Sequence[str], hyp: Sequence[str], max_order: int = BLEU_MAX_ORDER) -> list[float]:
    """Clipped n-gram matches and possible matches per order, then |hyp| and |ref| (one reference)."""
    overlap = _ngram_counter(hyp, max_order) & _ngram_counter(ref, max_order)
    matches = [0] * max_order
    for gram, count in overlap.items():
        matches[len(gram) - 1] += count
    possible = [max(len(hyp) - order + 1, 0) for order in range(1, max_order + 1)]
    return [*matches, *possible, len(hyp), len(ref)]


def bleu_from_sums(
    matches: Sequence[float], possible: Sequence[float], hyp_len: float, ref_len: float, max_order: int
) -> float:
    """Corpus BLEU-max_order x100 from summed statistics (compute_bleu, smooth=False).

    Where the reference divides by zero (no hypothesis or no reference tokens at all) the score is 0.
    """
    if hyp_len <= 0 or ref_len <= 0:
        return 0.0
    precisions = [matches[i] / possible[i] if possible[i] > 0 else 0.0 for i in range(max_order)]
    if min(precisions) > 0:
        geo_mean = math.exp(sum((1.0 / max_order) * math.log(p) for p in precisions))
    else:
        geo_mean = 0.0
    ratio = hyp_len / ref_len
    bp = 1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio)
    return geo_mean * bp * 100.0


def count(items: Iterable[Hashable]) -> dict[Hashable, int]:
    """A plain dict of counts (collections.Counter's C counting loop, without Counter's overhead)."""
    out: dict[Hashable, int] = {}
    _count_elements(out, items)
    return out


def ngram_profile(tokens: Sequence[str], max_order: int = BLEU_MAX_ORDER) -> list[dict]:
    """Counts of the n-grams of each order 1..max_order (unigrams keyed by the token itself)."""
    t = list(tokens)
    grams: list[dict] = [count(t)]
    for order in range(2, max_order + 1):
        grams.append(count(zip(*(t[i:] for i in range(order)))))  # noqa: B905 (ragged on purpose)
    return grams


def bleu_stats_from_profiles(ref: list[dict], hyp: list[dict], ref_len: int, hyp_len: int) -> list[float]:
    """bleu_stats from precomputed n-gram profiles (same numbers, no re-counting)."""
    order = len(hyp)
    matches = [0] * order
    for o in range(order):
        r = ref[o]
        matches[o] = sum(min(c, r[g]) for g, c in hyp[o].items() if g in r)
    possible = [max(hyp_len - o, 0) for o in range(order)]
    return [*matches, *possible, hyp_len, ref_len]


def rouge_stats_from_profiles(
    ref_tokens: Sequence[str], hyp_tokens: Sequence[str], ref: list[dict], hyp: list[dict]
) -> list[float]:
    """rouge_stats from precomputed n-gram profiles: ROUGE-N sets are the profiles' keys."""
    if not ref_tokens or not hyp_tokens:
        return rouge_stats(ref_tokens, hyp_tokens)  # the [""] quirk of empty texts
    out: list[float] = []
    for o in (0, 1):
        h, r = hyp[o], ref[o]
        overlap = len(h.keys() & r.keys())
        precision = overlap / len(h) if h else 0.0
        recall = overlap / len(r) if r else 0.0
        out += [precision, recall, 2.0 * ((precision * recall) / (precision + recall + 1e-8))]
    out += rouge_l_fpr(lcs_length(hyp_tokens, ref_tokens), len(ref_tokens), len(hyp_tokens))
    return out


def bleu_from_sums_batch(
    matches: np.ndarray, possible: np.ndarray, hyp_len: np.ndarray, ref_len: np.ndarray
) -> np.ndarray:
    """bleu_from_sums for many replicates at once: rows of matches/possible are (replicates x order)."""
    order = matches.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        precisions = np.where(possible > 0, matches / np.where(possible > 0, possible, 1), 0.0)
        ok = (precisions > 0).all(axis=1) & (hyp_len > 0) & (ref_len > 0)
        logs = np.where(precisions > 0, np.log(np.where(precisions > 0, precisions, 1.0)), 0.0)
        geo = np.exp((logs / order).sum(axis=1))
        ratio = np.where(ref_len > 0, hyp_len / np.where(ref_len > 0, ref_len, 1), 0.0)
        bp = np.where(ratio > 1.0, 1.0, np.exp(1 - 1.0 / np.where(ratio > 0, ratio, 1.0)))
    return np.where(ok, geo * bp * 100.0, 0.0)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyro 2004): O(|b|) big-int steps.

    Gives the same number as rouge.py's O(|a||b|) dynamic programme (tested against it).
    """
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def _rouge_n(ref_words: Sequence[str], hyp_words: Sequence[str], n: int) -> tuple[float, float, float]:
    hyp_set = {tuple(hyp_words[i : i + n]) for i in range(len(hyp_words) - n + 1)}
    ref_set = {tuple(ref_words[i : i + n]) for i in range(len(ref_words) - n + 1)}
    overlap = len(hyp_set & ref_set)
    precision = overlap / len(hyp_set) if hyp_set else 0.0
    recall = overlap / len(ref_set) if ref_set else 0.0
    f1 = 2.0 * ((precision * recall) / (precision + recall + 1e-8))
    return precision, recall, f1


def rouge_l_fpr(llcs: int, ref_len: int, hyp_len: int) -> tuple[float, float, float]:
    """The reference's _f_p_r_lcs: F with beta = P/R (not a fixed beta), returned as (P, R, F)."""
    r_lcs = llcs / ref_len
    p_lcs = llcs / hyp_len
    beta = p_lcs / (r_lcs + 1e-12)
    num = (1 + (beta**2)) * r_lcs * p_lcs
    denom = r_lcs + ((beta**2) * p_lcs)
    return p_lcs, r_lcs, num / (denom + 1e-12)


def rouge_stats(ref: Sequence[str], hyp: Sequence[str]) -> list[float]:
    """Sentence ROUGE-1/2/L (P, R, F) on [0, 1] as rouge.py computes them (empty text -> [""])."""
    ref_words = list(ref) or [""]
    hyp_words = list(hyp) or [""]
    p1, r1, f1 = _rouge_n(ref_words, hyp_words, 1)
    p2, r2, f2 = _rouge_n(ref_words, hyp_words, 2)
    pl, rl, fl = rouge_l_fpr(lcs_length(hyp_words, ref_words), len(ref_words), len(hyp_words))
    return [p1, r1, f1, p2, r2, f2, pl, rl, fl]
