"""The results schema: one Sample per test example (samples.jsonl) and the results.json layout.

Metrics see only samples, so any system's outputs can be scored (`explainbench evaluate`).
results.json (schema_version 1) holds: schema_version, run_id, model, dataset, split, config (resolved),
seeds, versions (python, torch, explainbench, ...), git_commit, dataset_fingerprint,
n {original, effective}, metrics {name: {value, ci_low, ci_high, signature, family}},
buckets {user|item: {label: {n, metrics {name: {value, ci_low, ci_high}}}}}, per_count series,
timings {train_s, generate_s, train_examples_per_s, generate_sentences_per_s, score_s}; RunResults
below is the full field list and docs/results.md documents each field.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.api.faults import fault_point, point_for

SCHEMA_VERSION = 1


@dataclass
class Sample:
    """One scored test example. reference is the vocabulary-mapped, truncated reference sentence."""

    user_id: str
    item_id: str
    rating: float
    reference: str
    generated: str
    feature: str = ""  # ground-truth feature word ("" where the record has none)
    user_train_count: int = 0
    item_train_count: int = 0
    predicted_rating: float | None = None
    predicted_feature: str | None = None
    aspect: str = ""  # synthetic data only: the ground-truth aspect name
    aspect_terms: list[str] = field(default_factory=list)  # its surface words
    detail: str = ""  # synthetic data only: the item detail phrase mentioned by the reference, if any

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def ids_digest(samples: list[Sample]) -> str:
    """sha256 of the scored test records' (user, item) ids in order: two runs scored the same test
    set exactly when their digests (and n) agree."""
    import hashlib

    digest = hashlib.sha256()
    for s in samples:
        digest.update(f"{s.user_id}\t{s.item_id}\n".encode())
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temporary file in the same folder and a rename (never half-written)."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fault_point(point_for(path), path=path)  # EXPLAINBENCH_FAULT hook (api/faults.py)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_samples(path: Path) -> list[Sample]:
    """Read samples.jsonl; a malformed line raises ValueError naming file and line."""
    out: list[Sample] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(Sample.from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: not a sample record ({exc})") from None
    return out


def json_safe(value: Any) -> Any:
    """value with NaN and infinities replaced by None (strict JSON has no NaN)."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write strict JSON (2-space indent, UTF-8, NaN -> null, trailing newline) atomically."""
    text = json.dumps(json_safe(payload), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def write_samples(path: Path, samples: list[Sample]) -> None:
    """Write samples.jsonl atomically: a reader sees either no file or every line."""
    atomic_write_text(path, "".join(s.to_json() + "\n" for s in samples))


@dataclass
class Timings:
    """Wall-clock seconds of the train and generate stages and the throughput they give.

    train_examples_per_s counts training records seen (records x epochs where the explainer reports
    epochs, else one pass); None where a stage was skipped on resume and its time is unknown.
    """

    train_s: float | None = None
    generate_s: float | None = None
    train_examples_per_s: float | None = None
    generate_sentences_per_s: float | None = None
    score_s: float | None = None
    train_epochs: int | None = None  # epochs the explainer trained (None for one-pass explainers)


REQUIRED_RESULT_KEYS = (
    "schema_version",
    "run_id",
    "model",
    "dataset",
    "split",
    "config",
    "seeds",
    "versions",
    "dataset_fingerprint",
    "n",
    "metrics",
    "buckets",
    "timings",
)


@dataclass
class RunResults:
    """results.json of one run (schema_version 1); see docs/results.md for every field."""

    run_id: str
    model: str
    dataset: str
    split: int
    config: dict[str, Any]
    seeds: dict[str, int]
    versions: dict[str, str]
    dataset_fingerprint: str
    n: dict[str, int]  # {"original": test records, "cold": cold-start records, "effective": scored}
    metrics: dict[str, dict[str, Any]]
    buckets: dict[str, Any]
    timings: Timings
    per_count: dict[str, Any] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # metric -> why it was not computed
    model_package: dict[str, str] = field(default_factory=dict)  # {"name", "version"} of the plugin
    git_commit: str | None = None
    device: str = "cpu"
    threads: int | None = None  # torch CPU threads (None: the explainer does not use torch)
    rating_range: list[float] = field(default_factory=lambda: [1.0, 5.0])  # RMSE/MAE clip range
    limit: int | None = None
    cold: str = "skip"  # cold-start policy: skip | serve (see runner.run._cold_filter)
    created: str = ""  # ISO 8601 UTC, when results.json was written
    samples_sha256: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResults:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["timings"] = Timings(**{k: v for k, v in dict(d.get("timings") or {}).items()
                                       if k in {f.name for f in dataclasses.fields(Timings)}})
        return cls(**values)


def read_results(path: Path) -> dict[str, Any]:
    """Read and check results.json; raises ValueError naming the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); delete it and re-run") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    missing = [k for k in REQUIRED_RESULT_KEYS if k not in data]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; not an explainbench results file")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema_version {data['schema_version']}, this explainbench reads {SCHEMA_VERSION}"
        )
    return data
