"""Where runs live on disk, how they are named, locked and found again.

Layout: $EXPLAINBENCH_HOME/runs/<data>/split-<k>/<model>/<run-id>/ holding config.yaml, model/
(the saved explainer), checkpoint/ and train_log.jsonl (neural models), generate.json,
samples.jsonl, results.json (written last: its presence means the run is complete).

A run id is a hash of what determines the numbers: the generation key (model, dataset fingerprint,
split, resolved config and seed, --limit, cold-start policy, versions, code hash of the model, engine
and tokenizer) and the scoring key (bootstrap resamples and seed, METEOR, code hash of the metrics). The
same experiment always lands in the same folder: re-running it is a no-op, and two processes asked
for it at once serialise on the folder's lock file. A run whose generation key matches a finished
sibling reuses that sibling's model and samples and only scores (a metric fix re-scores, no retraining).
samples.jsonl and train_log.jsonl may be stored gzip-compressed (.gz); find_artifact finds either.
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

from explainbench.api.results import find_artifact, read_results, read_samples

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"
TRAIN_LOG_FILE = "train_log.jsonl"
CONFIG_FILE = "config.yaml"
MODEL_DIR = "model"
GENERATE_FILE = "generate.json"
LOCK_FILE = ".lock"
_SPLIT_DIR = re.compile(r"^split-(\d+)$")


PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # explainbench/
# The code that fixes the generated samples besides the model's own folder, and the code that scores
# them: a change to any *.py file under these changes the generation key or the run id respectively.
GENERATION_CODE: list[Path] = [PACKAGE_ROOT / "engine", PACKAGE_ROOT / "data" / "tokenizer.py"]
METRICS_CODE: list[Path] = [PACKAGE_ROOT / "metrics"]


def _digest(key: dict[str, Any]) -> str:
    blob = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def generation_key(
    *,
    model: str,
    data: str,
    split: int,
    config: dict[str, Any],
    dataset_fingerprint: str,
    limit: int | None,
    cold: str = "skip",
    model_code: Path | None = None,
    versions: dict[str, str] | None = None,
    world_size: int = 1,
    inputs: dict[str, str] | None = None,
) -> str:
    """sha256 of everything that fixes the generated samples: model, dataset fingerprint, split,
    resolved config (seed and precision included), --limit, the cold-start policy, the explainbench
    and plugin versions, the code hash of the model's folder, explainbench/engine and the tokenizer,
    the number of data-parallel processes when there are several (their dropout streams differ from
    one process's), and the digests of the files the explainer reads beyond its config (inputs:
    Explainer.identity_inputs, e.g. pretrained weights). Two runs with the same key train the same
    model and generate the same samples. (world_size 1 and no inputs leave the key as it was before
    either existed.)"""
    from explainbench.api.provenance import code_sha256

    roots = ([model_code] if model_code is not None else []) + list(GENERATION_CODE)
    return _digest(
        {
            "model": model,
            "data": data,
            "split": int(split),
            "config": config,
            "dataset_fingerprint": dataset_fingerprint,
            "limit": limit,
            "cold": cold,
            "versions": dict(sorted((versions or {}).items())),
            "code": code_sha256(roots),
            **({"world_size": int(world_size)} if world_size > 1 else {}),
            **({"inputs": dict(sorted(inputs.items()))} if inputs else {}),
        }
    )


def scoring_key(
    *, n_boot: int, boot_seed: int, meteor: bool, bertscore: str | None = None
) -> dict[str, Any]:
    """What fixes the numbers computed from given samples: the scoring options and the metrics code."""
    from explainbench.api.provenance import code_sha256
    from explainbench.metrics.registry import METRICS, PLUGINS

    key = {"n_boot": int(n_boot), "boot_seed": int(boot_seed), "meteor": bool(meteor),
           "metrics_code": code_sha256(METRICS_CODE)}
    if bertscore:  # BERTScore's model (absent when off, so the keys of runs without it are unchanged)
        key["bertscore"] = str(bertscore)
    if PLUGINS:  # installed metric plugins add numbers: their signatures name package, version, impl_v
        key["metric_plugins"] = {name: METRICS[name].signature for name in sorted(PLUGINS)}
    return key


def run_id_for(generation: str, scoring: dict[str, Any]) -> str:
    """12 hex digits of sha256 over the generation key and the scoring key: the run's folder name.

    Everything that changes a number is in one of the two keys; the device and thread count are
    recorded in results.json but left out (they change timings, not the experiment).
    """
    return _digest({"generation_key": generation, "scoring": scoring})[:12]


def run_code_sha256(model_code: Path | None) -> str:
    """The code hash recorded in results.json: the model's folder, engine, tokenizer and metrics."""
    from explainbench.api.provenance import code_sha256

    roots = ([model_code] if model_code is not None else []) + list(GENERATION_CODE) + list(METRICS_CODE)
    return code_sha256(roots)


