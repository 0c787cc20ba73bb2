"""The metric registry: every metric's name, family, signature and meaning.

Families never share a column: `reference` reproduces the numbers the reference code (PETER's
bleu.py / rouge.py / utils.py) publishes; `standard` uses the standard packages (sacreBLEU,
rouge-score, NLTK METEOR) and common definitions; `synthetic` needs the synthetic data's
ground-truth aspects. Signatures follow sacreBLEU's style: name|impl:...|tok:...|...|impl_v:N, where N
is the metric's own implementation version (IMPL_VERSIONS) and package versions appear where a
package computes the number. `explain` holds the measures the field reports since 2022 (feature
precision/recall, feature hallucination, sentiment alignment, repetition; metrics/explain.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, replace
from importlib.metadata import version

from explainbench.metrics.errors import MetricsError
from explainbench.metrics.meteor import meteor_signature
from explainbench.metrics.plugins import RecordMetric
from explainbench.metrics.text_std import sacrebleu_signature

FAMILIES = ("reference", "standard", "synthetic", "explain", "plugin")

# The version of each metric's implementation, the last field of its signature. Bump a metric's version
# whenever its values change (a fix, a new definition, a package whose numbers move); the test
# tests/test_metrics_versions.py holds every metric's values on the golden vectors to its version, and
# `python -m tests.update_metric_versions` records the new values once the version is bumped.
IMPL_VERSIONS: dict[str, int] = {
    "bleu1": 1,
    "bleu4": 1,
    **{f"rouge{n}_{p}": 1 for n in ("1", "2", "L") for p in "prf"},
    "usr": 1,
    "fmr": 1,
    "fcr": 1,
    "div": 1,
    "rmse": 1,
    "mae": 1,
    "sacrebleu": 1,
    "rs_rouge1": 1,
    "rs_rouge2": 1,
    "rs_rougeL": 1,
    "meteor": 1,
    "distinct1": 1,
    "distinct2": 1,
    "spec_aspect": 1,
    "spec_detail": 1,
    "feat_p": 1,
    "feat_r": 1,
    "feat_f": 1,
    "hal_feat": 1,
    "hal_sent": 1,
    "hal_mean": 1,
    "sent_rating": 1,
    "sent_ref": 1,
    "rep_l": 1,
    "seq_rep_2": 1,
    "top_share": 1,
    "bertscore": 1,
}


@dataclass(frozen=True)
class MetricSpec:
    """One metric: `needs` names the input it requires (text, features, rating, meteor, aspect, detail)."""

    name: str
    family: str
    signature: str
    description: str
    scale: str  # "x100" or "ratio" or "rating"
    higher_is_better: bool = True
    needs: str = "text"  # text | features | rating | meteor | aspect | detail | hallucination | plugin
    # False for statistics that count distinct items (USR, FCR, distinct-n): a bootstrap resample repeats
    # about a third of the examples, which such a statistic reads as repetition, so no interval is given.
    bootstrap_ci: bool = True


def _ref(
    name: str,
    fields: str,
    description: str,
    scale: str,
    needs: str = "text",
    higher: bool = True,
    ci: bool = True,
) -> MetricSpec:
    sig = f"{name}|impl:ref|{fields}"
    return MetricSpec(name, "reference", sig, description, scale, higher, needs, ci)


def _build() -> dict[str, MetricSpec]:
    specs: list[MetricSpec] = [
        _ref("bleu1", "tok:space|smooth:none", "corpus BLEU, max order 1, brevity penalty, x100", "x100"),
        _ref("bleu4", "tok:space|smooth:none", "corpus BLEU, orders 1-4, geometric mean, BP, x100", "x100"),
    ]
    for n in ("1", "2"):
        for part, word in (("p", "precision"), ("r", "recall"), ("f", "F1 (2PR/(P+R+1e-8))")):
            specs.append(
                _ref(
                    f"rouge{n}_{part}",
                    "tok:space|ngram:set|avg:sentence",
                    f"ROUGE-{n} {word} over n-gram sets, sentence mean, x100",
                    "x100",
                )
            )
    for part, word in (("p", "precision"), ("r", "recall"), ("f", "F with beta = P/R (reference quirk)")):
        specs.append(
            _ref(
                f"rougeL_{part}",
                "tok:space|lcs|beta:p/r|avg:sentence",
                f"ROUGE-L {word}, LCS over tokens, sentence mean, x100",
                "x100",
            )
        )
    specs += [
        _ref(
            "usr",
            "tok:space|match:exact",
            "unique generated sentences / generated sentences",
            "ratio",
            ci=False,
        ),
        _ref(
            "fmr",
            "match:token",
            "share of outputs containing the example's ground-truth feature",
            "ratio",
            "features",
        ),
        _ref(
            "fcr",
            "match:token",
            "distinct features generated / features in the dataset",
            "ratio",
            "features",
            ci=False,
        ),
        _ref(
            "div",
            "match:token|pairs:set",
            "mean |features(i) & features(j)| over pairs i<j (lower is better)",
            "ratio",
            "features",
            higher=False,
        ),
        _ref(
            "rmse",
            "clip:range",
            "root mean squared rating error, predictions clipped to the range",
            "rating",
            "rating",
            higher=False,
        ),
        _ref(
            "mae",
            "clip:range",
            "mean absolute rating error, predictions clipped to the range",
            "rating",
            "rating",
            higher=False,
        ),
    ]
    rs = f"impl:rouge-score|tok:rouge-score|stem:porter|stat:f|avg:sentence|v:{version('rouge-score')}"
    specs += [
        MetricSpec(
            "sacrebleu",
            "standard",
            f"sacrebleu|impl:sacrebleu|{sacrebleu_signature()}",
            "sacreBLEU corpus BLEU (13a tokeniser, exp smoothing)",
            "x100",
        ),
        MetricSpec(
            "rs_rouge1", "standard", f"rs_rouge1|{rs}", "rouge-score ROUGE-1 F, stemmed, mean, x100", "x100"
        ),
        MetricSpec(
            "rs_rouge2", "standard", f"rs_rouge2|{rs}", "rouge-score ROUGE-2 F, stemmed, mean, x100", "x100"
        ),
        MetricSpec(
            "rs_rougeL", "standard", f"rs_rougeL|{rs}", "rouge-score ROUGE-L F, stemmed, mean, x100", "x100"
        ),
        MetricSpec(
            "meteor",
            "standard",
            f"meteor|{meteor_signature()}",
            "NLTK METEOR (substitute for the paper's Java METEOR 1.5), mean, x100",
            "x100",
            True,
            "meteor",
        ),
        MetricSpec(
            "distinct1",
            "standard",
            "distinct1|impl:explainbench|tok:space",
            "distinct unigrams / unigrams over all outputs",
            "ratio",
            bootstrap_ci=False,
        ),
        MetricSpec(
            "distinct2",
            "standard",
            "distinct2|impl:explainbench|tok:space",
            "distinct bigrams / bigrams over all outputs",
            "ratio",
            bootstrap_ci=False,
        ),
        MetricSpec(
            "spec_aspect",
            "synthetic",
            "spec_aspect|impl:explainbench|tok:space|match:phrase",
            "share of outputs naming the record's ground-truth aspect (any surface term)",
            "ratio",
            True,
            "aspect",
        ),
        MetricSpec(
            "spec_detail",
            "synthetic",
            "spec_detail|impl:explainbench|tok:space|match:phrase",
            "share of outputs naming the record's item detail phrase",
            "ratio",
            True,
            "detail",
        ),
    ]
    specs += _explain_specs()
    missing = [s.name for s in specs if s.name not in IMPL_VERSIONS]
    if missing or len(specs) != len(IMPL_VERSIONS):
        raise MetricsError(f"IMPL_VERSIONS and the registry disagree: {missing or sorted(IMPL_VERSIONS)}")
    out = {s.name: replace(s, signature=f"{s.signature}|impl_v:{IMPL_VERSIONS[s.name]}") for s in specs}
    try:
        found = _plugin_specs(set(out))
    except MetricsError as exc:  # reported when something is scored (table.build_table), not at import
        PLUGIN_ERRORS.append(str(exc))
        found = {}
    for name, (spec, metric) in found.items():
        out[name] = spec
        PLUGINS[name] = metric
    return out


def _plugin_specs(builtin: set[str]) -> dict[str, tuple[MetricSpec, RecordMetric]]:
    """The metrics that installed packages register under `explainbench.metrics` (metrics/plugins.py)."""
    from explainbench.api.registry import RegistryError, registry

    reg = registry("metrics")
    out: dict[str, tuple[MetricSpec, RecordMetric]] = {}
    for name, entry in reg.entries().items():
        where = f"metric plugin {name!r} (package {entry.package or '?'}, {entry.target})"
        if name in builtin:
            raise MetricsError(f"{where} reuses a built-in metric's name; rename its entry point")
        try:
            metric = reg.get(name)
        except (ImportError, AttributeError, RegistryError) as exc:
            raise MetricsError(f"{where} cannot be loaded: {exc}") from None
        if not isinstance(metric, RecordMetric):
            raise MetricsError(f"{where} is not an explainbench.metrics.RecordMetric")
        package = f"{entry.package}@{entry.version}" if entry.package else "runtime"
        spec = MetricSpec(
            name,
            "plugin",
            f"{name}|impl:plugin|pkg:{package}|avg:record|impl_v:{metric.version}",
            metric.description,
            "x100" if metric.x100 else "ratio",
            metric.higher_is_better,
            "plugin",
        )
        out[name] = (spec, metric)
    return out


PLUGINS: dict[str, RecordMetric] = {}  # name -> the plugin's metric, filled by _build()
PLUGIN_ERRORS: list[str] = []  # why an installed metric plugin could not be loaded (scoring stops on it)
def _explain_specs() -> list[MetricSpec]:
    """The explain family (metrics/explain.py has the definitions and their sources)."""

    def spec(name: str, fields: str, text: str, needs: str = "text", higher: bool = True) -> MetricSpec:
        return MetricSpec(name, "explain", f"{name}|impl:explainbench|{fields}", text, "ratio", higher, needs)

    vader = f"sent:vader|thr:0.05|v:{version('vaderSentiment')}"
    return [
        spec("feat_p", "tok:space|match:token|avg:record", "feature precision: |mentioned & truth| / "
             "|mentioned|, mean over records with a feature", "features"),
        spec("feat_r", "tok:space|match:token|avg:record", "feature recall: |mentioned & truth| / |truth|, "
             "mean over records with a feature", "features"),
        spec("feat_f", "tok:space|match:token|avg:record", "feature F1 2PR/(P+R), mean over records with a "
             "feature", "features"),
        spec("hal_feat", "tok:space|match:token|items:train", "share of mentioned features that no training "
             "review of the item mentions", "hallucination", higher=False),
        spec("hal_sent", "tok:space|match:token|items:train", "share of sentences mentioning a feature that "
             "no training review of the item mentions", "hallucination", higher=False),
        spec("hal_mean", "tok:space|match:token|items:train", "mean per sentence of hallucinated / mentioned "
             "features (0 without one)", "hallucination", higher=False),
        spec("sent_rating", f"{vader}|rating:quarters", "sentence polarity equals the rating's (records "
             "with a polar rating)"),
        spec("sent_ref", vader, "sentence polarity equals the reference's (3 classes)"),
        spec("rep_l", "tok:space|within:sentence", "repeated tokens within a sentence / tokens (rep/l)",
             higher=False),
        spec("seq_rep_2", "tok:space|within:sentence", "mean of 1 - distinct bigrams / bigrams, sentences "
             "with a bigram", higher=False),
        spec("top_share", "tok:space|match:exact", "share of the most frequent generated sentence",
             higher=False),
        # the model, its layers and the package version are added at run time (metrics/bertscore.py)
        spec("bertscore", "impl:bert-score|stat:f|avg:record", "BERTScore F1 (bert-score), mean over "
             "records; off unless asked for", "bertscore"),
    ]


METRICS: dict[str, MetricSpec] = _build()


def metrics_of(family: str) -> list[str]:
    """Names of one family's metrics, in registry order."""
    if family not in FAMILIES:
        raise MetricsError(f"unknown metric family {family!r}; known: {', '.join(FAMILIES)}")
    return [name for name, spec in METRICS.items() if spec.family == family]


def check_families(families: Collection[str] | None) -> frozenset[str]:
    """The families to score (None: all of them); refuses unknown names and an empty selection."""
    if families is None:
        return frozenset(FAMILIES)
    if isinstance(families, str):
        families = [families]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], FAMILIES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MetricsError(f"unknown metric family {unknown[0]!r}{hint}; known: {', '.join(FAMILIES)}")
    if not families:
        raise MetricsError(f"no metric family selected; choose from {', '.join(FAMILIES)}")
    return frozenset(families)


def check_names(names: list[str]) -> None:
    """Refuse unknown metric names with the known ones and a 'did you mean'."""
    for name in names:
        if name not in METRICS:
            close = difflib.get_close_matches(name, list(METRICS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MetricsError(f"unknown metric {name!r}{hint}; known: {', '.join(METRICS)}")
