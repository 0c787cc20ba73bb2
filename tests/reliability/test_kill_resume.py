"""kill -9 at 10 seeded points of a tiny NRT run; `run --resume` must end with the uninterrupted results.

The points come from EXPLAINBENCH_FAULT (api/faults.py), so the process dies exactly there, not after a
timing race: optimiser steps, a checkpoint write (temporary file written, not renamed), the model
folder (complete, not renamed into place), the samples and results writes.
"""

from __future__ import annotations

import random
import signal

import pytest
from harness import (
    EPOCHS,
    NRT,
    STEPS_PER_EPOCH,
    assert_clean_home,
    cli,
    comparable,
    epoch_lines,
    fresh_home,
    nrt_run_dir,
)

from explainbench.api.results import read_results, read_samples

SEED = 13


def kill_points(seed: int = SEED) -> list[str]:
    """10 EXPLAINBENCH_FAULT values: 5 random steps, 2 random checkpoint writes, model, samples, results."""
    rng = random.Random(seed)
    steps = sorted(rng.sample(range(1, STEPS_PER_EPOCH * EPOCHS + 1), 5))
    checkpoints = [rng.randint(1, EPOCHS), rng.randint(1, EPOCHS)]
    return ([f"step:{s}:kill" for s in steps] + [f"checkpoint:{c}:kill" for c in checkpoints]
            + ["model:1:kill", "samples:1:kill", "results:1:kill"])


@pytest.mark.parametrize("fault", kill_points())
def test_killed_run_resumes_to_identical_results(fault, base_home, data_home, tmp_path):
    home = fresh_home(data_home, tmp_path / "home")
    killed = cli(home, *NRT, fault=fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    rdir = nrt_run_dir(home)
    assert not (rdir / "results.json").exists()

    resumed = cli(home, *NRT, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    base_dir = nrt_run_dir(base_home)
    assert rdir.name == base_dir.name
    a, b = read_results(rdir / "results.json"), read_results(base_dir / "results.json")
    assert comparable(a) == comparable(b)  # every metric value, CI, bucket and count, exactly
    assert read_samples(rdir / "samples.jsonl") == read_samples(base_dir / "samples.jsonl")
    assert epoch_lines(rdir) == epoch_lines(base_dir)  # each epoch logged once, same losses
    assert_clean_home(home)
