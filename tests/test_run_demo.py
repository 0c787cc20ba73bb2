"""`explainbench demo` runs the reference explainers and PETER, then prints the comparison (tiny here)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from explainbench.api.results import read_results
from explainbench.cli.main import app
from explainbench.runner import demo
from explainbench.runner.demo import REFERENCE_MODELS, run_demo

TINY_PETER = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ffn": 32, "max_epochs": 1, "batch_size": 256}


def test_demo_runs_every_model_once_and_compares_against_peter(tiny_home, tmp_path, monkeypatch):
    import torch

    shutil.copytree(tiny_home / "datasets", tmp_path / "datasets")
    monkeypatch.setattr(demo, "DEMO_CONFIGS", {"peter": TINY_PETER})
    threads = torch.get_num_threads()
    try:
        out = CliRunner().invoke(
            app,
            ["demo", "--data", "synthetic-tiny", "--no-progress", "--n-boot", "20", "--no-meteor"],
            env={"EXPLAINBENCH_HOME": str(tmp_path)},
        )
        assert torch.get_num_threads() == 1  # the demo's default
    finally:
        torch.set_num_threads(threads)  # leave the session's torch as it was
    assert out.exit_code == 0, out.output
    assert "BLEU-1" in out.stdout and "Improvement (%)" in out.stdout and "demo finished in" in out.stdout
    # a second demo reuses every run and rebuilds the same table
    again = run_demo(tmp_path, data="synthetic-tiny", threads=None, n_boot=20, meteor=False, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped"] * 4
    assert [r.model for r in again.table.rows] == [*REFERENCE_MODELS, "peter"]
    assert again.table.against == "peter"
    assert "rmse" in again.table.columns  # PETER predicts ratings; the reference explainers do not
    peter = read_results(again.outcomes[-1].results_path)
    assert {k: peter["config"][k] for k in TINY_PETER} == TINY_PETER
    assert peter["threads"] == 1 and peter["device"] == "cpu"
    rows = {r["model"]: r for r in again.table.to_dict()["rows"]}
    assert rows["peter"]["metrics"]["bleu1"]["mean"] == peter["metrics"]["bleu1"]["value"]
    assert json.loads(json.dumps(again.table.to_dict()))["against"] == "peter"
