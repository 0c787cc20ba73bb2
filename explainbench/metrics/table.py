"""Build a StatTable from samples: every text is scored once, here, into per-example statistics.

Reference family tokens are `text.split()` (the texts are space-tokenised); rouge-score and sacreBLEU
tokenise the raw text themselves. Text statistics run in 2 forked processes for large inputs.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from explainbench.api.results import Sample
from explainbench.metrics.bertscore import BertScorer
from explainbench.metrics.errors import MetricsError
from explainbench.metrics.explain import (
    FEATURE_COLUMNS,
    HALLUCINATION_COLUMNS,
    TEXT_COLUMNS,
    feature_stats,
    hallucination_rows,
    text_stats,
)
from explainbench.metrics.meteor import MeteorScorer
from explainbench.metrics.plugins import column as plugin_column
from explainbench.metrics.plugins import plugin_scores
from explainbench.metrics.registry import IMPL_VERSIONS, PLUGIN_ERRORS, PLUGINS, check_families
from explainbench.metrics.stats import Interner, Membership, StatTable
from explainbench.metrics.text_ref import (
    BLEU_COLUMNS,
    ROUGE_COLUMNS,
    bleu_stats_from_profiles,
    ngram_profile,
    pair_stats,
)
from explainbench.metrics.text_std import (
    RS_COLUMNS,
    SACREBLEU_COLUMNS,
    RougeScoreTokenizer,
    Sacrebleu13a,
    rs_rouge_stats,
)

PARALLEL_MIN_ROWS = 20_000  # below this, forking costs more than it saves
_BLOCK_ROWS = 5_000

# Process-wide state, set before forking so that workers inherit the loaded WordNet and caches.
_METEOR: MeteorScorer | None = None
_RS_TOKENIZER: RougeScoreTokenizer | None = None
_SB_TOKENIZER: Sacrebleu13a | None = None


@dataclass
class Interners:
    """Type ids shared by every table that is compared with another (paired tests)."""

    sentence: Interner = field(default_factory=Interner)
    feature: Interner = field(default_factory=Interner)
    unigram: Interner = field(default_factory=Interner)
    bigram: Interner = field(default_factory=Interner)
    user: Interner = field(default_factory=Interner)


_BERT_SCORERS: dict[str, BertScorer] = {}


def bert_scorer(model: str) -> BertScorer:
    """The process's BERTScore model `model` (loaded once)."""
    if model not in _BERT_SCORERS:
        _BERT_SCORERS[model] = BertScorer(model)
    return _BERT_SCORERS[model]


def meteor_scorer() -> MeteorScorer:
    """The process's METEOR scorer (loads WordNet once)."""
    global _METEOR
    if _METEOR is None:
        _METEOR = MeteorScorer()
    return _METEOR


def _rs_tokenizer() -> RougeScoreTokenizer:
    global _RS_TOKENIZER
    if _RS_TOKENIZER is None:
        _RS_TOKENIZER = RougeScoreTokenizer()
    return _RS_TOKENIZER


def _sb_tokenizer() -> Sacrebleu13a:
    global _SB_TOKENIZER
    if _SB_TOKENIZER is None:
        _SB_TOKENIZER = Sacrebleu13a()
    return _SB_TOKENIZER


@dataclass(frozen=True)
class TextColumns:
    """Which text statistics a block computes: the reference family's BLEU and ROUGE, the standard
    family's rouge-score and sacreBLEU, and METEOR (standard, where WordNet is there)."""

    reference: bool = True
    standard: bool = True
    meteor: bool = False

    def names(self) -> list[str]:
        out: list[str] = []
        if self.reference:
            out += BLEU_COLUMNS + ROUGE_COLUMNS
        if self.standard:
            out += RS_COLUMNS
            if self.meteor:
                out.append("meteor")
            out += SACREBLEU_COLUMNS
        return out


