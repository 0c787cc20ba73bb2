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
from itertools import chain

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


# ---------------------------------------------------------------------------------------------------
# Many pairs at once: the same statistics as bleu_stats / rouge_stats, from token-equality matrices.

_CHUNK_CELLS = 4_000_000  # pairs x longest hypothesis x longest reference per chunk (bool matrices)
_LCS_BITS = 63  # references up to this many tokens take the vectorised LCS (one uint64 mask per token)


class _Tokens:
    """The token ids of many texts, end to end (`flat`), with each text's start and length."""

    def __init__(self, flat: np.ndarray, lengths: np.ndarray) -> None:
        self.flat, self.lengths = flat, lengths
        self.starts = np.cumsum(lengths) - lengths

    def padded(self, rows: np.ndarray, fill: int) -> tuple[np.ndarray, np.ndarray]:
        """The ids of the given texts, right-padded with `fill`, and their lengths."""
        lengths = self.lengths[rows]
        out = np.full((len(rows), max(int(lengths.max(initial=0)), 1)), fill, dtype=np.int64)
        total = int(lengths.sum())
        if total:
            row_of = np.repeat(np.arange(len(rows)), lengths)
            col_of = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            out[row_of, col_of] = self.flat[self.starts[rows][row_of] + col_of]
        return out, lengths


def _token_ids(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]]) -> tuple[_Tokens, _Tokens]:
    """Both sides' tokens as ids of one shared vocabulary."""
    ref_flat = list(chain.from_iterable(refs))
    hyp_flat = list(chain.from_iterable(hyps))
    vocab = {t: i for i, t in enumerate(dict.fromkeys(chain(ref_flat, hyp_flat)))}
    out = []
    for flat, texts in ((ref_flat, refs), (hyp_flat, hyps)):
        ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        out.append(_Tokens(ids, np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))))
    return out[0], out[1]


_BYTE_BITS = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)


