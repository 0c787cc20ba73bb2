"""`explainbench run --resume`: a run killed (EXPLAINBENCH_FAULT) after its first epoch checkpoint
finishes with the same metrics and samples as an uninterrupted run with the same seed (tiny PETER on CPU)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from explainbench.api.results import read_results

DATA = "synthetic-tiny"
ARGS = [
    "run", "--model", "peter", "--data", DATA, "--limit", "20", "--n-boot", "10", "--no-meteor",
    "--no-progress",
    "--set", "d_model=16", "--set", "d_ffn=32", "--set", "n_layers=1", "--set", "max_epochs=2",
    "--set", "batch_size=256", "--device", "cpu",
]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1"}


def _cli(home: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainbench.cli.main", *ARGS, *extra], env=_env(home),
                          capture_output=True, text=True, timeout=300)


def test_killed_run_resumes_to_the_same_results(tiny_home, tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    shutil.copytree(tiny_home / "datasets", whole / "datasets")
    shutil.copytree(tiny_home / "datasets", broken / "datasets")

    # Killed (SIGKILL) right after optimiser step 10, in epoch 2, through the fault hook (api/faults.py):
    # the epoch-1 checkpoint is on disk, and where the run dies does not depend on timing.
    killed = subprocess.run([sys.executable, "-m", "explainbench.cli.main", *ARGS],
                            env={**_env(broken), "EXPLAINBENCH_FAULT": "step:10:kill"},
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (checkpoint,) = (broken / "runs").glob("*/split-1/peter/*/checkpoint/*.pt")
    run_dir = checkpoint.parents[1]
    assert not (run_dir / "results.json").exists() and not (run_dir / "model").exists()

    resumed = _cli(broken, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "continuing the interrupted training" in resumed.stderr
    uninterrupted = _cli(whole)
    assert uninterrupted.returncode == 0, uninterrupted.stderr

    a = read_results(run_dir / "results.json")
    (b_path,) = (whole / "runs" / DATA / "split-1" / "peter").glob("*/results.json")
    b = read_results(b_path)
    assert a["run_id"] == b["run_id"]
    assert a["timings"]["train_epochs"] == b["timings"]["train_epochs"]
    assert a["metrics"] == b["metrics"]
    assert (run_dir / "samples.jsonl").read_bytes() == (b_path.parent / "samples.jsonl").read_bytes()