def _text_block(args: tuple[list[str], list[str], TextColumns]) -> np.ndarray:
    """BLEU, ROUGE (reference), rouge-score, [METEOR], sacreBLEU statistics for a block of pairs.

    BLEU and ROUGE of the space tokens come from text_ref.pair_stats (all pairs of the block at once);
    sacreBLEU's segment statistics are those BLEU statistics wherever its 13a tokens equal the space
    tokens (same definition, tested equal to sacreBLEU's own extraction). Only the families asked for
    are computed: the reference family alone never loads rouge-score's stemmer (NLTK), sacreBLEU or
    WordNet.
    """
    refs, hyps, cols = args
    ref_tokens = [r.split() for r in refs]
    hyp_tokens = [h.split() for h in hyps]
    bleu, rouge = pair_stats(ref_tokens, hyp_tokens, with_rouge=cols.reference)
    parts = [bleu, rouge] if cols.reference else []
    if cols.standard:
        rs_tok, sb_tok = _rs_tokenizer(), _sb_tokenizer()
        scorer = meteor_scorer() if cols.meteor else None
        rows = []
        for k, (ref, hyp) in enumerate(zip(refs, hyps, strict=True)):
            rt, ht = ref_tokens[k], hyp_tokens[k]
            row = rs_rouge_stats(rs_tok, ref, hyp)
            if scorer is not None:
                row.append(scorer.score(rt, ht))
            rsb, hsb = sb_tok.tokens(ref), sb_tok.tokens(hyp)
            if rsb == rt and hsb == ht:
                sb = bleu[k].tolist()
            else:
                sb = bleu_stats_from_profiles(ngram_profile(rsb), ngram_profile(hsb), len(rsb), len(hsb))
            rows.append(row + [sb[8], sb[9], *sb[0:4], *sb[4:8]])
        width = len(RS_COLUMNS) + (1 if cols.meteor else 0) + len(SACREBLEU_COLUMNS)
        parts.append(np.asarray(rows, dtype=np.float64).reshape(len(refs), width))
    out = np.hstack(parts) if parts else np.zeros((len(refs), 0))
    assert out.shape[1] == len(cols.names())
    return out


def auto_workers(n: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, int(workers))
    if n < PARALLEL_MIN_ROWS or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(2, os.cpu_count() or 1))


