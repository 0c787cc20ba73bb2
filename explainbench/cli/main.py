"""`explainbench`: the command-line entry point. Each command group lives in its own module."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from explainbench import __version__
from explainbench.cli.errors import fail

# Typer ships its own copy of click in recent versions: find its ClickException by name.
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """The root command: usage errors (bad value, unknown option, missing argument) print one red line
    and exit 2, as every other bad input does (cli/errors.py), instead of Typer's usage box."""

    def invoke(self, ctx: Any) -> None:
        super().invoke(ctx)  # commands print; a return value is never an exit status

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _CLICK_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help text (rich already printed it)
                text = exc.format_message()
                if text.strip():
                    typer.echo(text, err=True)
                sys.exit(exc.exit_code)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            try:
                fail(" ".join(exc.format_message().split()) + hint)
            except typer.Exit as done:
                sys.exit(done.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code or 0)


app = typer.Typer(
    cls=OneLineErrors,
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
    "explainbench.cli.grid",
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
