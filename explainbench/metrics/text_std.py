"""Standard-family text metrics: sacreBLEU corpus BLEU and rouge-score ROUGE-1/2/L F with stemming.

sacreBLEU: its own per-segment statistics (BLEU._extract_corpus_statistics, tokeniser 13a, exp
smoothing) aggregated by its own BLEU.compute_bleu, so the value and signature are sacreBLEU's.

rouge-score 0.1.2 (RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)): its tokeniser
(lower-case, non-alphanumerics to spaces, Porter stem of words longer than 3 characters) with a stem
cache, n-gram COUNT overlap (clipped) for ROUGE-N, LCS for ROUGE-L, F = 2PR/(P+R). The scoring is
re-written here for speed (bit-parallel LCS, cached tokens) and tested equal to the package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import version

import numpy as np

from explainbench.metrics.text_ref import count, lcs_length

SACREBLEU_COLUMNS = (
    ("sb_hyp_len", "sb_ref_len")
    + tuple(f"sb_correct{o}" for o in range(1, 5))
    + tuple(f"sb_total{o}" for o in range(1, 5))
)
RS_COLUMNS = ("rs_rouge1", "rs_rouge2", "rs_rougeL")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VALID = re.compile(r"^[a-z0-9]+$")


def sacrebleu_signature() -> str:
    """sacreBLEU's own signature for corpus_bleu defaults (equal to BLEU().get_signature(), tested)."""
    return f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{version('sacrebleu')}"


def _sacrebleu_metric():
    from sacrebleu.metrics import BLEU

    # force=True only silences the "looks tokenised" warning; it does not change any number.
    return BLEU(force=True)


def sacrebleu_stats(refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
    """Per-segment [hyp_len, ref_len, correct1..4, total1..4] exactly as sacreBLEU extracts them."""
    if not hyps:
        return np.zeros((0, len(SACREBLEU_COLUMNS)))
    stats = _sacrebleu_metric()._extract_corpus_statistics(list(hyps), [list(refs)])
    return np.asarray(stats, dtype=np.float64)


class Sacrebleu13a:
    """sacreBLEU's 13a tokeniser as BLEU applies it (on the right-stripped segment), with a cache."""

    def __init__(self) -> None:
        from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

        self._tok = Tokenizer13a()
        self._texts: dict[str, list[str]] = {}

    def tokens(self, text: str) -> list[str]:
        out = self._texts.get(text)
        if out is None:
            out = text.split()
            # 13a only splits off punctuation and unescapes entities: where every token is alphanumeric
            # or a single character, it returns the same tokens (tested against sacreBLEU's own)
            if not all(w.isalnum() or len(w) == 1 for w in out):
                out = self._tok(text.rstrip()).split()
            if len(self._texts) < 500_000:
                self._texts[text] = out
        return out


def sacrebleu_from_sums(sums: Sequence[float]) -> float:
    """sacreBLEU corpus BLEU (0-100) from summed segment statistics (BLEU.compute_bleu, exp smoothing)."""
    from sacrebleu.metrics import BLEU

    ints = [int(round(x)) for x in sums]
    score = BLEU.compute_bleu(
        correct=ints[2:6], total=ints[6:10], sys_len=ints[0], ref_len=ints[1], smooth_method="exp"
    )
    return float(score.score)


def sacrebleu_from_sums_batch(sums: np.ndarray) -> np.ndarray:
    """sacrebleu_from_sums for many replicates (rows of [sys_len, ref_len, correct1..4, total1..4]).

    BLEU.compute_bleu with exp smoothing, vectorised: a zero-match order n gets 100 / (2^k total_n),
    k counting the zero-match orders so far; an order with no n-grams scores 0 (log -> -1e10).
    """
    sys_len, ref_len = sums[:, 0], sums[:, 1]
    correct, total = sums[:, 2:6], sums[:, 6:10]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(
            sys_len < ref_len,
            np.where(sys_len > 0, np.exp(1 - ref_len / np.where(sys_len > 0, sys_len, 1)), 0.0),
            1.0,
        )
        zero = (correct == 0) & (total > 0)
        smooth = 2.0 ** np.cumsum(zero, axis=1)
        safe_total = np.where(total > 0, total, 1.0)
        prec = np.where(correct > 0, 100.0 * correct / safe_total, 100.0 / (smooth * safe_total))
        prec = np.where(total > 0, prec, 0.0)
        score = bp * np.exp(np.log(np.where(prec > 0, prec, 1.0)).sum(axis=1) / 4)
    score = np.where((prec > 0).all(axis=1), score, 0.0)
    return np.where(correct.sum(axis=1) > 0, score, 0.0)


class RougeScoreTokenizer:
    """rouge_score.tokenize.tokenize(text, PorterStemmer()) with a text and stem cache; also caches each
    text's unigram and bigram counts."""

    def __init__(self) -> None:
        from nltk.stem.porter import PorterStemmer

        self._stemmer = PorterStemmer()
        self._stems: dict[str, str] = {}
        self._texts: dict[str, tuple[tuple[str, ...], dict, dict]] = {}

    def stem(self, word: str) -> str:
        out = self._stems.get(word)
        if out is None:
            out = self._stems[word] = self._stemmer.stem(word)
        return out

    def tokenize(self, text: str) -> tuple[str, ...]:
        return self.profile(text)[0]

    def profile(self, text: str) -> tuple[tuple[str, ...], dict, dict]:
        """Tokens, unigram counts, bigram counts of a text (cached)."""
        out = self._texts.get(text)
        if out is None:
            words = _NON_ALNUM.sub(" ", text.lower()).split()
            words = [self.stem(w) if len(w) > 3 else w for w in words]
            tokens = tuple(w for w in words if _VALID.match(w))
            out = (tokens, count(tokens), count(zip(tokens, tokens[1:])))  # noqa: B905
            if len(self._texts) < 500_000:
                self._texts[text] = out
        return out


def _fmeasure(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _rouge_n_f(ref: dict, hyp: dict) -> float:
    """rouge_scorer._score_ngrams F: clipped count overlap, P = overlap / max(|hyp|, 1), R likewise."""
    overlap = sum(min(c, ref[g]) for g, c in hyp.items() if g in ref)
    precision = overlap / max(sum(hyp.values()), 1)
    recall = overlap / max(sum(ref.values()), 1)
    return _fmeasure(precision, recall)


def rs_rouge_stats(tokenizer: RougeScoreTokenizer, ref: str, hyp: str) -> list[float]:
    """rouge-score F of ROUGE-1, ROUGE-2, ROUGE-L for one pair, on [0, 1]."""
    ref_t, ref1, ref2 = tokenizer.profile(ref)
    hyp_t, hyp1, hyp2 = tokenizer.profile(hyp)
    if ref_t and hyp_t:
        lcs = lcs_length(ref_t, hyp_t)
        f_l = _fmeasure(lcs / len(hyp_t), lcs / len(ref_t))
    else:
        f_l = 0.0
    return [_rouge_n_f(ref1, hyp1), _rouge_n_f(ref2, hyp2), f_l]
