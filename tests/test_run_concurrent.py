"""Runs started at once against one home all finish with complete results (file locks, atomic writes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from baselines.reference import ReferenceConfig
from explainbench.api.results import read_results, read_samples
from explainbench.runner import RunSpec, run_experiment
from explainbench.runner.store import locked

DATA = "synthetic-tiny"


def cli(home: Path, model: str) -> subprocess.Popen:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "explainbench.cli.main", "run", "--model", model, "--data", DATA,
         "--limit", "60", "--n-boot", "20", "--no-meteor", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_processes_one_fresh_home(tmp_path):
    # The dataset is not prepared yet: both race to prepare it, and both ask for the very same run.
    home = tmp_path / "home"
    procs = [cli(home, "random-train"), cli(home, "random-train")]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr
    assert sum("already finished" in stdout for stdout, _ in outs) == 1, outs  # one worked, one found it done
    runs = list((home / "runs" / DATA / "split-1" / "random-train").iterdir())
    assert len(runs) == 1, runs
    results = read_results(runs[0] / "results.json")
    assert results["n"]["effective"] == 60
    assert len(read_samples(runs[0] / "samples.jsonl")) == 60
    leftovers = [p.name for p in runs[0].iterdir() if p.suffix == ".tmp" or p.name.startswith(".mod")]
    assert leftovers == []
    assert len(list((home / "datasets").iterdir())) == 1  # prepared once, no half-built leftovers


def _spec(home, model):
    return RunSpec(model=model, data=DATA, config=ReferenceConfig(), home=home, limit=30, n_boot=20,
                   meteor=False, progress=False)


def _in_threads(specs):
    outcomes = [None] * len(specs)
    errors = []

    def work(k):
        try:
            outcomes[k] = run_experiment(specs[k], log=lambda m: None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(specs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    return outcomes


def test_threads_same_run_and_different_models(tiny_home, tmp_path):
    shutil.copytree(tiny_home / "datasets", tmp_path / "datasets")
    same = _in_threads([_spec(tmp_path, "item-popular"), _spec(tmp_path, "item-popular")])
    assert sorted(o.status for o in same) == ["finished", "skipped"]
    assert same[0].results == same[1].results
    different = _in_threads([_spec(tmp_path, "global-popular"), _spec(tmp_path, "random-train")])
    assert [o.status for o in different] == ["finished", "finished"]
    for outcome in different:
        assert read_results(outcome.results_path) == outcome.results
        assert len(read_samples(outcome.run_dir / "samples.jsonl")) == 30


def test_lock_excludes_a_second_holder(tmp_path):
    path = tmp_path / "x.lock"
    entered = threading.Event()
    release = threading.Event()
    order = []

    def hold():
        with locked(path):
            order.append("first in")
            entered.set()
            release.wait(10)
            order.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(10)
    second = threading.Thread(target=lambda: (locked_append(path, order)))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # blocked while the first holds the lock
    release.set()
    t.join(10)
    second.join(10)
    assert order == ["first in", "first out", "second in"]


def locked_append(path, order):
    with locked(path):
        order.append("second in")
