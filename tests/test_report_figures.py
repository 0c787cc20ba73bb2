"""Figures 5 and 6: the plotted numbers equal the results files and train logs; PNG + SVG written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import DATA, LOSSES, report_home, results_of, run_dir_of
from typer.testing import CliRunner

from explainbench.cli.main import app
from explainbench.report.plots import loss_curve, read_train_log, weighted_trend
from explainbench.report.tables import ReportError


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return report_home(tmp_path_factory)


def invoke(home: Path, *args: str):
    return CliRunner().invoke(app, list(args), env={"EXPLAINBENCH_HOME": str(home)})


def check_files(paths: list[Path], *texts: str) -> None:
    png, svg, data = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    content = svg.read_text(encoding="utf-8")
    assert content.lstrip().startswith("<?xml") and "<svg" in content
    for text in texts:  # titles, axis labels and legends are SVG text
        assert text in content, text
    assert data.suffix == ".json"


def test_weighted_trend_matches_numpy():
    x, y, w = [1, 2, 3, 5], [10.0, 9.0, 9.5, 7.0], [4, 1, 2, 3]
    slope, intercept = weighted_trend(x, y, w)
    ref = np.polyfit(x, y, 1, w=np.sqrt(w))  # polyfit weights multiply residuals: sqrt gives w-weighted SSE
    assert (slope, intercept) == pytest.approx(tuple(ref), rel=1e-12)
    assert weighted_trend([2, 2], [1.0, 3.0], [1, 1]) is None


def test_plot_buckets_draws_the_per_count_values_of_each_run(home, tmp_path):
    out = tmp_path / "fig5"
    result = invoke(
        home,
        "plot",
        "buckets",
        "--data",
        DATA,
        "--models",
        "random-train,item-popular",
        "--metric",
        "bleu1,rougeL_f",
        "--min-n",
        "3",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.stdout.split()]
    assert paths == [tmp_path / "fig5.png", tmp_path / "fig5.svg", tmp_path / "fig5.json"]
    check_files(
        paths, "Figure 5", "training samples of the user", "BLEU-1 (%)", "ROUGE-L F (%)", "random-train"
    )
    plotted = json.loads(paths[2].read_text())
    for metric in ("bleu1", "rougeL_f"):
        for line in plotted["series"][metric]:
            per_count = results_of(home, line["model"], 1)["per_count"]["user"]
            expected = {int(c): e for c, e in per_count.items() if e["n"] >= 3}
            assert [p["count"] for p in line["points"]] == sorted(expected)
            for p in line["points"]:
                entry = expected[p["count"]]
                assert p["n"] == entry["n"]
                assert p["value"] == entry["metrics"][metric]["value"]
                assert (p["ci_low"], p["ci_high"]) == (
                    entry["metrics"][metric]["ci_low"],
                    entry["metrics"][metric]["ci_high"],
                )
            slope, intercept = np.polyfit(
                [p["count"] for p in line["points"]],
                [p["value"] for p in line["points"]],
                1,
                w=np.sqrt([p["n"] for p in line["points"]]),
            )
            assert (line["slope"], line["intercept"]) == pytest.approx((slope, intercept), rel=1e-9)
            assert (
                f"{line['model']} (slope {round(line['slope'], 2) + 0.0:+.2f}/sample)" in paths[1].read_text()
            )


def test_plot_buckets_refuses_what_the_results_cannot_give(home, tmp_path):
    bad = invoke(
        home,
        "plot",
        "buckets",
        "--data",
        DATA,
        "--models",
        "random-train",
        "--metric",
        "meteor",
        "-o",
        str(tmp_path / "x"),
    )
    assert bad.exit_code == 2 and "no per-count 'meteor'" in bad.output
    bad = invoke(
        home,
        "plot",
        "buckets",
        "--data",
        DATA,
        "--models",
        "random-train",
        "--min-n",
        "100000",
        "-o",
        str(tmp_path / "x"),
    )
    assert bad.exit_code == 2 and "lower --min-n" in bad.output
    assert not list(tmp_path.iterdir())  # nothing written


def test_plot_losses_from_run_folders_and_from_model_names(home, tmp_path):
    runs = [run_dir_of(home, "mvae", 1), run_dir_of(home, "mvae-nokl", 1)]
    result = invoke(home, "plot", "losses", *map(str, runs), "-o", str(tmp_path / "fig6"))
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.stdout.split()]
    check_files(paths, "(a) training loss", "(b) validation loss", "epoch", "mvae-nokl")
    curves = json.loads(paths[2].read_text())["curves"]
    for curve, model in zip(curves, ("mvae", "mvae-nokl"), strict=True):
        assert curve["label"].startswith(f"{model} (")
        assert curve["train"] == [[e, t] for e, _, t, _ in LOSSES[model]]
        assert curve["validation"] == [[e, v] for e, _, _, v in LOSSES[model]]
    by_name = invoke(
        home,
        "plot",
        "losses",
        "--data",
        DATA,
        "--models",
        "mvae,mvae-nokl",
        "--x",
        "step",
        "-o",
        str(tmp_path / "by-name"),
    )
    assert by_name.exit_code == 0, by_name.output
    steps = json.loads((tmp_path / "by-name.json").read_text())["curves"][0]
    assert steps["train"] == [p for e, s, t, _ in LOSSES["mvae"] for p in ([s - 5, t + 0.25], [s, t])]
    assert steps["validation"] == [[s, v] for _, s, _, v in LOSSES["mvae"]]
    no_log = invoke(
        home, "plot", "losses", str(run_dir_of(home, "random-train", 1)), "-o", str(tmp_path / "n")
    )
    assert no_log.exit_code == 2 and "no training log" in no_log.output


def test_loss_curve_stages_and_bad_lines(tmp_path):
    records = [
        {"stage": "rating", "kind": "epoch", "epoch": 1, "step": 5, "train_loss": 1.0, "val_loss": 2.0},
        {"stage": "generator", "kind": "epoch", "epoch": 1, "step": 9, "train_loss": 3.0, "val_loss": None},
    ]
    curve = loss_curve(records, label="nete")  # no "train" stage: the last one
    assert curve.stage == "generator" and curve.train == [(1.0, 3.0)] and curve.validation == []
    assert loss_curve(records, label="nete", stage="rating").validation == [(1.0, 2.0)]
    with pytest.raises(ReportError, match="no stage 'x'"):
        loss_curve(records, label="nete", stage="x")
    log = tmp_path / "train_log.jsonl"
    log.write_text('{"stage": "train", "kind": "epoch"}\n{"stage": "tr\n', encoding="utf-8")
    with pytest.raises(ReportError, match="train_log.jsonl:2"):
        read_train_log(log)
