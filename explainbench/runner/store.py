"""Where runs live on disk, how they are named, locked and found again.

Layout: $EXPLAINBENCH_HOME/runs/<data>/split-<k>/<model>/<run-id>/ holding config.yaml, model/
(the saved explainer), checkpoint/ and train_log.jsonl (neural models), generate.json,
samples.jsonl, results.json (written last: its presence means the run is complete).

A run id is a hash of what determines the result (model, data, split, resolved config, dataset
fingerprint, --limit), so the same experiment always lands in the same folder: re-running it is a
no-op, and two processes asked for it at once serialise on the folder's lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from explainbench.api.results import read_results, read_samples

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"
CONFIG_FILE = "config.yaml"
MODEL_DIR = "model"
GENERATE_FILE = "generate.json"
LOCK_FILE = ".lock"
_SPLIT_DIR = re.compile(r"^split-(\d+)$")


def run_id_for(
    *,
    model: str,
    data: str,
    split: int,
    config: dict[str, Any],
    dataset_fingerprint: str,
    limit: int | None,
    cold: str = "skip",
) -> str:
    """12 hex digits of sha256 over the canonical JSON of everything that fixes the outcome.

    The device, threads, the number of bootstrap resamples and package versions are left out: they
    are recorded in results.json but do not make a different experiment. The cold-start policy
    enters the key only when it is not the default ("skip"), so default runs keep their ids.
    """
    key = {
        "model": model,
        "data": data,
        "split": int(split),
        "config": config,
        "dataset_fingerprint": dataset_fingerprint,
        "limit": limit,
    }
    if cold != "skip":
        key["cold"] = cold
    blob = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def runs_root(home: Path) -> Path:
    return Path(home) / "runs"


def run_dir(home: Path, data: str, split: int, model: str, run_id: str) -> Path:
    return runs_root(home) / data / f"split-{int(split)}" / model / run_id


@contextlib.contextmanager
def locked(path: Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive lock file (flock on POSIX) across processes and threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=timeout)
    with lock:
        yield


def dataset_lock_path(home: Path, data: str) -> Path:
    return Path(home) / "locks" / f"dataset-{data}.lock"


@dataclass
class RunRecord:
    """A finished run found on disk."""

    model: str
    dataset: str
    split: int
    run_id: str
    path: Path
    results: dict[str, Any]

    @property
    def created(self) -> str:
        return str(self.results.get("created") or "")

    def samples(self) -> list:
        return read_samples(self.path / SAMPLES_FILE)


def finished_runs(
    home: Path,
    data: str,
    *,
    models: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
) -> list[RunRecord]:
    """Every complete run (results.json present) of a dataset, optionally filtered."""
    root = runs_root(home) / data
    out: list[RunRecord] = []
    if not root.is_dir():
        return out
    for split_dir in sorted(root.iterdir()):
        match = _SPLIT_DIR.match(split_dir.name)
        if not match or not split_dir.is_dir():
            continue
        split = int(match.group(1))
        if splits is not None and split not in splits:
            continue
        for model_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            if models is not None and model_dir.name not in models:
                continue
            for rdir in sorted(p for p in model_dir.iterdir() if p.is_dir()):
                results_path = rdir / RESULTS_FILE
                if not results_path.is_file():
                    continue
                out.append(
                    RunRecord(model_dir.name, data, split, rdir.name, rdir, read_results(results_path))
                )
    return out


def latest_runs(runs: Sequence[RunRecord]) -> dict[tuple[str, int], RunRecord]:
    """The most recently finished run per (model, split), by results.json's `created` time."""
    best: dict[tuple[str, int], RunRecord] = {}
    for run in runs:
        key = (run.model, run.split)
        if key not in best or (run.created, run.run_id) > (best[key].created, best[key].run_id):
            best[key] = run
    return best


def remove_temporaries(rdir: Path) -> list[Path]:
    """Delete what a killed process left half-written in a run folder: atomic writers' `.NAME.*.tmp`
    files (in the folder, checkpoint/ and model/) and `.model.*` folders never renamed into place.

    Call it holding the run's lock (no live writer then); returns what it removed.
    """
    import shutil

    removed: list[Path] = []
    for folder in (rdir, rdir / "checkpoint", rdir / MODEL_DIR):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
            elif folder == rdir and path.name.startswith(".model.") and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
