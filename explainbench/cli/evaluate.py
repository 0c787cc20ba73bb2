"""`explainbench evaluate --samples FILE.jsonl --data NAME --split K`: score any system's outputs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from explainbench.cli.errors import fail
from explainbench.cli.options import BERTSCORE, METEOR, N_BOOT

console = Console()


def evaluate(
    samples: Path = typer.Option(
        ...,
        "--samples",
        help="JSON lines: user_id, item_id, explanation "
        "[, predicted_rating, predicted_feature], one per test example.",
    ),
    data: str = typer.Option(..., "--data", help="Dataset name (as in `explainbench data list`)."),
    split: int = typer.Option(1, "--split", help="Split number (1-5)."),
    model: str = typer.Option("external", "--model", help="Name recorded in results.json."),
    n_boot: int = N_BOOT,
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    meteor: bool = METEOR,
    bertscore: str | None = BERTSCORE,
    allow_partial: bool = typer.Option(
        False,
        "--allow-partial",
        help="Score even if some test examples have no output (n.effective < n.original).",
    ),
    home: Path | None = typer.Option(None, "--home", help="Data home (default $EXPLAINBENCH_HOME)."),
) -> None:
    """Score an outside system's explanations against a split's test references; write results.json
    beside the samples file.

    Example: explainbench evaluate --samples my_system/samples.jsonl --data synthetic --split 1
    """
    from explainbench.data import DataError
    from explainbench.metrics import MetricsError
    from explainbench.metrics.external import evaluate_outputs

    try:
        out, results = evaluate_outputs(
            samples,
            data,
            split,
            home=home,
            model=model,
            n_boot=n_boot,
            seed=seed,
            meteor=meteor,
            bertscore=bertscore,
            allow_partial=allow_partial,
        )
    except (MetricsError, DataError, ValueError, OSError) as exc:
        fail(str(exc))
    m = results["metrics"]
    shown = ", ".join(f"{k} {m[k]['value']:.4f}" for k in ("bleu1", "bleu4", "rougeL_f", "meteor") if k in m)
    console.print(f"{results['n']['effective']} samples scored ({shown}); wrote {out}")
    for name, why in results.get("unavailable", {}).items():
        console.print(f"[yellow]{name}: {escape(why)}[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