class TextJob:
    """The text statistics of all pairs, started at construction. With workers > 1 they run in forked
    processes while the caller does its own share (the set statistics); result() waits for them."""

    def __init__(self, refs: list[str], hyps: list[str], cols: TextColumns, workers: int) -> None:
        self._blocks = [
            (refs[i : i + _BLOCK_ROWS], hyps[i : i + _BLOCK_ROWS], cols)
            for i in range(0, len(refs), _BLOCK_ROWS)
        ]
        self._pool = None
        self._pending = None
        if workers > 1 and len(self._blocks) > 1:
            if cols.standard:  # load the tokenisers (and WordNet) before forking: the workers share them
                _rs_tokenizer()
                _sb_tokenizer()
                if cols.meteor:
                    meteor_scorer()
            self._pool = multiprocessing.get_context("fork").Pool(workers)
            self._pending = self._pool.map_async(_text_block, self._blocks, chunksize=1)

    def result(self) -> np.ndarray:
        if self._pool is None:
            return np.vstack([_text_block(b) for b in self._blocks])
        try:
            return np.vstack(self._pending.get())
        finally:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def cancel(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _phrase_in(phrase: Sequence[str], tokens: Sequence[str]) -> bool:
    k = len(phrase)
    if k == 0 or k > len(tokens):
        return False
    if k == 1:
        return phrase[0] in tokens
    first = phrase[0]
    return any(
        tokens[i] == first and list(tokens[i : i + k]) == list(phrase) for i in range(len(tokens) - k + 1)
    )


def validate_samples(samples: Sequence[Sample], what: str = "samples") -> None:
    if len(samples) == 0:
        raise MetricsError(f"no {what} to score: the list is empty")
    for i, s in enumerate(samples):
        if not isinstance(s.reference, str) or not isinstance(s.generated, str):
            raise MetricsError(
                f"{what}[{i}] (user {s.user_id!r}, item {s.item_id!r}): reference and generated "
                "must be strings"
            )


def build_table(
    samples: Sequence[Sample],
    *,
    feature_set: Collection[str] | None,
    rating_range: tuple[float, float],
    meteor: bool,
    interners: Interners | None = None,
    workers: int | None = None,
    families: Collection[str] | None = None,
    item_features: Mapping[str, Collection[str]] | None = None,
    bertscore: str | None = None,
) -> tuple[StatTable, str | None]:
    """Score every sample once; returns the table and, if METEOR was asked for but is missing, why.

    families: the metric families to compute (registry.FAMILIES; None: all). The statistics of the
    other families are not computed at all (their packages are not even imported).
    item_features: each item's features in the training data (explainbench.data.item_features), the
    reference of feature hallucination; None skips the hal_* metrics.
    bertscore: the BERTScore model (a Hub id or a folder) for the explain family's `bertscore`; None
    leaves it out. Where it cannot be loaded the table's `unavailable` says why.
    """
    chosen = check_families(families)
    if "plugin" in chosen and PLUGIN_ERRORS:  # a broken metric plugin: no results without its metric
        raise MetricsError(PLUGIN_ERRORS[0])
    validate_samples(samples)
    interners = interners or Interners()
    n = len(samples)
    unavailable = None
    with_meteor = False
    if meteor and "standard" in chosen:
        unavailable = meteor_scorer().unavailable
        with_meteor = unavailable is None
    predicted = [s.predicted_rating for s in samples]
    has_rating = any(p is not None for p in predicted)
    if has_rating and any(p is None for p in predicted):
        first = next(i for i, p in enumerate(predicted) if p is None)
        raise MetricsError(
            f"samples[{first}] (user {samples[first].user_id!r}, item {samples[first].item_id!r}) has no "
            "predicted_rating while others do: give every sample a prediction or none"
        )
    hyps = [s.generated for s in samples]
    cols = TextColumns(reference="reference" in chosen, standard="standard" in chosen, meteor=with_meteor)
    # the reference family alone is vectorised (text_ref.pair_stats): forking costs more than it saves
    text_workers = auto_workers(n, workers) if workers is not None or cols.standard else 1
    job = TextJob([s.reference for s in samples], hyps, cols, text_workers)
    try:
        table = _finish_table(
            samples, hyps, job, cols, chosen, feature_set, rating_range, has_rating, interners, item_features,
            bertscore,
        )
    except BaseException:
        job.cancel()
        raise
    return table, unavailable


def _finish_table(
    samples: Sequence[Sample],
    hyps: list[str],
    job: TextJob,
    cols: TextColumns,
    families: frozenset[str],
    feature_set: Collection[str] | None,
    rating_range: tuple[float, float],
    has_rating: bool,
    interners: Interners,
    item_features: Mapping[str, Collection[str]] | None = None,
    bertscore: str | None = None,
) -> StatTable:
    """The set statistics (done here, in the caller, so that type ids are shared across tables), then
    the text statistics from the job. USR, FMR/FCR/DIV and RMSE/MAE belong to the reference family,
    distinct-n to the standard family: a family left out costs nothing here."""
    n = len(samples)
    columns = cols.names()
    flags = {"text"} | ({"meteor"} if cols.meteor else set())
    with_ref, with_std, with_synthetic = cols.reference, cols.standard, "synthetic" in families
    with_explain = "explain" in families
    feats = frozenset(feature_set) if feature_set is not None and (with_ref or with_explain) else None
    mentioned: list[frozenset[str]] = []
    has_rating = has_rating and with_ref
    sentence_ids, feature_rows, unigram_rows, bigram_rows = [], [], [], []
    # fmr hit, squared / absolute rating error, aspect + detail hit/has, counts: unigrams, bigrams, features
    extra = np.zeros((n, 10))
    lo, hi = rating_range
    sent_ids, uni_ids, bi_ids = interners.sentence.ids, interners.unigram.ids, interners.bigram.ids
    for i, s in enumerate(samples):
        tokens = hyps[i].split()
        if with_ref or with_explain:
            sentence_ids.append((sent_ids.setdefault(tuple(tokens), len(sent_ids)),))
        if with_std:
            unigram_rows.append({uni_ids.setdefault(t, len(uni_ids)) for t in tokens})
            bigram_rows.append({bi_ids.setdefault(g, len(bi_ids)) for g in zip(tokens, tokens[1:])})  # noqa: B905
        extra[i, 7] = len(tokens)
        extra[i, 8] = max(len(tokens) - 1, 0)
        if feats is not None:
            found = frozenset(t for t in tokens if t in feats)
            mentioned.append(found)
            feature_rows.append({interners.feature(t) for t in found})
            extra[i, 9] = len(found)
            extra[i, 0] = 1.0 if s.feature in found else 0.0
        if has_rating:
            p = min(max(float(s.predicted_rating), lo), hi)
            err = p - float(s.rating)
            extra[i, 1], extra[i, 2] = err * err, abs(err)
        if s.aspect_terms and with_synthetic:
            lowered = [t.lower() for t in tokens]
            extra[i, 4] = 1.0
            extra[i, 3] = float(any(_phrase_in(term.lower().split(), lowered) for term in s.aspect_terms))
        if with_synthetic and s.detail.strip():
            lowered = [t.lower() for t in tokens]
            extra[i, 6] = 1.0
            extra[i, 5] = float(_phrase_in(s.detail.lower().split(), lowered))
    columns += [
        "fmr",
        "rating_sq",
        "rating_abs",
        "aspect_hit",
        "aspect_has",
        "detail_hit",
        "detail_has",
        "n_unigrams",
        "n_bigrams",
        "n_features",
    ]
    parts = [job.result(), extra]
    if with_explain:
        flags.add("explain")
        columns += TEXT_COLUMNS
        parts.append(text_stats(samples, hyps, rating_range))
        if feats is not None:
            columns += FEATURE_COLUMNS
            rows = [feature_stats(m, s.feature) for s, m in zip(samples, mentioned, strict=True)]
            parts.append(np.array(rows, dtype=np.float64).reshape(n, len(FEATURE_COLUMNS)))
            if item_features is not None:
                flags.add("hallucination")
                columns += HALLUCINATION_COLUMNS
                parts.append(hallucination_rows(samples, mentioned, item_features))
    signatures: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    if with_explain and bertscore:
        scorer = bert_scorer(bertscore)
        if scorer.unavailable:
            unavailable["bertscore"] = scorer.unavailable
        else:
            flags.add("bertscore")
            columns.append("bertscore_f")
            parts.append(scorer.f1([s.reference for s in samples], hyps)[:, None])
            signatures["bertscore"] = f"{scorer.signature}|impl_v:{IMPL_VERSIONS['bertscore']}"
    if "plugin" in families and PLUGINS:
        flags.add("plugin")
        for name, metric in PLUGINS.items():
            columns.append(plugin_column(name))
            parts.append(plugin_scores(name, metric, samples)[:, None])
    memberships: dict[str, Membership] = {}
    if with_ref or with_explain:
        memberships["sentence"] = Membership.from_rows(sentence_ids)
    if with_std:
        memberships["unigram"] = Membership.from_rows(unigram_rows)
        memberships["bigram"] = Membership.from_rows(bigram_rows)
    if feats is not None:
        flags.add("features")
        memberships["feature"] = Membership.from_rows(feature_rows)
    if has_rating:
        flags.add("rating")
    if extra[:, 4].any():
        flags.add("aspect")
    if extra[:, 6].any():
        flags.add("detail")
    return StatTable(
        columns=tuple(columns),
        dense=np.hstack(parts),
        memberships=memberships,
        n_feature_set=len(feats) if feats is not None else 0,
        unit=np.asarray([interners.user(s.user_id) for s in samples], dtype=np.int64),
        flags=frozenset(flags),
        families=families,
        signatures=signatures,
        unavailable=unavailable,
    )