def generation_sibling(model_dir: Path, key: str, exclude: Path) -> Path | None:
    """A finished run in the same model folder whose samples come from the same generation key (so its
    model/ and samples can be reused and only the scoring redone), else None."""
    if not Path(model_dir).is_dir():
        return None
    for rdir in sorted(p for p in Path(model_dir).iterdir() if p.is_dir() and p != exclude):
        results_path = rdir / RESULTS_FILE
        if not results_path.is_file() or not find_artifact(rdir, SAMPLES_FILE).is_file():
            continue
        try:
            if read_results(results_path).get("generation_key") == key:
                return rdir
        except ValueError:
            continue
    return None


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
        return read_samples(find_artifact(self.path, SAMPLES_FILE))


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


COMMAND_FILE = "command.txt"
_SCALE_OPTION = re.compile(r"--scale[= ]+(\S+)")


def _v2_from_v1(old: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A version 1 results document (as parse_results gives it) rewritten as version 2: every metric
    value and the recorded run_id kept; scale from command.txt's --scale, scoring from the bootstrap
    settings and whether METEOR was scored, test_ids_sha256 from the samples; provenance the old file
    did not record (dirty flag, diff and code hashes, generation key) stays null."""
    from explainbench.api.results import SCHEMA_VERSION, ids_digest

    doc = dict(old)
    command = folder / COMMAND_FILE
    match = _SCALE_OPTION.search(command.read_text(encoding="utf-8")) if command.is_file() else None
    boot = dict(old.get("bootstrap") or {})
    seeds = dict(old.get("seeds") or {})
    n_boot, boot_seed = int(boot.get("n", 0)), int(boot.get("seed", seeds.get("bootstrap", 0)))
    samples = find_artifact(folder, SAMPLES_FILE)
    doc.update(
        schema_version=SCHEMA_VERSION,
        scale=match.group(1) if match else None,
        scoring={"n_boot": n_boot, "boot_seed": boot_seed,
                 "meteor": any(name == "meteor" for name in old.get("metrics", {}))},
        bootstrap={"n": n_boot, "seed": boot_seed, "ci": boot.get("ci", 0.95),
                   "method": boot.get("method", "percentile")},
        test_ids_sha256=ids_digest(read_samples(samples)) if samples.is_file() else None,
        seeds={"model": seeds.get("model"), "bootstrap": int(seeds.get("bootstrap", boot_seed))},
        n={"original": old["n"]["original"], "cold": old["n"].get("cold"),
           "effective": old["n"]["effective"]},
        model_package={"name": str((old.get("model_package") or {}).get("name", "")),
                       "version": str((old.get("model_package") or {}).get("version", ""))},
    )
    return doc


def _compress(folder: Path, name: str) -> list[Path]:
    """name -> name.gz (deterministic gzip, written atomically), then the plain file removed."""
    from explainbench.api.results import atomic_write_bytes, gzip_bytes, read_bytes

    plain, packed = folder / name, folder / f"{name}.gz"
    if not plain.is_file():
        return []
    data = plain.read_bytes()
    changed = []
    if not packed.is_file() or read_bytes(packed) != data:
        atomic_write_bytes(packed, gzip_bytes(data))
        changed.append(packed)
    plain.unlink()
    return [*changed, plain]


def migrate_run_folder(folder: Path) -> list[Path]:
    """Bring one stored run to the current format in place: results.json to schema_version 2 (compact),
    samples.jsonl and train_log.jsonl to their .gz copies. Each file is replaced atomically, and a
    second call changes nothing. Returns the paths written or removed."""
    from explainbench.api.results import dumps_results, parse_results

    folder = Path(folder)
    path = folder / RESULTS_FILE
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    doc = parse_results(data, str(path))
    if data.get("schema_version") == 1:
        doc = _v2_from_v1(doc, folder)
    text = dumps_results(doc).encode("utf-8")
    changed: list[Path] = []
    if text != raw:
        from explainbench.api.results import atomic_write_bytes

        atomic_write_bytes(path, text)
        changed.append(path)
    for name in (SAMPLES_FILE, TRAIN_LOG_FILE):
        changed += _compress(folder, name)
    return changed


def migrate_tree(root: Path) -> tuple[int, list[Path]]:
    """migrate_run_folder on every folder under root holding a results.json: (runs seen, paths changed)."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder; give a leaderboard folder")
    folders = sorted(p.parent for p in root.rglob(RESULTS_FILE) if not any(
        part.startswith(".") for part in p.relative_to(root).parts))
    changed: list[Path] = []
    for folder in folders:
        changed += migrate_run_folder(folder)
    return len(folders), changed
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
