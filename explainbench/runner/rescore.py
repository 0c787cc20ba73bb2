"""Add metric families to finished runs from their samples: no retraining, no regeneration.

A run's results hold the metrics of the code that scored it. When a family is added (the explain
family of issue 17), `rescore_run` computes that family alone from the run's samples.jsonl, with the
run's own bootstrap settings, buckets and rating range and the dataset's features, and merges it into
results.json beside the metrics already there, which are not touched. Each merge is recorded under
`rescored` (families, metric names, the metrics code's hash, the commit, the time), so a reader sees
which numbers came later and from which code. The run id names the training and the first scoring;
it does not change.

The dataset must be the one the run was scored on (its fingerprint is checked), because the explain
family reads the features and each item's training reviews.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from explainbench.api.results import read_results, read_samples, write_results
from explainbench.runner.run import RunError


def rescore_run(
    run_dir: Path, *, families: Sequence[str] = ("explain",), home: Path | None = None
) -> list[str]:
    """Merge `families`' metrics into run_dir/results.json; returns the metric names added or updated."""
    from explainbench.api import provenance
    from explainbench.data import Bucket, feature_set, item_features, load_manifest, load_split
    from explainbench.metrics.registry import FAMILIES, METRICS
    from explainbench.metrics.report import score_samples
    from explainbench.runner.store import METRICS_CODE

    run_dir = Path(run_dir)
    path = run_dir / "results.json"
    results = read_results(path)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise RunError(f"unknown metric family {unknown[0]!r}; use one of {', '.join(FAMILIES)}")
    data, split = str(results["dataset"]), int(results["split"])
    manifest = load_manifest(data, home=home)
    if str(manifest.get("fingerprint", "")) != str(results["dataset_fingerprint"]):
        raise RunError(
            f"{path}: scored on {data} with fingerprint {str(results['dataset_fingerprint'])[:12]}, but "
            f"the prepared {data} has {str(manifest.get('fingerprint', ''))[:12]}; prepare the same data "
            "to rescore"
        )
    samples = read_samples(run_dir / "samples.jsonl")
    dd = load_split(data, split, home=home)
    features = feature_set(dd) or None
    buckets = [Bucket.from_dict(b) for b in manifest.get("buckets") or []] or None
    lo, hi = results["rating_range"]
    boot = results.get("bootstrap") or {}
    report = score_samples(
        samples,
        feature_set=features,
        item_features=item_features(dd, features) if features else None,
        rating_range=(float(lo), float(hi)),
        n_boot=int(boot.get("n", 1000)),
        seed=int(boot.get("seed", 0)),
        meteor=False,
        per_count=bool(results.get("per_count")),
        families=list(families),
        **({} if buckets is None else {"buckets": buckets}),
    ).to_dict()
    added = list(report["metrics"])
    results["metrics"].update(report["metrics"])
    for key in ("buckets", "per_count"):
        for dim, groups in report[key].items():
            mine = results[key].setdefault(dim, {})
            for label, group in groups.items():
                target = mine.setdefault(label, {"n": group["n"], "metrics": {}})
                if target["n"] != group["n"]:
                    raise RunError(f"{path}: {key} {dim} {label} holds {target['n']} samples, the "
                                   f"rescoring {group['n']}; the samples file does not match its results")
                target["metrics"].update(group["metrics"])
    record: dict[str, Any] = {
        "families": list(families),
        "metrics": added,
        "metrics_code": provenance.code_sha256(METRICS_CODE),
        "signatures": {name: METRICS[name].signature for name in added},
        "git_commit": provenance.git_commit(),
        "git_dirty": provenance.git_dirty(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    results["rescored"] = [*(results.get("rescored") or []), record]
    write_results(path, results)
    return added
