"""The leaderboard: the committed README equals what `leaderboard render` makes; add + render round trip."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest
from report_fixtures import DATA, report_home, results_of, run_dir_of
from typer.testing import CliRunner

from explainbench.cli.main import app
from explainbench.report.leaderboard import add_run, render_readme, stale_lines
from explainbench.report.sources import RunSource
from explainbench.report.tables import ReportError

ROOT = Path(__file__).resolve().parents[1] / "leaderboard"


def test_committed_readme_matches_render():
    diff = stale_lines(ROOT)
    assert not diff, "leaderboard/README.md is stale; run `explainbench leaderboard render`:\n" + "\n".join(
        diff[:40]
    )


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    home = report_home(tmp_path_factory)
    root = tmp_path_factory.mktemp("leaderboard")
    models = ("random-train", "global-popular", "item-popular", "mvae", "mvae-nokl")
    for model in models:
        for split in (1, 2):
            if (model, split) != (models[-1], 2):
                add_run(
                    run_dir_of(home, model, split),
                    root,
                    command=f"explainbench run --model {model} --data {DATA}",
                )
    result = CliRunner().invoke(
        app,
        [  # the last one through the CLI, which also renders the README
            "leaderboard",
            "add",
            str(run_dir_of(home, models[-1], 2)),
            "--root",
            str(root),
            "--command",
            f"explainbench run --model {models[-1]} --data {DATA}",
            "--allow-dirty",  # the test's runs come from this checkout, clean or not
        ],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[-1] == str(root / "README.md")
    return home, root, models


def test_add_copies_results_samples_and_command_without_checkpoints(board):
    home, root, models = board
    (folder,) = (root / DATA).glob("*/mvae/split-1")  # <dataset>/<scale>/<model>/split-<k>
    assert folder.parent.parent.name == (results_of(home, "mvae", 1).get("scale") or "default")
    src = run_dir_of(home, "mvae", 1)
    assert sorted(p.name for p in folder.iterdir()) == [
        "command.txt",
        "config.yaml",
        "results.json",
        "samples.jsonl",
        "train_log.jsonl",
    ]
    assert (folder / "results.json").read_bytes() == (src / "results.json").read_bytes()
    assert (folder / "command.txt").read_text() == f"explainbench run --model mvae --data {DATA}\n"
    assert json.loads((root / DATA / "dataset.json").read_text())["name"] == DATA
    runs = RunSource.leaderboard(root).runs(DATA)
    assert sorted((r.model, r.split) for r in runs) == sorted((m, k) for m in models for k in (1, 2))


def test_render_shows_the_results_numbers_and_is_deterministic(board):
    home, root, _ = board
    text = render_readme(root)
    assert text == (root / "README.md").read_text(encoding="utf-8")  # as `add` rendered it: deterministic
    assert f"## {DATA}" in text and "**Table 1: statistics of the datasets**" in text
    line = next(x for x in text.splitlines() if x.startswith("| item-popular | ") and "±" in x)
    values = [results_of(home, "item-popular", k)["metrics"]["bleu1"]["value"] for k in (1, 2)]
    assert (
        line.split(" | ")[1].strip("* ") == f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"
    )
    assert "*Improvement (%)*" in text  # mvae is on the board: the paper's improvement row
    assert "Table 3: variants of mvae" in text and "| mvae-nokl | " in text
    assert f"`explainbench run --model global-popular --data {DATA}`" in text


def test_render_command_writes_and_checks(board, tmp_path):
    _, root, _ = board
    runner = CliRunner()
    stale = runner.invoke(app, ["leaderboard", "render", "--root", str(root), "--check"])
    assert stale.exit_code == 0, stale.output  # `add` rendered it already
    (root / "README.md").write_text("edited by hand\n")
    stale = runner.invoke(app, ["leaderboard", "render", "--root", str(root), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    written = runner.invoke(app, ["leaderboard", "render", "--root", str(root)])
    assert written.exit_code == 0 and written.stdout.strip() == str(root / "README.md")
    assert "edited by hand" not in (root / "README.md").read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "No results yet." in render_readme(empty)


def test_add_refuses_unfinished_or_tampered_runs(board, tmp_path):
    home, root, _ = board
    with pytest.raises(ReportError, match="no results.json"):
        add_run(tmp_path, root)
    run = tmp_path / "run"
    run.mkdir()
    src = run_dir_of(home, "random-train", 1)
    (run / "results.json").write_bytes((src / "results.json").read_bytes())
    (run / "samples.jsonl").write_text((src / "samples.jsonl").read_text() + "\n")
    with pytest.raises(ReportError, match="sha256 differs"):
        add_run(run, root)


def test_tables_and_examples_read_the_leaderboard(board):
    home, root, _ = board
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "tables",
            "--leaderboard",
            str(root),
            "--data",
            DATA,
            "--table",
            "1,2",
            "--family",
            "ref",
            "--against",
            "none",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    table1, table2 = json.loads(result.stdout)
    stats = json.loads((root / DATA / "dataset.json").read_text())
    assert table1["sections"][0]["rows"][0]["cells"][DATA]["value"] == stats["users"]
    rows = {r["label"]: r for r in table2["sections"][0]["rows"]}
    values = [results_of(home, "mvae", k)["metrics"]["rougeL_f"]["value"] for k in (1, 2)]
    assert rows["mvae"]["cells"]["rougeL_f"]["value"] == pytest.approx(statistics.fmean(values), abs=1e-12)
    result = runner.invoke(
        app,
        [
            "examples",
            "--leaderboard",
            str(root),
            "--data",
            DATA,
            "--models",
            "mvae",
            "--ids",
            "0",
            "--format",
            "markdown",
        ],
    )
    assert result.exit_code == 0, result.output
    (folder,) = (root / DATA).glob("*/mvae/split-1")
    first = json.loads((folder / "samples.jsonl").read_text().splitlines()[0])
    assert first["generated"].split()[0] in result.stdout


def test_two_scales_are_kept_apart_and_reference_comes_first(board, tmp_path):
    home, root, models = board
    two = tmp_path / "two"
    shutil.copytree(root, two)
    for model in ("random-train", "mvae"):  # the same runs, relabelled as reference-scale runs
        run = tmp_path / f"ref-{model}"
        shutil.copytree(run_dir_of(home, model, 1), run)
        results = json.loads((run / "results.json").read_text())
        results["scale"] = "reference"
        (run / "results.json").write_text(json.dumps(results))
        add_run(run, two)
    assert (two / DATA / "reference" / "mvae" / "split-1" / "results.json").is_file()
    source = RunSource.leaderboard(two)
    other = results_of(home, "mvae", 1).get("scale") or "default"
    assert source.scales(DATA) == ["reference", other]
    assert len(source.at_scale("reference").runs(DATA)) == 2
    assert len(source.at_scale(other).runs(DATA)) == len(RunSource.leaderboard(root).runs(DATA))
    text = render_readme(two)
    ref_at = text.index(f"### {DATA} at scale reference")
    other_at = text.index(f"### {DATA} at scale {other}")
    assert ref_at < other_at
    reference_part = text[ref_at:other_at]
    assert "scale reference; test records" in reference_part and f"scale {other}" not in reference_part
    assert "mvae-nokl" not in reference_part  # only the reference runs are in its tables
    # a run in the wrong scale folder is refused with the folder it belongs in
    wrong = two / DATA / "reference" / "item-popular" / "split-1"
    shutil.copytree(next((two / DATA).glob(f"{other}/item-popular/split-1")), wrong)
    with pytest.raises(ReportError, match="not what its folder says"):
        RunSource.leaderboard(two).runs(DATA)
