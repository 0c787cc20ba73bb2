"""score_samples: every metric with a seeded 95% bootstrap interval, per sparsity bucket and per count.

The statistics table is built once; the corpus value, the bootstrap resamples (default 1,000, percentile
interval), each bucket and each per-count group aggregate it (a group resamples its own examples).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explainbench.api.results import Sample
from explainbench.metrics.aggregate import available_metrics, compute_metrics
from explainbench.metrics.blas import single_thread_blas
from explainbench.metrics.errors import MetricsError
from explainbench.metrics.registry import METRICS
from explainbench.metrics.stats import StatTable, bootstrap_weights, chunk_size, group_indices, percentile_ci
from explainbench.metrics.table import auto_workers, build_table

if TYPE_CHECKING:  # explainbench.data's package import is heavy (datasets, pyarrow): loaded on use
    from explainbench.data.buckets import Bucket


@dataclass
class MetricValue:
    """A value and its 95% bootstrap interval (None when n_boot = 0)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass
class GroupResult:
    """Metrics of one group of examples (a bucket or one training count)."""

    n: int
    metrics: dict[str, MetricValue]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "metrics": {k: v.to_dict() for k, v in self.metrics.items()}}


@dataclass
class MetricReport:
    """What score_samples returns; to_dict() is the `metrics`/`buckets`/`per_count` part of results.json."""

    n: int
    metrics: dict[str, MetricValue]
    buckets: dict[str, dict[str, GroupResult]] = field(default_factory=dict)
    per_count: dict[str, dict[int, GroupResult]] = field(default_factory=dict)
    n_boot: int = 1000
    seed: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)  # run-time signatures (BERTScore's model)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage (not part of to_dict)

    def value(self, name: str) -> float:
        if name not in self.metrics:
            why = self.unavailable.get(name, "not computed for these samples")
            raise MetricsError(f"metric {name!r} not in this report: {why}")
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        metrics = {
            name: {
                **mv.to_dict(),
                "signature": self.signatures.get(name, METRICS[name].signature),
                "family": METRICS[name].family,
            }
            for name, mv in self.metrics.items()
        }
        return {
            "n": self.n,
            "metrics": metrics,
            "buckets": {
                dim: {lab: g.to_dict() for lab, g in groups.items()} for dim, groups in self.buckets.items()
            },
            "per_count": {
                dim: {str(c): g.to_dict() for c, g in groups.items()}
                for dim, groups in self.per_count.items()
            },
            "bootstrap": {"n": self.n_boot, "seed": self.seed, "ci": 0.95, "method": "percentile"},
            "unavailable": dict(self.unavailable),
        }


