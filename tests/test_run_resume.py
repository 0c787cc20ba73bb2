"""`explainbench run --resume`: a run killed (EXPLAINBENCH_FAULT) after its first epoch checkpoint
finishes with the same metrics and samples as an uninterrupted run with the same seed (tiny PETER on CPU)."""

from __future__ import annotations

import json
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
    # the resumed run's training time covers epoch 1, finished before the kill, as well
    epochs = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    epoch_1 = next(r for r in epochs if r.get("kind") == "epoch" and r["epoch"] == 1)
    epoch_2 = next(r for r in epochs if r.get("kind") == "epoch" and r["epoch"] == 2)
    assert epoch_1["wall_s"] >= epoch_1["train_s"] > 0
    assert a["timings"]["train_s"] > epoch_1["wall_s"] + epoch_2["wall_s"]
    assert a["metrics"] == b["metrics"]
    assert (run_dir / "samples.jsonl").read_bytes() == (b_path.parent / "samples.jsonl").read_bytes()


def test_a_resumed_training_time_counts_the_epochs_before_the_interruption():
    from types import SimpleNamespace

    from explainbench.runner.run import _time_before_resume

    history = [
        {"kind": "epoch", "epoch": 1, "train_s": 3.0, "wall_s": 4.0},
        {"kind": "step", "epoch": 2, "train_s": 99.0},
        {"kind": "epoch", "epoch": 2, "train_s": 5.0},  # a log from before epochs recorded wall_s
        {"kind": "epoch", "epoch": 3, "train_s": 6.0, "wall_s": 7.0},  # trained by the resumed process
    ]
    resumed = SimpleNamespace(train_result=SimpleNamespace(resumed_from_epoch=2, history=history))
    assert _time_before_resume(resumed) == 4.0 + 5.0
    in_one_go = SimpleNamespace(train_result=SimpleNamespace(resumed_from_epoch=None, history=history))
    assert _time_before_resume(in_one_go) == 0.0
    assert _time_before_resume(SimpleNamespace()) == 0.0  # not an engine model
