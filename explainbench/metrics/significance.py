"""Paired significance tests of two systems on the same examples, from per-example statistics.

- "bootstrap" (Koehn 2004, the shift method of sacreBLEU's paired_bs): resample examples (or users)
  n times, the SAME resample for both systems; d_b = m_a - m_b on resample b; two-sided
  p = (#{|d_b - mean(d)| >= |d_obs|} + 1) / (n + 1).
- "approx" (approximate randomisation, Riezler & Maxwell 2005): in each of n trials swap the two
  systems' outputs of each example (or of each user's examples) with probability 1/2;
  p = (#{|d_trial| >= |d_obs|} + 1) / (n + 1).
Ties count as "at least as extreme" (>=), so a system against itself gets p = 1 exactly. sacreBLEU
counts only strictly larger differences (>), which gives 1/(n+1) for a system against itself.
by_user=True makes users the resampling/swapping unit (examples of a user move together).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from explainbench.api.results import Sample
from explainbench.metrics.aggregate import available_metrics, compute_metrics
from explainbench.metrics.blas import single_thread_blas
from explainbench.metrics.errors import MetricsError
from explainbench.metrics.registry import check_names
from explainbench.metrics.report import check_options
from explainbench.metrics.stats import StatTable, bootstrap_weights, chunk_size, stack_tables
from explainbench.metrics.table import Interners, build_table

METHODS = ("bootstrap", "approx")


def _check_aligned(a: Sequence[Sample], b: Sequence[Sample]) -> None:
    if len(a) == 0 or len(b) == 0:
        raise MetricsError("paired test needs two non-empty lists of samples")
    if len(a) != len(b):
        raise MetricsError(
            f"paired test needs the same examples: system a has {len(a)} samples, b has {len(b)}"
        )
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if (x.user_id, x.item_id, x.reference) != (y.user_id, y.item_id, y.reference):
            raise MetricsError(
                f"paired test: example {i} differs (a: user {x.user_id!r} item {x.item_id!r}; b: user "
                f"{y.user_id!r} item {y.item_id!r}); both systems must list the same examples in the same "
                "order"
            )


def _dense_units(unit: np.ndarray) -> np.ndarray:
    return np.unique(unit, return_inverse=True)[1].astype(np.int64)


def _p_value(stats: np.ndarray, observed: float) -> float:
    tol = 1e-9 * max(1.0, abs(observed))
    return float((np.count_nonzero(stats >= abs(observed) - tol) + 1) / (len(stats) + 1))


def paired_test(
    a: Sequence[Sample],
    b: Sequence[Sample],
    *,
    metrics: Sequence[str] | None = None,
    method: str = "bootstrap",
    n: int = 1000,
    seed: int = 0,
    by_user: bool = False,
    feature_set: Collection[str] | None = None,
    rating_range: tuple[float, float] = (1.0, 5.0),
    meteor: bool = True,
    item_features: Mapping[str, Collection[str]] | None = None,
) -> dict[str, float]:
    """p-value per metric for "a and b score the same". feature_set defaults to the samples' features;
    item_features (explainbench.data.item_features) adds the feature-hallucination rates."""
    if method not in METHODS:
        raise MetricsError(f"unknown paired-test method {method!r}; use one of {', '.join(METHODS)}")
    if n < 1:
        raise MetricsError(f"paired test needs n >= 1 trials (got {n})")
    _check_aligned(a, b)
    if feature_set is None:
        feature_set = {s.feature for s in a if s.feature} or None
    check_options(feature_set, rating_range, 0)
    interners = Interners()
    kw = dict(
        feature_set=feature_set,
        rating_range=rating_range,
        meteor=meteor,
        interners=interners,
        item_features=item_features,
    )
    ta, _ = build_table(a, **kw)
    tb, _ = build_table(b, **kw)
    names = [m for m in available_metrics(ta) if m in available_metrics(tb)]
    if metrics is not None:
        check_names(list(metrics))
        missing = [m for m in metrics if m not in names]
        if missing:
            raise MetricsError(
                f"metric(s) {missing} cannot be computed for these samples; computable: {names}"
            )
        names = list(metrics)
    observed_a = compute_metrics(ta, np.ones((1, ta.n)), names)
    observed_b = compute_metrics(tb, np.ones((1, tb.n)), names)
    observed = {k: float(observed_a[k][0] - observed_b[k][0]) for k in names}
    rng = np.random.default_rng(seed)
    units = _dense_units(ta.unit) if by_user and ta.unit is not None else None
    with single_thread_blas():
        if method == "bootstrap":
            stats = _bootstrap_deltas(ta, tb, names, n, rng, units)
            return {k: _p_value(np.abs(stats[k] - stats[k].mean()), observed[k]) for k in names}
        stats = _randomisation_deltas(ta, tb, names, n, rng, units)
        return {k: _p_value(np.abs(stats[k]), observed[k]) for k in names}


def _bootstrap_deltas(
    ta: StatTable, tb: StatTable, names: list[str], n: int, rng: np.random.Generator, units: np.ndarray | None
) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for W in bootstrap_weights(ta.n, n, rng, chunk_size(ta.n), units):
        va, vb = compute_metrics(ta, W, names), compute_metrics(tb, W, names)
        for k in names:
            out[k].append(va[k] - vb[k])
    return {k: np.concatenate(v) for k, v in out.items()}


def _randomisation_deltas(
    ta: StatTable, tb: StatTable, names: list[str], n: int, rng: np.random.Generator, units: np.ndarray | None
) -> dict[str, np.ndarray]:
    stacked = stack_tables(ta, tb)
    rows = ta.n
    unit_of_row = np.arange(rows) if units is None else units
    n_units = int(unit_of_row.max()) + 1
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    chunk = chunk_size(2 * rows)
    done = 0
    while done < n:
        c = min(chunk, n - done)
        swap = rng.integers(0, 2, size=(c, n_units), dtype=np.int8).astype(bool)[:, unit_of_row]
        wa = np.hstack([~swap, swap]).astype(np.float64)
        va, vb = compute_metrics(stacked, wa, names), compute_metrics(stacked, 1.0 - wa, names)
        for k in names:
            out[k].append(va[k] - vb[k])
        done += c
    return {k: np.concatenate(v) for k, v in out.items()}


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (Holm 1979), in the order given.

    Sorted ascending p_(1) <= ... <= p_(m): adjusted p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
    Rejecting where the adjusted p < alpha controls the family-wise error rate at alpha. NaN p-values
    (a metric not testable) stay NaN and do not count in m.
    """
    values = [float(p) for p in p_values]
    order = sorted((i for i, p in enumerate(values) if not np.isnan(p)), key=lambda i: values[i])
    m = len(order)
    out = [float("nan")] * len(values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[i]))
        out[i] = running
    return out