def _popcount(v: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (numpy < 2 has no bitwise_count)."""
    return _BYTE_BITS[np.ascontiguousarray(v).view(np.uint8).reshape(len(v), 8)].sum(axis=1)


def _earlier_equal(eq: np.ndarray) -> np.ndarray:
    """For each position i, how many positions j < i hold the same n-gram (eq: rows x L x L)."""
    size = eq.shape[1]
    return np.count_nonzero(eq & np.tri(size, size, -1, dtype=bool), axis=2)


def _chunk_stats(
    hyps: Sequence[Sequence[str]],
    refs: Sequence[Sequence[str]],
    h_tok: _Tokens,
    r_tok: _Tokens,
    rows: np.ndarray,
    with_rouge: bool = True,
) -> tuple[np.ndarray, ...]:
    """BLEU matches per order, ROUGE-1/2 distinct-set sizes and overlaps, LCS for one chunk of pairs.

    H x R equality of unigrams gives, for every order o, equality of o-grams (AND along the diagonal);
    a hypothesis o-gram at i is a clipped match when fewer earlier hypothesis positions hold it than
    the reference holds (sum over the first min(count_h, count_r) occurrences = min(count_h, count_r)).
    """
    H, h_len = h_tok.padded(rows, -1)
    R, r_len = r_tok.padded(rows, -2)
    c = len(rows)
    e_hr1 = H[:, :, None] == R[:, None, :]
    e_hh1 = H[:, :, None] == H[:, None, :]
    e_rr1 = R[:, :, None] == R[:, None, :]
    e_hr, e_hh, e_rr = e_hr1, e_hh1, e_rr1
    matches = np.zeros((c, BLEU_MAX_ORDER), dtype=np.int64)
    sets = np.zeros((c, 2, 3), dtype=np.int64)  # order 1, 2 x (|hyp set|, |ref set|, |common|)
    for o in range(1, BLEU_MAX_ORDER + 1):
        if o > 1:
            if e_hr.shape[1] < 2 or e_hr.shape[2] < 2:
                break  # no o-gram on one side of any pair of the chunk
            e_hr = e_hr[:, :-1, :-1] & e_hr1[:, o - 1 :, o - 1 :]
            e_hh = e_hh[:, :-1, :-1] & e_hh1[:, o - 1 :, o - 1 :]
            e_rr = e_rr[:, :-1, :-1] & e_rr1[:, o - 1 :, o - 1 :]
        valid_h = np.arange(e_hr.shape[1]) + o <= h_len[:, None]
        valid_r = np.arange(e_hr.shape[2]) + o <= r_len[:, None]
        # reference count of hypothesis gram i (a reference position past its text never equals a
        # hypothesis gram that is inside its own: the paddings differ from every id and from each other)
        in_ref = np.count_nonzero(e_hr, axis=2)
        seen = _earlier_equal(e_hh)  # earlier occurrences of the same gram in the hypothesis
        matches[:, o - 1] = (valid_h & (seen < in_ref)).sum(axis=1)
        if o <= 2 and with_rouge:
            first_h = valid_h & (seen == 0)
            first_r = valid_r & (_earlier_equal(e_rr) == 0)
            sets[:, o - 1] = np.stack(
                [first_h.sum(axis=1), first_r.sum(axis=1), (first_h & (in_ref > 0)).sum(axis=1)], axis=1
            )
    lcs = np.zeros(c, dtype=np.int64)
    if not with_rouge:
        pass
    elif R.shape[1] <= _LCS_BITS:  # bit-parallel LCS (lcs_length), all pairs at once: bit j = reference j
        shifts = np.arange(R.shape[1], dtype=np.uint64)
        bits = (e_hr1.astype(np.uint64) << shifts).sum(axis=2, dtype=np.uint64)
        full = (np.uint64(1) << r_len.astype(np.uint64)) - np.uint64(1)
        v = full.copy()
        for i in range(H.shape[1]):  # past a hypothesis' end its mask is 0 and v stays
            u = v & bits[:, i]
            v = ((v + u) | (v - u)) & full
        lcs = r_len - _popcount(v)
    else:
        for k, r in enumerate(rows):
            lcs[k] = lcs_length(hyps[r], refs[r])
    return matches, sets, lcs, h_len, r_len


def pair_stats(
    refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]], with_rouge: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """bleu_stats and rouge_stats of every (reference, hypothesis) pair of tokens: arrays (pairs x 10),
    (pairs x 9), the same numbers as the per-pair functions (tested), computed chunk by chunk with
    numpy instead of one Python n-gram count per text (about 4x faster). with_rouge=False leaves the
    ROUGE array zero (BLEU only)."""
    n = len(refs)
    bleu = np.zeros((n, len(BLEU_COLUMNS)))
    rouge = np.zeros((n, len(ROUGE_COLUMNS)))
    if n == 0:
        return bleu, rouge
    r_tok, h_tok = _token_ids(refs, hyps)
    h_len, r_len = h_tok.lengths, r_tok.lengths
    width = np.maximum(np.maximum(h_len, r_len), 1)
    order = np.argsort(width, kind="stable")  # similar lengths together: little padding
    start = 0
    while start < n:
        # the chunk grows while rows x (its widest pair)^2 stays within the budget (at least one row)
        stop = start + 1
        while stop < n and (stop + 1 - start) * int(width[order[stop]]) ** 2 <= _CHUNK_CELLS:
            stop += 1
        rows = order[start:stop]
        matches, sets, lcs, hl, rl = _chunk_stats(hyps, refs, h_tok, r_tok, rows, with_rouge)
        possible = np.maximum(hl[:, None] - np.arange(BLEU_MAX_ORDER)[None, :], 0)
        bleu[rows] = np.hstack([matches, possible, hl[:, None], rl[:, None]])
        start = stop
        if not with_rouge:
            continue
        cols = []
        for o in (0, 1):
            nh, nr, common = (sets[:, o, k].astype(np.float64) for k in range(3))
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(nh > 0, common / np.where(nh > 0, nh, 1.0), 0.0)
                r = np.where(nr > 0, common / np.where(nr > 0, nr, 1.0), 0.0)
            cols += [p, r, 2.0 * ((p * r) / (p + r + 1e-8))]
        rouge[rows, :6] = np.stack(cols, axis=1)
        # ROUGE-L in Python floats, operation for operation as rouge_l_fpr (x**2 is C's pow there)
        rouge[rows, 6:] = [
            rouge_l_fpr(lc, a, b) if a and b else (0.0, 0.0, 0.0)
            for lc, a, b in zip(lcs.tolist(), rl.tolist(), hl.tolist(), strict=True)
        ]
        for row in rows[(hl == 0) | (rl == 0)].tolist():
            rouge[row] = rouge_stats(refs[row], hyps[row])  # the [""] quirk of empty texts
    return bleu, rouge
