"""An example metric plugin: the mean length of the generated sentences, in words.

Registered through the `explainbench.metrics` entry point (docs/plugins.md), it is computed by
`explainbench run`, `evaluate` and `score`, gets bootstrap intervals and appears in Table 2's explain
table like a built-in metric.
"""

from __future__ import annotations

from explainbench.api.results import Sample
from explainbench.metrics import RecordMetric


def _words(sample: Sample) -> float:
    return float(len(sample.generated.split()))


WORDS = RecordMetric(description="mean length of the generated sentence in words", score=_words)
