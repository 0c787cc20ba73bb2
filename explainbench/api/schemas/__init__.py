"""One schema for the files a run writes: results.json, samples.jsonl and train_log.jsonl.

Pydantic models, used on every write and every read (explainbench.api.results), and exported as JSON
Schema files shipped beside this module (results.v2.schema.json, results.v1.schema.json,
sample.schema.json, train_log.schema.json) for readers in other languages. A test keeps the files
current; regenerate them with `python -m explainbench.api.schemas`.

results.json versions: 1 (the files written before run identity and provenance; leaderboard/ holds
them) and 2 (this version: scale, scoring, test_ids_sha256, git_dirty, git_diff_sha256, code_sha256,
generation_key; buckets and per_count stored column-wise). Readers accept both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

SCHEMA_DIR = Path(__file__).resolve().parent
RESULTS_VERSIONS = (1, 2)


class _Strict(BaseModel):
    """No extra keys, no type coercion ("1" is not an int, 1.0 is not an int, true is not an int)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Metric(_Strict):
    """A corpus metric: value, 95% bootstrap interval (null without bootstrap), signature, family."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    signature: str
    family: str


class CellMetric(_Strict):
    value: float | None
    ci_low: float | None
    ci_high: float | None


class Group(_Strict):
    """The metrics of one group of test examples (a sparsity bucket, or one training count)."""

    n: int
    metrics: dict[str, CellMetric]


class SeriesColumns(_Strict):
    """values, ci_low, ci_high of one metric, one entry per label of the series."""

    value: list[float | None]
    ci_low: list[float | None]
    ci_high: list[float | None]


class Series(_Strict):
    """Groups stored column-wise (v2): labels[k] has n[k] examples and metrics[m].value[k]."""

    labels: list[str]
    n: list[int]
    metrics: dict[str, SeriesColumns]

    @model_validator(mode="after")
    def _same_lengths(self) -> Series:
        k = len(self.labels)
        if len(self.n) != k:
            raise ValueError(f"n has {len(self.n)} entries for {k} labels")
        for name, cols in self.metrics.items():
            for field in ("value", "ci_low", "ci_high"):
                if len(getattr(cols, field)) != k:
                    raise ValueError(f"metrics.{name}.{field} has {len(getattr(cols, field))} entries "
                                     f"for {k} labels")
        return self


class TimingsModel(_Strict):
    train_s: float | None = None
    generate_s: float | None = None
    train_examples_per_s: float | None = None
    generate_sentences_per_s: float | None = None
    score_s: float | None = None
    train_epochs: int | None = None


class Bootstrap(_Strict):
    n: int
    seed: int
    ci: float
    method: str


class CountsV1(_Strict):
    original: int
    cold: int | None = None
    effective: int


class Counts(_Strict):
    original: int
    cold: int | None
    effective: int


class Seeds(_Strict):
    model: int | None
    bootstrap: int


class Scoring(_Strict):
    """The scoring options that change a number: bootstrap resamples and seed, METEOR on or off."""

    n_boot: int
    boot_seed: int
    meteor: bool
    bertscore: str | None = None  # the BERTScore model where it was asked for (absent otherwise)


class Rescore(_Strict):
    """Metrics added to a finished run from its samples (explainbench leaderboard rescore)."""

    families: list[str]
    metrics: list[str]
    metrics_code: str
    signatures: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None
    created: str


class ModelPackage(_Strict):
    name: str
    version: str


class ResultsV1(_Strict):
    """results.json as written before run identity and provenance (schema_version 1)."""

    schema_version: Literal[1]
    run_id: str
    model: str
    dataset: str
    split: int
    config: dict[str, Any]
    seeds: dict[str, int]
    versions: dict[str, str]
    dataset_fingerprint: str
    n: CountsV1
    metrics: dict[str, Metric]
    buckets: dict[str, dict[str, Group]]
    timings: TimingsModel
    per_count: dict[str, dict[str, Group]] = {}
    bootstrap: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    model_package: dict[str, str] = {}
    git_commit: str | None = None
    device: str = "cpu"
    threads: int | None = None
    rating_range: list[float] = [1.0, 5.0]
    limit: int | None = None
    cold: str = "skip"
    created: str = ""
    samples_sha256: str = ""


class ResultsV2(_Strict):
    """results.json (schema_version 2); docs/results.md documents every key. Every key is required
    (null where unknown), so a file either holds the whole record or is refused."""

    schema_version: Literal[2]
    run_id: str
    generation_key: str | None
    model: str
    model_package: ModelPackage
    dataset: str
    dataset_fingerprint: str
    split: int
    scale: str | None
    config: dict[str, Any]
    seeds: Seeds
    limit: int | None
    cold: str
    n: Counts
    test_ids_sha256: str | None
    samples_sha256: str
    scoring: Scoring | None
    bootstrap: Bootstrap
    rating_range: list[float]
    metrics: dict[str, Metric]
    unavailable: dict[str, str]
    buckets: dict[str, Series]
    per_count: dict[str, Series]
    timings: TimingsModel
    device: str
    threads: int | None
    processes: int = 1  # data-parallel training processes (torchrun); absent in results written before
    versions: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None
    git_diff_sha256: str | None
    code_sha256: str | None
    created: str
    rescored: list[Rescore] = []  # families added later from the samples; absent when none was


class SampleRecord(_Strict):
    """One line of samples.jsonl: one scored test example."""

    user_id: str
    item_id: str
    rating: float
    reference: str
    generated: str
    feature: str = ""
    user_train_count: int = 0
    item_train_count: int = 0
    predicted_rating: float | None = None
    predicted_feature: str | None = None
    aspect: str = ""
    aspect_terms: list[str] = []
    detail: str = ""


class TrainLogRecord(BaseModel):
    """One line of train_log.jsonl: a "step" (loss parts of one optimiser step) or an "epoch" (train and
    validation losses, learning rate, early-stopping state). Further keys are the objective's named
    parts (numbers, or null where not finite)."""

    model_config = ConfigDict(extra="allow", strict=True)

    stage: str
    kind: Literal["step", "epoch"]
    epoch: int
    step: int
    lr: float

    @model_validator(mode="after")
    def _numeric_parts(self) -> TrainLogRecord:
        for key, value in (self.model_extra or {}).items():
            if value is not None and not isinstance(value, (int, float)):
                raise ValueError(f"key {key!r} must be a number or null, got {type(value).__name__}")
        return self


RESULTS_MODELS: dict[int, type[BaseModel]] = {1: ResultsV1, 2: ResultsV2}
SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "results.v1.schema.json": ResultsV1,
    "results.v2.schema.json": ResultsV2,
    "sample.schema.json": SampleRecord,
    "train_log.schema.json": TrainLogRecord,
}


class SchemaError(ValueError):
    """A file that does not match its schema; the message is one line naming the file and the key."""


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def explain(error: ValidationError, where: str) -> str:
    """One line for the first problem pydantic found: the file, the key and what is wrong."""
    first = error.errors(include_url=False)[0]
    key, kind = _where(tuple(first["loc"])), first["type"]
    if kind == "missing":
        what = f"missing key {key!r}"
    elif kind == "extra_forbidden":
        what = f"unknown key {key!r}"
    else:
        got = first.get("input")
        scalar = isinstance(got, (str, int, float, bool, type(None)))
        shown = json.dumps(got)[:60] if scalar else type(got).__name__
        what = f"key {key!r}: {first['msg'].lower()} (got {shown})"
    more = len(error.errors()) - 1
    return f"{where}: {what}" + (f" (+{more} more)" if more > 0 else "")


def validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    """data checked against model; a SchemaError (one line naming where and the key) if it does not fit."""
    if not isinstance(data, dict):
        raise SchemaError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(explain(exc, where)) from None


def validate_results(data: Any, where: str) -> int:
    """Check a results.json document against the schema of its schema_version; returns that version."""
    if not isinstance(data, dict):
        raise SchemaError(f"{where}: expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version")
    if version not in RESULTS_MODELS or isinstance(version, bool):
        if "schema_version" not in data:
            raise SchemaError(f"{where}: missing key 'schema_version'; not an explainbench results file")
        raise SchemaError(
            f"{where}: schema_version {version!r}; this explainbench reads versions "
            f"{', '.join(map(str, RESULTS_VERSIONS))} (upgrade explainbench)"
        )
    validate(RESULTS_MODELS[version], data, where)
    return int(version)


def json_schema(model: type[BaseModel]) -> str:
    """The JSON Schema text shipped for a model (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema_files(folder: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)write the shipped JSON Schema files; returns their paths."""
    out = []
    for name, model in SCHEMA_FILES.items():
        path = Path(folder) / name
        path.write_text(json_schema(model), encoding="utf-8")
        out.append(path)
    return out

