"""From finished runs to the paper's Figures 5 and 6: find the runs, read their files, draw, save.

Every figure is written as <out>.png and <out>.svg plus <out>.json, the numbers it plots (so a reader,
or a test, can check them against the results files without reading pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explainbench.api.results import atomic_write_json
from explainbench.report.plots import (
    count_series,
    figure_paths,
    find_train_log,
    loss_curve,
    plot_buckets,
    plot_losses,
    read_train_log,
    run_label,
)
from explainbench.report.sources import RunSource, require_runs
from explainbench.report.tables import ReportError
from explainbench.runner.select import Rules


@dataclass
class FigureResult:
    """What a figure command wrote: the PNG, the SVG and the JSON of the plotted numbers."""

    paths: list[Path]
    data: dict[str, Any]


def data_path(out: Path) -> Path:
    png, _ = figure_paths(out)
    return png.with_suffix(".json")


def buckets_figure(
    source: RunSource,
    data: str,
    models: Sequence[str],
    metrics: Sequence[str],
    out: Path,
    *,
    split: int = 1,
    by: str = "user",
    min_n: int = 5,
    max_count: int | None = None,
    rules: Rules | None = None,
) -> FigureResult:
    """Figure 5: metrics against the user's (item's) training count for each model's chosen run."""
    if by not in ("user", "item"):
        raise ReportError(f"--by {by!r}: use user or item")
    if not models or not metrics:
        raise ReportError("name at least one model (--models) and one metric (--metric)")
    require_runs(source, data, models)
    selection = source.select(data, models=models, splits=[split], rules=rules)
    latest = selection.chosen
    missing = [m for m in models if (m, split) not in latest]
    if missing:
        raise ReportError(f"no finished run of {', '.join(missing)} on {data!r} split {split}")
    series = {
        metric: [
            count_series(latest[(m, split)].results, metric, by=by, min_n=min_n, max_count=max_count)
            for m in models
        ]
        for metric in metrics
    }
    title = (
        f"Figure 5: {data} split {split}, per number of training samples of the {by} "
        f"(counts with >= {min_n} test records)\n{selection.n_line()}"
    )
    paths = plot_buckets(series, out, title=title, by=by)
    payload = {
        "figure": "fig5-buckets",
        "dataset": data,
        "split": split,
        "by": by,
        "min_n": min_n,
        "max_count": max_count,
        "runs": {m: latest[(m, split)].run_id for m in models},
        "selection": selection.notes(),
        "series": {metric: [s.to_dict() for s in lines] for metric, lines in series.items()},
    }
    atomic_write_json(data_path(out), payload)
    return FigureResult([*paths, data_path(out)], payload)


def latest_train_logs(
    source: RunSource, data: str, models: Sequence[str], *, split: int = 1, rules: Rules | None = None
) -> list[Path]:
    """train_log.jsonl of each model's chosen run on a split (for `plot losses --data D --models ...`)."""
    require_runs(source, data, models)
    latest = source.latest(data, models=models, splits=[split], rules=rules)
    missing = [m for m in models if (m, split) not in latest]
    if missing:
        raise ReportError(f"no finished run of {', '.join(missing)} on {data!r} split {split}")
    return [find_train_log(latest[(m, split)].path) for m in models]


def losses_figure(
    runs: Sequence[Path], out: Path, *, stage: str | None = None, x: str = "epoch", title: str | None = None
) -> FigureResult:
    """Figure 6 from run folders (or their train_log.jsonl): training and validation loss per run."""
    if not runs:
        raise ReportError("give at least one run folder (or train_log.jsonl)")
    logs = [find_train_log(Path(r)) for r in runs]
    labels = [run_label(p) for p in logs]
    if len(set(labels)) < len(labels):  # the same model twice: keep the labels apart
        labels = [f"{label} [{p.parent}]" for label, p in zip(labels, logs, strict=True)]
    curves = [
        loss_curve(read_train_log(p), label=label, stage=stage, x=x, where=str(p))
        for p, label in zip(logs, labels, strict=True)
    ]
    paths = plot_losses(curves, out, title=title or "Figure 6: training and validation loss")
    payload = {
        "figure": "fig6-losses",
        "runs": [str(p) for p in logs],
        "curves": [c.to_dict() for c in curves],
    }
    atomic_write_json(data_path(out), payload)
    return FigureResult([*paths, data_path(out)], payload)
