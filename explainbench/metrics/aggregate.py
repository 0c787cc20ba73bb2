"""Metric values from a StatTable under example weights W (replicates x rows).

W = ones gives the corpus value; bootstrap and paired tests pass resample counts. Every zero
denominator has a defined value (documented in docs/metrics.md), so no NaN can come out:
BLEU with no hypothesis or reference tokens -> 0; DIV with fewer than 2 outputs -> 0; distinct-n with
no n-grams -> 0; a specificity share with no example carrying the aspect/detail -> 0.
"""

from __future__ import annotations

import numpy as np

from explainbench.metrics.plugins import column as plugin_column
from explainbench.metrics.registry import METRICS
from explainbench.metrics.stats import StatTable, Weights
from explainbench.metrics.text_ref import bleu_from_sums, bleu_from_sums_batch
from explainbench.metrics.text_std import sacrebleu_from_sums, sacrebleu_from_sums_batch


def available_metrics(table: StatTable) -> list[str]:
    """The registry's metrics that this table can compute (its inputs and families), in registry order."""
    return [
        name for name, spec in METRICS.items() if spec.needs in table.flags and spec.family in table.families
    ]


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


# Metrics that are one weighted column over another: name -> (numerator, denominator, scale), where a
# denominator of None is the number of examples (the weighted count n). The rest are computed below.
RATIOS: dict[str, tuple[str, str | None, float]] = {
    **{f"{stem}_{part}": (f"{stem}_{part}", None, 100.0) for stem in ("rouge1", "rouge2", "rougeL")
       for part in "prf"},
    **{name: (name, None, 100.0) for name in ("rs_rouge1", "rs_rouge2", "rs_rougeL", "meteor")},
    "fmr": ("fmr", None, 1.0),
    "mae": ("rating_abs", None, 1.0),
    "spec_aspect": ("aspect_hit", "aspect_has", 1.0),
    "spec_detail": ("detail_hit", "detail_has", 1.0),
    # the explain family (metrics/explain.py): weighted sums of per-record statistics
    "feat_p": ("feat_p_sum", "feat_has", 1.0),
    "feat_r": ("feat_r_sum", "feat_has", 1.0),
    "feat_f": ("feat_f_sum", "feat_has", 1.0),
    "hal_feat": ("hal_missed", "hal_mentioned", 1.0),
    "hal_sent": ("hal_any", None, 1.0),
    "hal_mean": ("hal_ratio", None, 1.0),
    "sent_rating": ("sent_rating_hit", "sent_rating_has", 1.0),
    "sent_ref": ("sent_ref_hit", None, 1.0),
    "rep_l": ("rep_repeats", "n_unigrams", 1.0),
    "seq_rep_2": ("seqrep2_sum", "seqrep2_has", 1.0),
    "bertscore": ("bertscore_f", None, 1.0),
}


def compute_metrics(table: StatTable, W: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Each metric's value per replicate (row of W)."""
    names = available_metrics(table) if names is None else names
    wanted = set(names)
    wt = Weights(W)
    S = (W @ table.dense_as(W.dtype)).astype(np.float64)
    n = W.sum(axis=1, dtype=np.float64)
    col = {c: S[:, i] for i, c in enumerate(table.columns)}
    out: dict[str, np.ndarray] = {}

    single = W.shape[0] == 1  # the corpus value: the reference's scalar arithmetic, exactly
    for name, order in (("bleu1", 1), ("bleu4", 4)):
        if name in wanted:
            m = np.stack([col[f"bleu_m{o}"] for o in range(1, order + 1)], axis=1)
            p = np.stack([col[f"bleu_p{o}"] for o in range(1, order + 1)], axis=1)
            hyp_len, ref_len = col["bleu_hyp_len"], col["bleu_ref_len"]
            if single:
                out[name] = np.array([bleu_from_sums(m[0], p[0], hyp_len[0], ref_len[0], order)])
            else:
                out[name] = bleu_from_sums_batch(m, p, hyp_len, ref_len)
    for name in wanted & RATIOS.keys():
        numerator, denominator, scale = RATIOS[name]
        out[name] = _safe_div(col[numerator], n if denominator is None else col[denominator]) * scale
    if "sacrebleu" in wanted:
        sb_cols = [table.col(c) for c in table.columns if c.startswith("sb_")]
        sb = S[:, sb_cols]
        out["sacrebleu"] = np.array([sacrebleu_from_sums(sb[0])]) if single else sacrebleu_from_sums_batch(sb)
    if "usr" in wanted:
        out["usr"] = _safe_div(table.memberships["sentence"].present(wt), n)
    if "distinct1" in wanted:
        out["distinct1"] = _safe_div(table.memberships["unigram"].present(wt), col["n_unigrams"])
    if "distinct2" in wanted:
        out["distinct2"] = _safe_div(table.memberships["bigram"].present(wt), col["n_bigrams"])
    if "fcr" in wanted:
        out["fcr"] = table.memberships["feature"].present(wt) / table.n_feature_set
    if "div" in wanted:
        # sum over pairs i<j of |F_i & F_j| = sum over features f of C(count_f, 2)  (sets, as the reference).
        # Under resampling weights, pairs of two copies of the same example are left out (a U-statistic):
        # subtract sum_i C(w_i, 2) |F_i| above and sum_i C(w_i, 2) pairs below; with w = 1 nothing changes.
        c = table.memberships["feature"].counts(wt)
        shared = (c * (c - 1) / 2).sum(axis=1)
        pairs = n * (n - 1) / 2
        if not single:
            self_pairs = W * (W - 1) / 2
            shared = shared - (self_pairs @ table.dense_as(W.dtype)[:, table.col("n_features")]).astype(
                np.float64
            )
            pairs = pairs - self_pairs.sum(axis=1, dtype=np.float64)
        out["div"] = _safe_div(shared, pairs)
    if "rmse" in wanted:
        out["rmse"] = np.sqrt(_safe_div(col["rating_sq"], n))
    if "top_share" in wanted:
        counts = table.memberships["sentence"].counts(wt)
        top = counts.max(axis=1) if counts.shape[1] else np.zeros(W.shape[0])
        out["top_share"] = _safe_div(top, n)
    for name in wanted - out.keys():
        spec = METRICS[name]
        if spec.family == "plugin":  # metrics/plugins.py: the mean of the per-record scores
            out[name] = _safe_div(col[plugin_column(name)], n) * (100.0 if spec.scale == "x100" else 1.0)
    return {name: out[name] for name in names}
