"""`explainbench plot buckets|losses`: the paper's Figures 5 and 6 from results files (PNG + SVG)."""

from __future__ import annotations

from pathlib import Path

import typer

from explainbench.cli.report import (
    LEADERBOARD_HELP,
    MIXED_HELP,
    RUN_HELP,
    SCALE_HELP,
    names,
    rules,
    say_paths,
    source,
)
from explainbench.cli.run import cli_errors
from explainbench.report.tables import ReportError

plot_app = typer.Typer(
    help="Draw the paper's figures from finished runs (PNG and SVG; paths printed).", no_args_is_help=True
)


@plot_app.command("buckets")
def buckets(
    data: str = typer.Option(..., "--data", "-d", help="Dataset name."),
    models: str = typer.Option(..., "--models", help="Models, one line each, e.g. peter,mvae."),
    metric: str = typer.Option(
        "bleu1,rougeL_f", "--metric", help="Metrics, one panel each (results.json names)."
    ),
    split: int = typer.Option(1, "--split", min=1, help="Which split's runs to read."),
    by: str = typer.Option("user", "--by", help="user or item: whose training count is the x-axis."),
    min_n: int = typer.Option(5, "--min-n", min=1, help="Leave out counts with fewer test records."),
    max_count: int = typer.Option(None, "--max-count", min=1, help="Leave out larger counts."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Output path without extension (default figures/fig5-buckets-DATA)."
    ),
    leaderboard: Path = typer.Option(None, "--leaderboard", help=LEADERBOARD_HELP),
    run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
    scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
    allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
) -> None:
    """Figure 5: each metric against the number of training samples of the user, per model.

    Mean and 95% CI per count (from results.json per_count) and a weighted least-squares trend line.
    Example: explainbench plot buckets --data synthetic --models peter,mvae --metric bleu1,rougeL_f
    """
    from explainbench.report.figures import buckets_figure

    with cli_errors():
        out = output or Path("figures") / f"fig5-buckets-{data}"
        result = buckets_figure(
            source(leaderboard),
            data,
            names(models, "--models") or [],
            names(metric, "--metric") or [],
            out,
            split=split,
            by=by,
            min_n=min_n,
            max_count=max_count,
            rules=rules(run, scale, allow_mixed),
        )
    say_paths(result.paths)


@plot_app.command("losses")
def losses(
    runs: list[Path] = typer.Argument(None, help="Run folders (or their train_log.jsonl)."),
    data: str = typer.Option(None, "--data", "-d", help="With --models: these models' runs."),
    models: str = typer.Option(None, "--models", help="Models whose run on --data to plot."),
    split: int = typer.Option(1, "--split", min=1, help="Split of the runs found with --data/--models."),
    stage: str = typer.Option(
        None, "--stage", help="Training stage in the log (default: train, else the last)."
    ),
    x: str = typer.Option("epoch", "--x", help="epoch (epoch losses) or step (every logged step)."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Output path without extension (default figures/fig6-losses)."
    ),
    leaderboard: Path = typer.Option(None, "--leaderboard", help=LEADERBOARD_HELP),
    run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
    scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
    allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
) -> None:
    """Figure 6: (a) training and (b) validation loss of several runs, from train_log.jsonl.

    Example: explainbench plot losses ~/.cache/explainbench/runs/synthetic/split-1/mvae/*/
    Example: explainbench plot losses --data synthetic --models mvae,mvae-norn,mvae-mse
    """
    from explainbench.report.figures import latest_train_logs, losses_figure

    with cli_errors():
        paths = list(runs or [])
        if models or data:
            if not (models and data):
                raise ReportError("--data and --models go together")
            paths += latest_train_logs(
                source(leaderboard),
                data,
                names(models, "--models") or [],
                split=split,
                rules=rules(run, scale, allow_mixed),
            )
        if not paths:
            raise ReportError("give run folders, or --data NAME --models a,b")
        out = output or Path("figures") / (f"fig6-losses-{data}" if data else "fig6-losses")
        title = "Figure 6: training and validation loss" + (f" on {data} (split {split})" if data else "")
        result = losses_figure(paths, out, stage=stage, x=x, title=title)
    say_paths(result.paths)


def register(app: typer.Typer) -> None:
    app.add_typer(plot_app, name="plot")
