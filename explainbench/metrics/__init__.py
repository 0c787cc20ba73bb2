"""Metrics: reference-compatible and standard text metrics, explainability and rating metrics.

    from explainbench.metrics import score_samples, paired_test, METRICS
    report = score_samples(samples, feature_set=features)      # MetricReport
    report.to_dict()["metrics"]["bleu4"]                       # value, ci_low, ci_high, signature, family
    paired_test(samples_a, samples_b, method="approx")         # {metric: p-value}

See docs/metrics.md for every definition and signature; docs/plugins.md for metrics of other packages.
"""

from explainbench.metrics.errors import MetricsError

# RecordMetric before the registry: a plugin module imports it while METRICS is being built
from explainbench.metrics.plugins import RecordMetric
from explainbench.metrics.registry import FAMILIES, IMPL_VERSIONS, METRICS, MetricSpec, metrics_of
from explainbench.metrics.report import GroupResult, MetricReport, MetricValue, score_samples
from explainbench.metrics.significance import paired_test

__all__ = [
    "FAMILIES",
    "IMPL_VERSIONS",
    "METRICS",
    "GroupResult",
    "MetricReport",
    "MetricSpec",
    "MetricValue",
    "MetricsError",
    "RecordMetric",
    "metrics_of",
    "paired_test",
    "score_samples",
]
