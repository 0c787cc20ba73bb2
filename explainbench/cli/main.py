"""`explainbench`: the command-line entry point. Each command group lives in its own module."""

from __future__ import annotations

import importlib
import importlib.util

import typer
from rich.console import Console

from explainbench import __version__

app = typer.Typer(
    name="explainbench",
    help="Benchmark models that explain recommendations in natural language.\n\n"
    "Example: explainbench run --model peter --data synthetic",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()

# Each module defines register(app: typer.Typer) -> None.
COMMAND_MODULES = (
    "explainbench.cli.data",
    "explainbench.cli.score",
    "explainbench.cli.evaluate",
    "explainbench.cli.run",
    "explainbench.cli.compare",
    "explainbench.cli.list_cmd",
    "explainbench.cli.demo",
    "explainbench.cli.report",
    "explainbench.cli.plot",
    "explainbench.cli.leaderboard",
    "explainbench.cli.recipes",
    "explainbench.cli.probe",
)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"explainbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Benchmark explainers: prepare data, run models, score and compare them."""


for _name in COMMAND_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
