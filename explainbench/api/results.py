"""The results files: one Sample per test example (samples.jsonl) and results.json, read and written
through the schema of explainbench.api.schemas on every read and every write.

Metrics see only samples, so any system's outputs can be scored (`explainbench evaluate`).
results.json (schema_version 2; version 1 files still read) is built by results_document() alone, for
`run` and `evaluate` alike; docs/results.md documents each key. It is written compactly (no
indentation), with buckets and per_count stored column-wise; read_results() gives them back as
{label: {n, metrics}} so readers see one shape for every version. samples.jsonl and train_log.jsonl
may be gzip-compressed (samples.jsonl.gz, train_log.jsonl.gz): find_artifact() and the readers here
accept either name.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.api import schemas
from explainbench.api.faults import fault_point, point_for

SCHEMA_VERSION = 2
SAMPLES_FILE = "samples.jsonl"
TRAIN_LOG_FILE = "train_log.jsonl"
GZ = ".gz"


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
    atomic_write_bytes(path, text.encode("utf-8"))


def find_artifact(folder: Path, name: str) -> Path:
    """folder/name, or folder/name.gz when only the compressed copy exists (e.g. a migrated
    leaderboard run); folder/name when neither does (the caller reports it missing)."""
    plain = Path(folder) / name
    if not plain.exists() and plain.with_name(plain.name + GZ).is_file():
        return plain.with_name(plain.name + GZ)
    return plain


def _existing(path: Path) -> Path:
    """path, or path.gz when path is missing and the compressed copy exists."""
    path = Path(path)
    return path if path.name.endswith(GZ) else find_artifact(path.parent, path.name)


def read_bytes(path: Path) -> bytes:
    """The content of a file, decompressed when its name ends in .gz (path may name the plain file
    when only its .gz copy exists)."""
    import gzip

    path = _existing(path)
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(GZ) else data


def read_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed JSON) of each non-blank line of a .jsonl or .jsonl.gz file; a line that is
    not JSON raises ValueError naming file and line."""
    path = _existing(path)
    try:
        text = read_bytes(path).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc}); delete it and re-run") from None
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((lineno, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not a JSON line ({exc.msg})") from None
    return out


def read_samples(path: Path) -> list[Sample]:
    """Read samples.jsonl (or samples.jsonl.gz); each line is checked against the sample schema and a
    bad one raises ValueError (schemas.SchemaError) naming file, line and key."""
    path = _existing(path)
    out: list[Sample] = []
    for lineno, record in read_jsonl(path):
        schemas.validate(schemas.SampleRecord, record, f"{path}:{lineno}")
        out.append(Sample.from_dict(record))
    return out


def samples_sha256(path: Path) -> str:
    """sha256 of a samples file's (uncompressed) bytes: the same for samples.jsonl and its .gz copy."""
    import hashlib

    return hashlib.sha256(read_bytes(path)).hexdigest()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with mtime 0 and no file name: the same input always gives the same bytes."""
    import gzip
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes to path via a temporary file in the same folder and a rename."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fault_point(point_for(path), path=path)  # EXPLAINBENCH_FAULT hook (api/faults.py)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(tmp: Path, dest: Path) -> None:
    """Put the finished folder tmp (made beside dest) in dest's place by renames: an existing dest is moved
    aside first and removed after, and put back if the rename fails, so dest is never half-written."""
    import os
    import shutil
    import tempfile

    tmp, dest = Path(tmp), Path(dest)
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old.")) / dest.name
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old.parent, ignore_errors=True)


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
    """Write samples.jsonl atomically (gzip-compressed when path ends in .gz): a reader sees either no
    file or every line."""
    text = "".join(s.to_json() + "\n" for s in samples)
    if str(path).endswith(GZ):
        atomic_write_bytes(path, gzip_bytes(text.encode("utf-8")))
    else:
        atomic_write_text(path, text)


@dataclass
class Timings:
    """Wall-clock seconds of the train and generate stages and the throughput they give.

    train_examples_per_s counts training records seen (records x epochs where the explainer reports
    epochs, else one pass); None where a stage was skipped on resume and its time is unknown. A training
    resumed from its checkpoint counts the epochs finished before the interruption too (their recorded
    wall time; the part of the interrupted epoch that was lost is not counted).
    """

    train_s: float | None = None
    generate_s: float | None = None
    train_examples_per_s: float | None = None
    generate_sentences_per_s: float | None = None
    score_s: float | None = None
    train_epochs: int | None = None  # epochs the explainer trained (None for one-pass explainers)


# Keys a version 1 file lacks: read_results fills them with None so every reader sees one key set.
V2_ONLY_KEYS = ("generation_key", "scale", "test_ids_sha256", "scoring", "git_dirty", "git_diff_sha256",
                "code_sha256")


def results_document(
    *,
    run_id: str,
    model: str,
    dataset: str,
    split: int,
    config: dict[str, Any],
    dataset_fingerprint: str,
    samples: list[Sample],
    samples_sha256: str,
    report: dict[str, Any],
    n_original: int,
    n_cold: int | None,
    n_boot: int,
    boot_seed: int,
    meteor: bool,
    bertscore: str | None = None,
    rating_range: tuple[float, float],
    timings: Timings,
    model_seed: int | None = None,
    model_package: tuple[str, str] = ("", ""),
    generation_key: str | None = None,
    scale: str | None = None,
    limit: int | None = None,
    cold: str = "skip",
    device: str = "cpu",
    threads: int | None = None,
    processes: int = 1,
    code_sha256: str | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    """The results.json document (schema_version 2) of one scored set of samples.

    The one place results are built: `run` and `evaluate` both call it, so both write the same keys.
    Provenance (git commit, dirty flag, diff hash, library versions) is taken here, at write time.
    report is explainbench.metrics.score_samples(...).to_dict().
    """
    from datetime import datetime, timezone

    from explainbench.api import provenance

    package, package_version = model_package
    doc = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "generation_key": generation_key,
        "model": model,
        "model_package": {"name": package, "version": package_version},
        "dataset": dataset,
        "dataset_fingerprint": dataset_fingerprint,
        "split": int(split),
        "scale": scale,
        "config": config,
        "seeds": {"model": model_seed, "bootstrap": int(boot_seed)},
        "limit": limit,
        "cold": cold,
        "n": {"original": int(n_original), "cold": n_cold, "effective": len(samples)},
        "test_ids_sha256": ids_digest(samples),
        "samples_sha256": samples_sha256,
        "scoring": {"n_boot": int(n_boot), "boot_seed": int(boot_seed), "meteor": bool(meteor),
                    **({"bertscore": str(bertscore)} if bertscore else {})},
        "bootstrap": report.get("bootstrap") or {"n": int(n_boot), "seed": int(boot_seed), "ci": 0.95,
                                                 "method": "percentile"},
        "rating_range": [float(rating_range[0]), float(rating_range[1])],
        "metrics": report.get("metrics", {}),
        "unavailable": report.get("unavailable", {}),
        "buckets": report.get("buckets", {}),
        "per_count": report.get("per_count", {}),
        "timings": dataclasses.asdict(timings),
        "device": device,
        "threads": threads,
        "processes": int(processes),
        "versions": provenance.package_versions([package]),
        "git_commit": provenance.git_commit(),
        "git_dirty": provenance.git_dirty(),
        "git_diff_sha256": provenance.git_diff_sha256(),
        "code_sha256": code_sha256,
        "created": created or datetime.now(timezone.utc).isoformat(timespec="microseconds"),
    }
    doc = json_safe(doc)
    schemas.validate(schemas.ResultsV2, pack_results(doc), "results document")
    return doc


def pack_series(groups: dict[str, Any]) -> dict[str, Any]:
    """{label: {n, metrics {m: {value, ci_low, ci_high}}}} -> {labels, n, metrics {m: {value: [..],
    ci_low: [..], ci_high: [..]}}}: the column-wise form results.json v2 stores (the metric and field
    names once per series instead of once per label)."""
    labels = [str(k) for k in groups]
    names = list(dict.fromkeys(m for g in groups.values() for m in g.get("metrics", {})))
    metrics = {
        m: {f: [(g.get("metrics", {}).get(m) or {}).get(f) for g in groups.values()]
            for f in ("value", "ci_low", "ci_high")}
        for m in names
    }
    return {"labels": labels, "n": [g.get("n") for g in groups.values()], "metrics": metrics}


def unpack_series(series: dict[str, Any]) -> dict[str, Any]:
    """The inverse of pack_series (a metric a label lacks was stored as nulls and comes back as such)."""
    out: dict[str, Any] = {}
    for k, label in enumerate(series["labels"]):
        out[label] = {
            "n": series["n"][k],
            "metrics": {m: {f: cols[f][k] for f in ("value", "ci_low", "ci_high")}
                        for m, cols in series["metrics"].items()},
        }
    return out


def pack_results(doc: dict[str, Any]) -> dict[str, Any]:
    """The on-disk form of a v2 document: buckets and per_count column-wise."""
    out = dict(doc)
    for key in ("buckets", "per_count"):
        out[key] = {dim: pack_series(groups) for dim, groups in (doc.get(key) or {}).items()}
    return out


def dumps_results(doc: dict[str, Any]) -> str:
    """results.json text of a v2 document: checked against the schema, compact, one trailing newline."""
    packed = pack_results(json_safe(doc))
    schemas.validate(schemas.ResultsV2, packed, "results document")
    return json.dumps(packed, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def write_results(path: Path, doc: dict[str, Any]) -> None:
    """Write results.json (schema_version 2) atomically; a document that breaks the schema is refused
    before anything is written."""
    try:
        text = dumps_results(doc)
    except schemas.SchemaError as exc:
        raise schemas.SchemaError(str(exc).replace("results document", str(path), 1)) from None
    atomic_write_text(path, text)


def parse_results(data: Any, where: str) -> dict[str, Any]:
    """A results.json document checked against its version's schema, in the shape readers use:
    buckets and per_count as {label: {n, metrics}}, and the keys of version 2 present (None where a
    version 1 file does not know them). Raises schemas.SchemaError (one line: where and the key)."""
    version = schemas.validate_results(data, where)
    out = dict(data)
    if version >= 2:
        for key in ("buckets", "per_count"):
            out[key] = {dim: unpack_series(s) for dim, s in data[key].items()}
    else:
        for key in V2_ONLY_KEYS:
            out.setdefault(key, None)
    return out


def read_results(path: Path) -> dict[str, Any]:
    """Read and check results.json (schema_version 1 or 2); raises ValueError (one line naming the file
    and the key) when it is not JSON or does not fit the schema."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); delete it and re-run") from None
    return parse_results(data, str(path))
