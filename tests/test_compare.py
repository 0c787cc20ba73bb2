"""`explainbench compare`: numbers equal the results files; best, improvement and significance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from baselines.reference import ReferenceConfig
from explainbench.api.results import read_results, read_samples
from explainbench.cli.main import app
from explainbench.metrics import paired_test
from explainbench.runner import RunSpec, run_experiment

DATA = "synthetic-tiny"
MODELS = ("global-popular", "item-popular", "random-train")
LOWER = {"div", "rmse", "mae"}


@pytest.fixture(scope="module")
def home(home: Path) -> Path:
    """conftest's module home with reference runs on splits 1 and 2."""
    for model in MODELS:
        for split in (1, 2):
            spec = RunSpec(model=model, data=DATA, config=ReferenceConfig(), split=split, home=home,
                           limit=120, n_boot=20, meteor=False, progress=False)
            run_experiment(spec, log=lambda m: None)
    return home


def invoke(home: Path, *args: str):
    return CliRunner().invoke(app, ["compare", "--data", DATA, *args], env={"EXPLAINBENCH_HOME": str(home)})


def results_of(home: Path, model: str, split: int) -> dict:
    (path,) = (home / "runs" / DATA / f"split-{split}" / model).glob("*/results.json")
    return read_results(path)


def test_numbers_equal_the_results_files(home):
    result = invoke(home, "--format", "json")
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert [r["model"] for r in table["rows"]] == list(MODELS)
    columns = [c["metric"] for c in table["columns"]]
    assert columns[:8] == [
        "bleu1", "bleu4", "rouge1_p", "rouge1_r", "rouge1_f", "rougeL_p", "rougeL_r", "rougeL_f"
    ]
    assert "rmse" not in columns and "sacrebleu" not in columns  # no rating predicted; other family
    for row in table["rows"]:
        assert row["splits"] == [1, 2]
        for metric in columns:
            values = [results_of(home, row["model"], k)["metrics"][metric]["value"] for k in (1, 2)]
            cell = row["metrics"][metric]
            assert cell["mean"] == pytest.approx(np.mean(values), rel=1e-12, abs=1e-12)
            assert cell["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-9, abs=1e-12)
    for metric in columns:
        means = {r["model"]: r["metrics"][metric]["mean"] for r in table["rows"]}
        best = min(means.values()) if metric in LOWER else max(means.values())
        assert {m for m, v in means.items() if v == best} == {
            r["model"] for r in table["rows"] if r["metrics"][metric]["best"]
        }


def test_against_gives_improvement_over_the_best_other_and_split_wise_significance(home):
    result = invoke(home, "--format", "json", "--against", "item-popular")
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    rows = {r["model"]: r for r in table["rows"]}
    for metric, improvement in table["improvement_pct"].items():
        a = rows["item-popular"]["metrics"][metric]["mean"]
        others = {m: r["metrics"][metric]["mean"] for m, r in rows.items() if m != "item-popular"}
        best_model = (min if metric in LOWER else max)(others, key=others.get)
        b = others[best_model]
        assert table["best_other"][metric] == best_model
        expected = None if b == 0 else 100 * ((b - a) if metric in LOWER else (a - b)) / abs(b)
        assert improvement == pytest.approx(expected)
    # significance: item-popular vs the best other model on each split, every p below alpha
    metric = "bleu1"
    other = table["best_other"][metric]
    p = {}
    for split in (1, 2):
        where = home / "runs" / DATA / f"split-{split}"
        run_dirs = [next((where / m).iterdir()) for m in ("item-popular", other)]
        sa, sb = (read_samples(d / "samples.jsonl") for d in run_dirs)
        p[str(split)] = paired_test(sa, sb, method="bootstrap", n=1000, seed=0, meteor=False)[metric]
    assert table["p_values"][metric] == pytest.approx(p)
    # Holm-Bonferroni (the default) across the columns tested on each split, by hand from the raw p-values
    raw = table["p_values"]
    for split in ("1", "2"):
        tested = sorted((ps[split], m) for m, ps in raw.items() if split in ps)
        running = 0.0
        for rank, (value, m) in enumerate(tested):
            running = max(running, min(1.0, (len(tested) - rank) * value))
            assert table["p_adjusted"][m][split] == pytest.approx(running)
    for m, adjusted in table["p_adjusted"].items():
        # below alpha on every split, and the same direction on every split as the mean improvement
        mine = rows["item-popular"]["metrics"][m]["splits"]
        theirs = rows[table["best_other"][m]]["metrics"][m]["splits"]
        sign = 1 if (table["improvement_pct"][m] or 0) > 0 else -1
        gaps = [(theirs[k] - mine[k]) if m in LOWER else (mine[k] - theirs[k]) for k in adjusted]
        same = all(gap * sign > 0 for gap in gaps)
        assert table["significant"][m] == (bool(adjusted) and max(adjusted.values()) < 0.05 and same
                                           and bool(table["improvement_pct"][m]))
    assert any("every split" in note for note in table["footnotes"])
    assert any(note.startswith("Significance: Holm-Bonferroni") for note in table["footnotes"])
    uncorrected = json.loads(invoke(home, "--format", "json", "--against", "item-popular",
                                    "--correction", "none").stdout)
    assert uncorrected["significant"][metric] <= (max(p.values()) < 0.05)
    assert uncorrected["p_adjusted"] == uncorrected["p_values"]


def test_markdown_and_latex_mark_the_best(home):
    md = invoke(home, "--format", "markdown", "--against", "item-popular", "--splits", "1")
    assert md.exit_code == 0, md.output
    lines = md.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| Model"))
    assert "BLEU-1" in header and "RL-F" in header
    assert any(line.startswith("| *Improvement (%)*") for line in lines)
    bleu = {m: results_of(home, m, 1)["metrics"]["bleu1"]["value"] for m in MODELS}
    winner = max(bleu, key=bleu.get)
    row = next(line for line in lines if line.startswith(f"| {winner} "))
    assert f"**{bleu[winner]:.2f}**" in row  # one split: no ± std
    latex = invoke(home, "--format", "latex", "--models", "random-train,item-popular", "--family", "std")
    assert latex.exit_code == 0, latex.output
    assert "\\begin{tabular}" in latex.stdout and "\\textbf{" in latex.stdout and "sacreBLEU" in latex.stdout
    rich_out = invoke(home)
    assert rich_out.exit_code == 0 and "item-popular" in rich_out.stdout


def test_compare_reads_only_finished_runs_and_takes_the_latest(home):
    # a run in progress: samples written, results.json not yet (and a temp file of a write under way)
    busy = home / "runs" / DATA / "split-1" / "random-train" / "0123456789ab"
    busy.mkdir()
    (busy / ".results.json.x.tmp").write_text('{"half": ')
    first = json.loads(invoke(home, "--format", "json").stdout)
    assert first["rows"][2]["run_ids"]["1"] != "0123456789ab"
    # a newer finished run of random-train (other seed) on split 1 replaces the older one in the table
    newer = run_experiment(
        RunSpec(model="random-train", data=DATA, config=ReferenceConfig(seed=4), split=1, home=home,
                limit=120, n_boot=20, meteor=False, progress=False),
        log=lambda m: None,
    )
    files_before = sorted((p, p.stat().st_mtime_ns) for p in (home / "runs").rglob("*"))
    table = json.loads(invoke(home, "--format", "json").stdout)
    assert sorted((p, p.stat().st_mtime_ns) for p in (home / "runs").rglob("*")) == files_before  # read only
    row = next(r for r in table["rows"] if r["model"] == "random-train")
    assert row["run_ids"]["1"] == newer.run_id
    assert row["metrics"]["bleu1"]["splits"]["1"] == newer.results["metrics"]["bleu1"]["value"]
    shutil.rmtree(busy)
    shutil.rmtree(newer.run_dir)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "peter"], "no finished runs of dataset 'synthetic-tiny' for models peter"),
        (["--against", "nrt"], "--against 'nrt' has no finished run"),
        (["--format", "html"], "--format 'html': use one of rich, markdown, latex, json"),
        (["--family", "paper"], "--family 'paper'"),
        (["--splits", "x"], "not a split number"),
    ],
)
def test_bad_input_is_one_red_line(home, args, message):
    result = invoke(home, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
