"""What the reliability suite shares: the tiny NRT run, the CLI in a subprocess, and home checks.

The CLI always runs as `python -m explainbench.cli.main` in its own process (as a user runs it), with
EXPLAINBENCH_HOME set and EXPLAINBENCH_FAULT only where a test asks for a fault (api/faults.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from explainbench.api.results import read_results, read_samples

REPO = Path(__file__).resolve().parents[2]
DATA = "synthetic-tiny"
# A few seconds of training: 2 epochs of 13 steps (batch 128 over ~1,600 training records).
NRT_SETS = ("emb_size=8", "hidden_size=8", "rating_layers=1", "max_epochs=2", "batch_size=128")
STEPS_PER_EPOCH = 13
EPOCHS = 2
NRT = ("run", "--model", "nrt", "--data", DATA, "--limit", "20", "--n-boot", "10", "--no-meteor",
       "--no-progress", "--device", "cpu", *(x for s in NRT_SETS for x in ("--set", s)))
# Fields of results.json that legitimately differ between two runs of the same experiment.
# the working tree's state: a file edited (docs too) while the suite runs changes them between two runs;
# code_sha256, the part of the identity that changes numbers, stays compared
VOLATILE = {"timings", "created", "git_dirty", "git_diff_sha256"}


def env(home: Path, fault: str | None = None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in {"EXPLAINBENCH_FAULT", "EXPLAINBENCH_DEBUG"}}
    out.update({"EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "COLUMNS": "400"})
    if fault:
        out["EXPLAINBENCH_FAULT"] = fault
    return out


def cli(home: Path, *args: str, fault: str | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainbench.cli.main", *args], env=env(home, fault),
                          capture_output=True, text=True, timeout=300, cwd=cwd or REPO)


def popen(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "explainbench.cli.main", *args], env=env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused command (asserts exit status 2, no traceback, one line)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    return errors[0]


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def unchanged(before: dict[str, str], after: dict[str, str], *, may_add: tuple[str, ...] = ()) -> None:
    """Every file of before is still there with the same bytes; new files are only locks or may_add."""
    changed = [k for k, v in before.items() if after.get(k) != v]
    assert not changed, f"changed or removed: {changed}"
    added = [k for k in after if k not in before
             and not k.endswith(".lock") and Path(k).name not in may_add]
    assert not added, f"new files: {added}"


def nrt_run_dir(home: Path) -> Path:
    (rdir,) = [p.parent for p in (home / "runs" / DATA / "split-1" / "nrt").glob("*/config.yaml")]
    return rdir


def assert_clean_home(home: Path) -> None:
    """No temporary or half-written file anywhere, and every artefact reads back."""
    for path in home.rglob("*"):
        assert not (path.name.endswith(".tmp") or path.name.startswith(".model.")), f"left over: {path}"
        if not path.is_file():
            continue
        if path.name == "results.json":
            read_results(path)
        elif path.name.startswith("samples.jsonl"):
            read_samples(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.name == "train_log.jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        elif path.suffix == ".pt":
            torch.load(path, map_location="cpu", weights_only=True)


def comparable(results: dict) -> dict:
    return {k: v for k, v in results.items() if k not in VOLATILE}


def epoch_lines(rdir: Path) -> list[dict]:
    rows = [json.loads(x) for x in (rdir / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in r.items() if k not in {"train_s", "examples_per_s", "wall_s"}}
            for r in rows if r.get("kind") == "epoch"]


def fresh_home(src: Path, dest: Path) -> Path:
    """A copy of the home src at dest (lock files left behind)."""
    import shutil

    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.lock"))
    return dest
