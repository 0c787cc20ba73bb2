"""Data-parallel training under torchrun (engine/distributed.py): the same global batch on 2 gloo
processes gives the losses and results of one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from explainbench.engine import distributed
from explainbench.engine.distributed import Ranks, share, token_mean
from explainbench.engine.module import Batch

# PETER without dropout: 2 epochs of 10 steps of 13 records (shares of 7 and 6: the weighting of uneven
# shares is exercised), gradient clipping and SGD as the reference but at lr 0.1 (at the reference's 1.0
# float32 rounding, about 1e-7 of a loss, grew to 4e-5 by step 17), every step logged.
CONFIG = ["dropout=0.0", "max_epochs=2", "max_steps_per_epoch=10", "batch_size=13", "log_every=1", "lr=0.1",
          "d_model=32", "n_heads=2", "n_layers=2", "d_ffn=64", "patience=5"]


def test_shares_cover_a_batch_once() -> None:
    for n in (1, 2, 5, 12, 13):
        for world in (1, 2, 3):
            parts = [share(n, Ranks(rank=r, world_size=world)) for r in range(world)]
            assert parts[0][0] == 0 and parts[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
            sizes = [b - a for a, b in parts]
            assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_token_mean_is_the_plain_mean_in_one_process() -> None:
    total, count = torch.tensor(6.0), torch.tensor(4)
    assert token_mean(total, count).item() == 1.5
    with distributed.training_share(0.5):  # no process group: the share changes nothing
        assert token_mean(total, count).item() == 1.5
    assert token_mean(torch.tensor(0.0), torch.tensor(0)).item() == 0.0


def test_batch_rows() -> None:
    b = Batch(user=torch.arange(4), item=torch.arange(4), rating=torch.ones(4), sentiment=torch.ones(4),
              feature=torch.zeros(4, dtype=torch.long), text=torch.arange(12).reshape(4, 3))
    part = b.rows(1, 3)
    assert len(part) == 2 and part.text.tolist() == [[3, 4, 5], [6, 7, 8]]


def _run(home: Path, nproc: int, tmp: Path) -> Path:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, "-m", "explainbench", "run", "--model", "peter", "--data", "synthetic-tiny",
           "--threads", "1", "--n-boot", "0", "--no-meteor", "--no-progress", "--nproc", str(nproc)]
    for item in CONFIG:
        cmd += ["--set", item]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = sorted((home / "runs" / "synthetic-tiny" / "split-1" / "peter").glob("*/results.json"),
                  key=lambda p: p.stat().st_mtime)
    return runs[-1].parent


def _steps(run: Path) -> list[dict]:
    lines = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines() if x.strip()]
    return [x for x in lines if x["kind"] == "step"]


def _epochs(run: Path) -> list[dict]:
    lines = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines() if x.strip()]
    return [x for x in lines if x["kind"] == "epoch"]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_two_gloo_processes_match_one_process(home: Path, tmp_path: Path) -> None:
    one = _run(home, 1, tmp_path)
    two = _run(home, 2, tmp_path)
    assert one != two  # the process count is part of the run id

    a, b = _steps(one), _steps(two)
    assert len(a) == len(b) == 20
    for key in ("loss", "text", "context", "rating"):  # step 1: the same weights, so float32 rounding only
        assert a[0][key] == pytest.approx(b[0][key], rel=1e-6), key
    for x, y in zip(a, b, strict=True):
        assert x["step"] == y["step"]
        for key in ("loss", "text", "context", "rating"):
            assert abs(x[key] - y[key]) < 1e-5, (x["step"], key, x[key], y[key])
    for x, y in zip(_epochs(one), _epochs(two), strict=True):
        assert abs(x["val_loss"] - y["val_loss"]) < 1e-5 and abs(x["train_loss"] - y["train_loss"]) < 1e-5

    # the same results files, written once (by rank 0)
    names = sorted(p.name for p in one.iterdir() if not p.name.startswith("."))
    assert names == sorted(p.name for p in two.iterdir() if not p.name.startswith("."))
    r1, r2 = (json.loads((r / "results.json").read_text()) for r in (one, two))
    assert (r1["processes"], r2["processes"]) == (1, 2)
    s1, s2 = ([json.loads(x) for x in (r / "samples.jsonl").read_text().splitlines()] for r in (one, two))
    assert len(s1) == len(s2) == r1["n"]["effective"]
    for x, y in zip(s1, s2, strict=True):  # the same sentences; ratings equal up to float32 rounding
        assert x["generated"] == y["generated"] and x["predicted_feature"] == y["predicted_feature"]
        assert x["predicted_rating"] == pytest.approx(y["predicted_rating"], abs=1e-5)
    for name, metric in r1["metrics"].items():
        assert metric["value"] == pytest.approx(r2["metrics"][name]["value"], rel=1e-6, abs=1e-9), name

    # a finished data-parallel run is not trained again
    again = _run(home, 2, tmp_path)
    assert again == two and _steps(again) == b


def test_an_explainer_outside_the_engine_refuses_nproc(home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home)}
    env.pop("WORLD_SIZE", None)
    done = subprocess.run([sys.executable, "-m", "explainbench", "run", "--model", "item-popular", "--data",
                           "synthetic-tiny", "--nproc", "2"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2 and len(lines) == 1 and "cannot train data-parallel" in lines[0]
    assert not (home / "runs" / "synthetic-tiny" / "split-1" / "item-popular").exists()
