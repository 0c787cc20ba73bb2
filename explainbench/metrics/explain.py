"""Per-record statistics of the explanation metrics the field reports since 2022 (the `explain` family).

Every statistic is a per-record number that a weighted sum aggregates (metrics/aggregate.py), so the
bootstrap intervals, sparsity buckets and paired tests work for these metrics as for BLEU. Sentences
are the space tokens of the generated text (the dataset's word tokenisation, as for every metric of
the reference family); a sentence "mentions" a feature when one of its tokens is in the dataset's
feature set (the detection of FMR, FCR and DIV).

- Feature precision / recall / F1 (Ariza-Casabona, Boratto and Salamo, RecSys 2024, their `feature_pr`):
  for a record with ground-truth features G and mentioned features M, P = |M & G| / |M| (0 when M is
  empty), R = |M & G| / |G|, F1 = 2PR / (P + R) (0 when both are 0); each is averaged over the records
  that have a ground-truth feature. Here G is the record's one feature (the PETER format's).
- Feature hallucination (the same study, its `feat_miss_ratio`): a mentioned feature is hallucinated
  when none of the item's training records mentions it. The item's feature set is the union, over its
  training records, of the record's own feature and every feature-set word of its explanation (the
  same detection as for generated text; explainbench.data.item_features). Three rates: of all
  mentioned features, the share hallucinated; the share of sentences with at least one; the mean per
  sentence of hallucinated / mentioned (0 for a sentence that mentions none).
- Sentiment alignment: VADER's compound score (vaderSentiment, the lexicon of the data's extractor)
  at its authors' thresholds: >= 0.05 positive, <= -0.05 negative, neutral between. A rating's
  polarity: positive in the top quarter of the rating range (4 and 5 of 1-5), negative in the bottom
  quarter (1 and 2), neutral between. `sent_rating`: the share of records with a non-neutral rating
  whose sentence has the rating's polarity; `sent_ref`: the share of records whose sentence has the
  polarity of the reference sentence (three classes).
- Repetition (Welleck et al. 2020, as the RecSys 2024 study computes them within a sentence): rep/l =
  repeated tokens (tokens minus distinct tokens of a sentence) over all tokens; seq-rep-2 = the mean,
  over sentences with at least one bigram, of 1 - distinct bigrams / bigrams; `top_share` = the share
  of the single most frequent generated sentence.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache

import numpy as np

from explainbench.api.results import Sample

SENTIMENT_THRESHOLD = 0.05  # VADER's documented cut between neutral and polar compound scores
RATING_QUARTER = 0.25  # a rating in the top (bottom) quarter of the range is positive (negative)

FEATURE_COLUMNS = ["feat_has", "feat_p_sum", "feat_r_sum", "feat_f_sum"]
HALLUCINATION_COLUMNS = ["hal_mentioned", "hal_missed", "hal_any", "hal_ratio"]
TEXT_COLUMNS = [
    "sent_rating_hit",
    "sent_rating_has",
    "sent_ref_hit",
    "rep_repeats",
    "seqrep2_sum",
    "seqrep2_has",
]


@lru_cache(maxsize=1)
def _vader():  # noqa: ANN202 - vaderSentiment has no type hints
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def polarity(text: str) -> int:
    """+1, -1 or 0: VADER's compound score of text at the thresholds +-0.05."""
    score = _vader().polarity_scores(text)["compound"]
    if score >= SENTIMENT_THRESHOLD:
        return 1
    if score <= -SENTIMENT_THRESHOLD:
        return -1
    return 0


def rating_polarity(rating: float, rating_range: tuple[float, float]) -> int:
    """+1 in the top quarter of the range, -1 in the bottom quarter, 0 between (1-5: 4-5, 1-2, 3)."""
    lo, hi = rating_range
    x = (float(rating) - lo) / (hi - lo)
    if x >= 1 - RATING_QUARTER:
        return 1
    if x <= RATING_QUARTER:
        return -1
    return 0


def feature_stats(mentioned: Collection[str], truth: str) -> tuple[float, float, float, float]:
    """(has, P, R, F1) of one record: its mentioned features against its ground-truth feature."""
    if not truth:
        return 0.0, 0.0, 0.0, 0.0
    hit = 1.0 if truth in mentioned else 0.0
    p = hit / len(mentioned) if mentioned else 0.0
    r = hit
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return 1.0, p, r, f


def hallucination_stats(
    mentioned: Collection[str], item_set: Collection[str]
) -> tuple[float, float, float, float]:
    """(mentioned, hallucinated, any hallucinated, hallucinated / mentioned) of one sentence."""
    missed = sum(1 for f in mentioned if f not in item_set)
    n = len(mentioned)
    return float(n), float(missed), 1.0 if missed else 0.0, missed / n if n else 0.0


def repetition_stats(tokens: Sequence[str]) -> tuple[float, float, float]:
    """(repeated tokens, seq-rep-2 of the sentence, 1 if it has a bigram) of one sentence."""
    repeats = len(tokens) - len(set(tokens))
    bigrams = list(zip(tokens, tokens[1:]))  # noqa: B905 - shifted by one on purpose
    if not bigrams:
        return float(repeats), 0.0, 0.0
    return float(repeats), 1.0 - len(set(bigrams)) / len(bigrams), 1.0


def text_stats(
    samples: Sequence[Sample], hyps: Sequence[str], rating_range: tuple[float, float]
) -> np.ndarray:
    """TEXT_COLUMNS for every sample: sentiment alignment and repetition (rows x 6)."""
    out = np.zeros((len(samples), len(TEXT_COLUMNS)))
    cache: dict[str, int] = {}

    def pol(text: str) -> int:
        got = cache.get(text)
        if got is None:
            got = cache[text] = polarity(text)
        return got

    for i, s in enumerate(samples):
        hyp = pol(hyps[i])
        rp = rating_polarity(s.rating, rating_range)
        if rp != 0:
            out[i, 0] = 1.0 if hyp == rp else 0.0
            out[i, 1] = 1.0
        out[i, 2] = 1.0 if hyp == pol(s.reference) else 0.0
        out[i, 3:6] = repetition_stats(hyps[i].split())
    return out


def hallucination_rows(
    samples: Sequence[Sample], mentioned: Sequence[Collection[str]], item_sets: Mapping[str, Collection[str]]
) -> np.ndarray:
    """HALLUCINATION_COLUMNS for every sample; an item without training records has an empty set."""
    empty: frozenset[str] = frozenset()
    pairs = zip(samples, mentioned, strict=True)
    rows = [hallucination_stats(m, item_sets.get(s.item_id, empty)) for s, m in pairs]
    return np.array(rows, dtype=np.float64).reshape(len(samples), len(HALLUCINATION_COLUMNS))