def group_rng(seed: int, key: str) -> np.random.Generator:
    """The bootstrap generator of one group: seeded by (seed, a stable hash of the group's name)."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def evaluate_group(
    table: StatTable, names: list[str], n_boot: int, rng: np.random.Generator
) -> dict[str, MetricValue]:
    """Corpus values of a table and percentile bootstrap intervals (for metrics that allow one)."""
    values = compute_metrics(table, np.ones((1, table.n)), names)
    with_ci = [k for k in names if METRICS[k].bootstrap_ci] if n_boot > 0 else []
    reps: dict[str, list[np.ndarray]] = {k: [] for k in with_ci}
    if with_ci:
        with single_thread_blas():
            for W in bootstrap_weights(table.n, n_boot, rng, chunk_size(table.n)):
                for k, v in compute_metrics(table, W, with_ci).items():
                    reps[k].append(v)
    out = {}
    for k in names:
        if k in reps:
            lo, hi = percentile_ci(np.concatenate(reps[k]))
            out[k] = MetricValue(float(values[k][0]), lo, hi)
        else:
            out[k] = MetricValue(float(values[k][0]))
    return out


def check_options(
    feature_set: Collection[str] | None, rating_range: tuple[float, float], n_boot: int
) -> None:
    if feature_set is not None and len(feature_set) == 0:
        raise MetricsError(
            "empty feature set: FCR is undefined; pass the dataset's features "
            "(explainbench.data.feature_set) or feature_set=None to skip FMR/FCR/DIV"
        )
    lo, hi = rating_range
    if not lo < hi:
        raise MetricsError(f"rating_range {rating_range!r} must be (low, high) with low < high")
    if n_boot < 0:
        raise MetricsError(f"n_boot must be >= 0 (got {n_boot})")


_SHARED_TABLE: StatTable | None = None  # the table forked workers read (set before the pool starts)
_FORK_LOCK = threading.Lock()  # one forked pool at a time owns _SHARED_TABLE


def _evaluate_on(
    table: StatTable, task: tuple[str, np.ndarray | None, list[str], int, int]
) -> tuple[str, dict[str, MetricValue]]:
    key, rows, names, n_boot, seed = task
    group = table if rows is None else table.subset(rows)
    return key, evaluate_group(group, names, n_boot, group_rng(seed, key))


def _evaluate_task(
    task: tuple[str, np.ndarray | None, list[str], int, int],
) -> tuple[str, dict[str, MetricValue]]:
    """Worker entry point: the table comes from the parent through fork, not through pickling."""
    assert _SHARED_TABLE is not None
    return _evaluate_on(_SHARED_TABLE, task)


def _evaluate_all(
    table: StatTable, tasks: list[tuple[str, np.ndarray | None, list[str], int, int]], workers: int
) -> dict[str, dict[str, MetricValue]]:
    """Evaluate every group, in `workers` forked processes when there is enough work.

    In one process the table is passed directly, so concurrent callers (threads) never share state.
    """
    global _SHARED_TABLE
    if workers <= 1 or len(tasks) <= 1:
        return dict(_evaluate_on(table, t) for t in tasks)
    # largest groups first, so that the two processes finish together
    tasks = sorted(tasks, key=lambda t: -(table.n if t[1] is None else len(t[1])))
    with _FORK_LOCK:
        _SHARED_TABLE = table
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return dict(pool.imap_unordered(_evaluate_task, tasks, chunksize=1))
        finally:
            _SHARED_TABLE = None


def score_samples(
    samples: Sequence[Sample],
    *,
    feature_set: Collection[str] | None,
    buckets: Sequence[Bucket] | None = None,
    rating_range: tuple[float, float] = (1.0, 5.0),
    n_boot: int = 1000,
    seed: int = 0,
    meteor: bool = True,
    per_count: bool = True,
    workers: int | None = None,
    families: Collection[str] | None = None,
    item_features: Mapping[str, Collection[str]] | None = None,
    bertscore: str | None = None,
) -> MetricReport:
    """Score samples with every metric their fields allow.

    feature_set: the dataset's features (FCR denominator, feature detection); None skips FMR/FCR/DIV.
    buckets: the dataset's bucket edges (None: explainbench.data.buckets.DEFAULT_BUCKETS); buckets and
    per-count groups use user_train_count / item_train_count (counts <= 0 are left out).
    RMSE/MAE need predicted_rating on every sample; spec_* need aspect_terms / detail.
    workers: processes for text statistics and bootstrap (default: 2 from 20,000 samples, else 1; the
    reference family's text statistics alone take 1).
    families: the metric families to compute (registry.FAMILIES; None: all); the others are skipped
    entirely (no statistics, no package imports), and their metrics are absent from the report.
    item_features: each item's features in the training data (explainbench.data.item_features): the
    reference of the feature-hallucination rates (hal_*), which are absent without it.
    bertscore: a BERTScore model (Hub id or save_pretrained folder) for the explain family's
    `bertscore` (metrics/bertscore.py); None (the default) leaves it out.
    """
    from explainbench.data.buckets import DEFAULT_BUCKETS, bucket_of

    buckets = DEFAULT_BUCKETS if buckets is None else buckets
    check_options(feature_set, rating_range, n_boot)
    given_workers, workers = workers, auto_workers(len(samples), workers)
    start = time.perf_counter()
    table, why_no_meteor = build_table(
        samples,
        feature_set=feature_set,
        rating_range=rating_range,
        meteor=meteor,
        workers=given_workers,
        families=families,
        item_features=item_features,
        bertscore=bertscore,
    )
    names = available_metrics(table)
    tasks: dict[str, tuple[str, np.ndarray | None, list[str], int, int]] = {
        "all": ("all", None, names, n_boot, seed)
    }
    layout: dict[str, dict[str, list[tuple[str | int, str]]]] = {"buckets": {}, "per_count": {}}
    for dim, attr in (("user", "user_train_count"), ("item", "item_train_count")):
        values = [int(getattr(s, attr)) for s in samples]
        by_label = group_indices([bucket_of(c, buckets) if c > 0 else None for c in values])
        by_count = group_indices(values)
        layout["buckets"][dim] = []
        for b in buckets:
            if b.label in by_label:
                key = f"{dim}:count:{b.lo}-{'inf' if b.hi is None else b.hi}"
                tasks.setdefault(key, (key, by_label[b.label], names, n_boot, seed))
                layout["buckets"][dim].append((b.label, key))
        layout["per_count"][dim] = []
        if per_count:
            for c in sorted(k for k in by_count if k > 0):
                key = f"{dim}:count:{c}-{c}"  # a one-count bucket and that count are the same group
                tasks.setdefault(key, (key, by_count[c], names, n_boot, seed))
                layout["per_count"][dim].append((c, key))
    stats_s = time.perf_counter() - start
    results = _evaluate_all(table, list(tasks.values()), workers)
    sizes = {key: (table.n if rows is None else len(rows)) for key, rows, *_ in tasks.values()}
    report = MetricReport(
        n=table.n,
        metrics=results["all"],
        n_boot=n_boot,
        seed=seed,
        unavailable={**({"meteor": why_no_meteor} if why_no_meteor else {}), **table.unavailable},
        signatures=dict(table.signatures),
        timings={"statistics_s": stats_s, "aggregate_s": time.perf_counter() - start - stats_s},
    )
    for part in ("buckets", "per_count"):
        target = report.buckets if part == "buckets" else report.per_count
        for dim, entries in layout[part].items():
            if part == "per_count" and not per_count:
                continue
            target[dim] = {label: GroupResult(sizes[key], results[key]) for label, key in entries}
    return report
