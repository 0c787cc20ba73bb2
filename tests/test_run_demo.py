"""`explainbench demo` runs the floors, PETER and MVAE, prints Tables 1 and 2 and writes an HTML report
(tiny configs here)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from explainbench.api.results import read_results
from explainbench.cli.main import app
from explainbench.models.mvae.config import TINY
from explainbench.runner import demo
from explainbench.runner.demo import DEMO_THREADS, REFERENCE_MODELS, run_demo

TINY_PETER = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ffn": 32, "max_epochs": 1, "batch_size": 256}
TINY_MVAE = {**TINY, "max_epochs": 1, "max_steps_per_epoch": 3}


def test_demo_runs_every_model_once_and_compares_against_mvae(tiny_home, tmp_path, monkeypatch):
    import torch

    shutil.copytree(tiny_home / "datasets", tmp_path / "datasets")
    monkeypatch.setattr(demo, "DEMO_CONFIGS", {"peter": TINY_PETER, "mvae": TINY_MVAE})
    threads = torch.get_num_threads()
    try:
        out = CliRunner().invoke(
            app,
            ["demo", "--data", "synthetic-tiny", "--no-progress", "--n-boot", "20", "--no-meteor"],
            env={"EXPLAINBENCH_HOME": str(tmp_path)},
        )
        assert torch.get_num_threads() == DEMO_THREADS  # the demo's default
    finally:
        torch.set_num_threads(threads)  # leave the session's torch as it was
    assert out.exit_code == 0, out.output
    stdout = out.stdout
    # Table 1 first, then Table 2 with MVAE's Improvement row, then the report's path
    assert stdout.index("(the paper's Table 1)") < stdout.index("BLEU-1") < stdout.index("Improvement (%)")
    assert "demo finished in" in stdout
    report = tmp_path / "reports" / "demo-synthetic-tiny.html"
    assert f"HTML report of these runs (Tables 1-4, Figures 5-6): {report}" in stdout.splitlines()
    page = report.read_text(encoding="utf-8")
    assert "<h1>explainbench demo: synthetic-tiny, split 1</h1>" in page and "mvae" in page
    # a second demo reuses every run and rebuilds the same table
    again = run_demo(tmp_path, data="synthetic-tiny", threads=None, n_boot=20, meteor=False, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped"] * 5
    assert [r.model for r in again.table.rows] == [*REFERENCE_MODELS, "peter", "mvae"]
    assert again.table.against == "mvae"
    assert "rmse" in again.table.columns  # PETER predicts ratings; the reference explainers do not
    peter = read_results(again.outcomes[-2].results_path)
    assert {k: peter["config"][k] for k in TINY_PETER} == TINY_PETER
    assert peter["threads"] == DEMO_THREADS and peter["device"] == "cpu" and peter["scale"] == "demo"
    mvae = read_results(again.outcomes[-1].results_path)
    assert {k: mvae["config"][k] for k in TINY_MVAE} == TINY_MVAE
    rows = {r["model"]: r for r in again.table.to_dict()["rows"]}
    assert rows["peter"]["metrics"]["bleu1"]["mean"] == peter["metrics"]["bleu1"]["value"]
    assert json.loads(json.dumps(again.table.to_dict()))["against"] == "mvae"
