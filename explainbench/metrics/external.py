"""Scoring outputs that come from outside: line-aligned text files (`explainbench score`) and any
system's JSON lines matched to a dataset split (`explainbench evaluate`)."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explainbench.api.results import Sample
from explainbench.metrics.errors import MetricsError


def read_lines(path: Path, what: str) -> list[str]:
    """Lines of a UTF-8 text file without their line ends (a missing file is a MetricsError)."""
    path = Path(path)
    if not path.is_file():
        raise MetricsError(f"{path}: no such {what} file")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise MetricsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def samples_from_text(refs_path: Path, hyps_path: Path, features_path: Path | None = None) -> list[Sample]:
    """One Sample per line pair (ids are line numbers; no ratings, no counts)."""
    refs = read_lines(refs_path, "references")
    hyps = read_lines(hyps_path, "hypotheses")
    if not refs:
        raise MetricsError(f"{refs_path}: no references (the file is empty)")
    if len(refs) != len(hyps):
        raise MetricsError(
            f"{refs_path} has {len(refs)} lines but {hyps_path} has {len(hyps)}; "
            "give one hypothesis per reference"
        )
    feats = [""] * len(refs)
    if features_path is not None:
        feats = [f.strip() for f in read_lines(features_path, "features")]
        if len(feats) != len(refs):
            raise MetricsError(
                f"{features_path} has {len(feats)} lines but {refs_path} has {len(refs)}; "
                "give one feature per line"
            )
    return [
        Sample(
            user_id=f"line{i + 1}", item_id=f"line{i + 1}", rating=0.0, reference=r, generated=h, feature=f
        )
        for i, (r, h, f) in enumerate(zip(refs, hyps, feats, strict=True))
    ]


@dataclass(frozen=True)
class OutputLine:
    """One line of an outside system's outputs."""

    user_id: str
    item_id: str
    explanation: str
    predicted_rating: float | None
    predicted_feature: str | None
    line: int


