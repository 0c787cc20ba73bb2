"""Record every metric's implementation version and its values on the golden vectors.

    python -m tests.update_metric_versions    # from the repository root; rewrites tests/metric_versions.json

tests/test_metrics_versions.py recomputes the values and fails when a metric's values moved while its
version (explainbench.metrics.registry.IMPL_VERSIONS) did not: bump the version, then run this script.
The inputs are the in-repo golden cases (tests/golden/metrics_golden.json) with predicted ratings and
synthetic aspects added by a fixed rule, so that every metric in the registry has a value.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
VERSIONS_FILE = TESTS / "metric_versions.json"
# Metrics computed by a downloaded model, whose values belong to the model: their signature names the
# model and the package version; tests/test_metrics_bertscore.py checks the wiring on a tiny local model.
UNRECORDED = frozenset({"bertscore"})
GOLDEN = TESTS / "golden" / "metrics_golden.json"


def golden_samples(case: dict) -> list:
    """One golden case as samples; rating, prediction, aspect and detail follow from the position."""
    from explainbench.api.results import Sample

    out = []
    for k, (ref, hyp, feature) in enumerate(
        zip(case["references"], case["hypotheses"], case["features_gt"], strict=True)
    ):
        words = ref.split()
        rating = float(1 + k % 5)
        out.append(
            Sample(
                user_id=f"u{k % 7}",
                item_id=f"i{k % 11}",
                rating=rating,
                reference=ref,
                generated=hyp,
                feature=feature,
                predicted_rating=rating + ((k * 3) % 7 - 3) * 0.45,  # some fall outside 1..5: clipped
                aspect=feature,
                aspect_terms=[feature, words[0]] if k % 3 else [feature],
                detail=" ".join(words[-2:]) if k % 2 else "",
            )
        )
    return out


def item_features(samples: list, feature_set: list[str]) -> dict[str, frozenset[str]]:
    """Each item's features as if its samples' references were its training reviews (hal_*)."""
    feats = set(feature_set)
    out: dict[str, set[str]] = {}
    for s in samples:
        out.setdefault(s.item_id, set()).update(t for t in s.reference.split() if t in feats)
    return {k: frozenset(v) for k, v in out.items()}


def recorded_metrics() -> list[str]:
    """The registry's built-in metrics that the golden vectors record (plugins and UNRECORDED left out)."""
    from explainbench.metrics import METRICS

    return [name for name, spec in METRICS.items() if spec.family != "plugin" and name not in UNRECORDED]


def current_values() -> dict[str, dict[str, float]]:
    """{metric: {case: value}} for every recorded metric, scored by explainbench."""
    from explainbench.metrics import score_samples

    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    values: dict[str, dict[str, float]] = {name: {} for name in recorded_metrics()}
    for case in golden["cases"]:
        samples = golden_samples(case)
        report = score_samples(
            samples,
            feature_set=golden["feature_set"],
            item_features=item_features(samples, golden["feature_set"]),
            n_boot=0,
            per_count=False,
            meteor=True,
        )
        for name in values:
            if name in report.metrics:
                values[name][case["name"]] = report.value(name)
    return values


def fingerprint(values: dict[str, float]) -> str:
    """sha256 of the values at 10 significant digits (below any real change, above float noise)."""
    text = ";".join(f"{case}={value:.10g}" for case, value in sorted(values.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build() -> dict[str, dict]:
    from explainbench.metrics import IMPL_VERSIONS

    return {
        name: {
            "version": IMPL_VERSIONS[name],
            "fingerprint": fingerprint(vals),
            "values": {case: float(f"{v:.10g}") for case, v in vals.items()},
        }
        for name, vals in current_values().items()
    }


def main() -> None:
    data = build()
    empty = [name for name, entry in data.items() if not entry["values"]]
    if empty:
        sys.exit(f"metric(s) {empty} have no value on the golden samples: extend golden_samples()")
    tmp = VERSIONS_FILE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(VERSIONS_FILE)
    print(f"wrote {VERSIONS_FILE} ({len(data)} metrics)")


if __name__ == "__main__":
    main()
