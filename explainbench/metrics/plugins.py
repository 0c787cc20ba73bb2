"""Metrics from other packages: what an `explainbench.metrics` entry point registers.

A plugin metric scores one record at a time; its corpus value is the mean of those scores under the
example weights, so it gets bootstrap intervals, sparsity buckets, per-count curves and paired tests
like every built-in metric, and `run`, `evaluate` and `score` compute it wherever it is installed
(family `plugin`). Declare it in the plugin's pyproject.toml:

    [project.entry-points."explainbench.metrics"]
    words = "my_package.metrics:WORDS"

where `WORDS = RecordMetric(description="...", score=lambda sample: len(sample.generated.split()))`.
The entry point's name is the metric's name; a plugin may not reuse a built-in name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from explainbench.api.results import Sample
from explainbench.metrics.errors import MetricsError


@dataclass(frozen=True)
class RecordMetric:
    """A per-record metric. score(sample) -> a finite float; the corpus value is the mean (x100 when
    x100). version: bump it whenever the values change (it ends the signature, as IMPL_VERSIONS)."""

    description: str
    score: Callable[[Sample], float]
    higher_is_better: bool = True
    x100: bool = False
    version: int = 1


def column(name: str) -> str:
    """The StatTable column that holds a plugin metric's per-record scores."""
    return f"plugin:{name}"


def plugin_scores(name: str, metric: RecordMetric, samples: Sequence[Sample]) -> np.ndarray:
    """Every sample's score; a score that raises or is not a finite number stops with one line."""
    out = np.empty(len(samples))
    for i, s in enumerate(samples):
        try:
            value = float(metric.score(s))
        except Exception as exc:  # a plugin's bug must name the plugin and the record
            raise MetricsError(
                f"metric plugin {name!r} failed on samples[{i}] (user {s.user_id!r}, item {s.item_id!r}): "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not math.isfinite(value):
            raise MetricsError(
                f"metric plugin {name!r} gave {value!r} for samples[{i}] (user {s.user_id!r}, item "
                f"{s.item_id!r}); a score must be a finite number"
            )
        out[i] = value
    return out