def read_outputs(path: Path) -> list[OutputLine]:
    """JSON lines with user_id, item_id and explanation (or `generated`); predicted_rating and
    predicted_feature are optional. Errors name the file and line."""
    out: list[OutputLine] = []
    for lineno, raw in enumerate(read_lines(path, "samples"), 1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise MetricsError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        if not isinstance(d, dict):
            raise MetricsError(f"{path}:{lineno}: expected a JSON object with user_id, item_id, explanation")
        text = d.get("explanation", d.get("generated"))
        missing = [
            k
            for k, v in (("user_id", d.get("user_id")), ("item_id", d.get("item_id")), ("explanation", text))
            if v is None
        ]
        if missing:
            raise MetricsError(
                f"{path}:{lineno}: missing {', '.join(missing)}; each line needs user_id, item_id, "
                "explanation"
            )
        rating = d.get("predicted_rating")
        if rating is not None and not isinstance(rating, (int, float)):
            raise MetricsError(f"{path}:{lineno}: predicted_rating must be a number (got {rating!r})")
        feature = d.get("predicted_feature")
        out.append(
            OutputLine(
                str(d["user_id"]),
                str(d["item_id"]),
                str(text),
                None if rating is None else float(rating),
                None if feature is None else str(feature),
                lineno,
            )
        )
    if not out:
        raise MetricsError(f"{path}: no outputs (the file is empty)")
    return out


def align_outputs(
    outputs: Sequence[OutputLine],
    test: Any,
    tokenizer: Any,
    *,
    source: str,
    where: str,
    allow_partial: bool = False,
) -> list[Sample]:
    """Match outputs to test records by (user_id, item_id), in test order.

    The reference is the tokenizer's test reference (truncated, vocabulary-mapped), the generated
    text is the tokenizer's words of the output (lower-cased, punctuation split off, not truncated).
    """
    rows = test[:]
    n = len(rows["user_id"])
    slots: dict[tuple[str, str], deque[int]] = {}
    for k in range(n):
        slots.setdefault((str(rows["user_id"][k]), str(rows["item_id"][k])), deque()).append(k)
    given: dict[int, OutputLine] = {}
    for o in outputs:
        queue = slots.get((o.user_id, o.item_id))
        if queue is None:
            raise MetricsError(f"{source}:{o.line}: user {o.user_id!r} item {o.item_id!r} is not in {where}")
        if not queue:
            raise MetricsError(
                f"{source}:{o.line}: user {o.user_id!r} item {o.item_id!r} appears more often than in {where}"
            )
        given[queue.popleft()] = o
    missing = [k for k in range(n) if k not in given]
    if missing and not allow_partial:
        k = missing[0]
        raise MetricsError(
            f"{source}: {len(missing)} of {n} test examples of {where} have no output "
            f"(first: user {rows['user_id'][k]!r} "
            f"item {rows['item_id'][k]!r}); give one line per test example or pass --allow-partial"
        )
    predicted = [given[k].predicted_rating for k in sorted(given)]
    if any(p is None for p in predicted) and any(p is not None for p in predicted):
        raise MetricsError(
            f"{source}: some outputs have predicted_rating and some do not: give it on every line or on none"
        )
    samples = []
    for k in sorted(given):
        o = given[k]
        samples.append(
            Sample(
                user_id=o.user_id,
                item_id=o.item_id,
                rating=float(rows["rating"][k]),
                reference=tokenizer.reference(rows["explanation"][k] or ""),
                generated=" ".join(tokenizer.words(o.explanation)),
                feature=str(rows["feature"][k] or ""),
                user_train_count=int(rows["user_train_count"][k]),
                item_train_count=int(rows["item_train_count"][k]),
                predicted_rating=o.predicted_rating,
                predicted_feature=o.predicted_feature,
                aspect=str((rows.get("aspect") or [""] * n)[k] or ""),
                aspect_terms=list((rows.get("aspect_terms") or [[]] * n)[k] or []),
                detail=str((rows.get("detail") or [""] * n)[k] or ""),
            )
        )
    return samples


def evaluate_outputs(
    samples_path: Path,
    data: str,
    split: int,
    *,
    home: Path | None = None,
    model: str = "external",
    n_boot: int = 1000,
    seed: int = 0,
    meteor: bool = True,
    bertscore: str | None = None,
    allow_partial: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Score an outside system's outputs against split `split` of `data`; writes results.json beside
    the samples file (atomically) and returns its path and content.

    The document comes from api.results.results_document, as for `run`: the same keys, checked by the
    same schema. n.cold counts the test records without training records (all of them are scored when
    outputs are given: cold "serve"); seeds.model is null (no model was trained here); samples_sha256
    is the hash of the outputs file; code_sha256 the hash of explainbench/metrics.
    """
    from explainbench.api.provenance import code_sha256
    from explainbench.api.results import Timings, results_document, samples_sha256, write_results
    from explainbench.data import (
        Bucket,
        feature_set,
        item_features,
        load_manifest,
        load_split,
        load_tokenizer,
    )
    from explainbench.metrics.report import score_samples

    samples_path = Path(samples_path)
    outputs = read_outputs(samples_path)
    manifest = load_manifest(data, home=home)
    dd = load_split(data, split, home=home)
    tokenizer = load_tokenizer(data, split, home=home)
    where = f"the test split of {data} split {split}"
    samples = align_outputs(
        outputs, dd["test"], tokenizer, source=str(samples_path), where=where, allow_partial=allow_partial
    )
    lo, hi = manifest.get("rating_range") or (1.0, 5.0)
    buckets = [Bucket.from_dict(b) for b in manifest.get("buckets") or []] or None
    start = time.perf_counter()
    kwargs: dict[str, Any] = {} if buckets is None else {"buckets": buckets}
    features = feature_set(dd) or None
    report = score_samples(
        samples,
        feature_set=features,
        item_features=item_features(dd, features) if features else None,
        rating_range=(float(lo), float(hi)),
        n_boot=n_boot,
        seed=seed,
        meteor=meteor,
        bertscore=bertscore,
        **kwargs,
    ).to_dict()
    score_s = time.perf_counter() - start
    test = dd["test"]
    counts = test.select_columns(["user_train_count", "item_train_count"])[:]
    n_cold = sum(1 for u, i in zip(counts["user_train_count"], counts["item_train_count"], strict=True)
                 if u <= 0 or i <= 0)
    results = results_document(
        run_id=f"evaluate-{samples_path.stem}",
        model=model,
        dataset=data,
        split=int(split),
        config={"source": "explainbench evaluate", "samples": str(samples_path)},
        dataset_fingerprint=str(manifest.get("fingerprint", "")),
        samples=samples,
        samples_sha256=samples_sha256(samples_path),
        report=report,
        n_original=len(test),
        n_cold=n_cold,
        n_boot=n_boot,
        boot_seed=seed,
        meteor=meteor,
        bertscore=bertscore,
        rating_range=(float(lo), float(hi)),
        timings=Timings(score_s=score_s),
        cold="serve",
        code_sha256=code_sha256([Path(__file__).resolve().parent]),
    )
    out = samples_path.parent / "results.json"
    write_results(out, results)
    return out, results
