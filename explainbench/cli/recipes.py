"""`explainbench recipes list|show|validate`: the experiment and model recipes under recipes/."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from explainbench.api.registry import did_you_mean
from explainbench.cli.run import cli_errors
from explainbench.runner.config import ConfigError

recipes_app = typer.Typer(
    help="Recipes: one YAML per experiment of the paper and per model default.", no_args_is_help=True
)
console = Console(soft_wrap=True)
ROOT_HELP = "Recipes folder (default: $EXPLAINBENCH_RECIPES or the checkout's recipes/)."


def check_command(command: str, where: str) -> None:
    """Parse an explainbench command with the CLI's own parser (types, required options), without running it.

    Raises ConfigError naming `where` when it does not parse. Typer ships its own copy of click, so
    groups and errors are recognised by behaviour (list_commands / format_message), not by click's classes.
    """
    import typer.main

    from explainbench.cli.main import app

    args = shlex.split(command)
    if not args or args[0] != "explainbench":
        raise ConfigError(f"{where}: {command!r} is not an explainbench command")
    cmd: Any = typer.main.get_command(app)
    ctx = cmd.make_context("explainbench", ["--help"], resilient_parsing=True)
    args = args[1:]
    while hasattr(cmd, "list_commands"):
        if not args:
            raise ConfigError(f"{where}: {command!r} names no sub-command")
        sub = cmd.get_command(ctx, args[0])
        if sub is None:
            known = list(cmd.list_commands(ctx))
            raise ConfigError(
                f"{where}: {command!r}: no command {args[0]!r}.{did_you_mean(args[0], known)}"
            )
        if hasattr(sub, "list_commands"):
            ctx = sub.make_context(args[0], ["--help"], parent=ctx, resilient_parsing=True)
        cmd, name, args = sub, args[0], args[1:]
    try:
        cmd.make_context(name, list(args), parent=ctx)
    except Exception as exc:  # click's UsageError / BadParameter (typer's vendored click)
        message = getattr(exc, "format_message", None)
        if message is None:
            raise
        raise ConfigError(f"{where}: {command!r}: {message()}") from None


@recipes_app.command("list")
def list_cmd(root: Path = typer.Option(None, "--root", help=ROOT_HELP)) -> None:
    """Every recipe with its kind, model or datasets, scales and description.

    Example: explainbench recipes list
    """
    from explainbench.recipes import Recipe, all_recipes, kind_of, load_any, recipe_name, recipes_root

    with cli_errors():
        folder = root or recipes_root()
        paths = all_recipes(folder)
        if not paths:
            raise FileNotFoundError(f"no recipes under {folder}")
        table = Table(title=f"Recipes in {folder}")
        for col in ("Name", "Kind", "What", "Scales", "Description"):
            table.add_column(col, overflow="fold")
        for path in paths:
            recipe = load_any(path)
            if isinstance(recipe, Recipe):
                what = f"{recipe.model} on {recipe.data}"
            elif kind_of(recipe) == "probe":
                what = f"{recipe.probe} probe on {recipe.data}"  # type: ignore[union-attr]
            else:
                what = f"{', '.join(recipe.models)} on {', '.join(recipe.datasets)}"  # type: ignore[union-attr]
            desc = " ".join(recipe.description.split())
            table.add_row(
                escape(recipe_name(path, folder)),
                kind_of(recipe),
                escape(what),
                ", ".join(recipe.scales),
                escape(desc[:120] + ("…" if len(desc) > 120 else "")),
            )
    Console(width=max(Console().width, 160)).print(table)


@recipes_app.command("show")
def show(
    name: str = typer.Argument(..., help="Recipe name (table2, peter/default) or path."),
    scale: str = typer.Option(None, "--scale", help="Show the plan at this scale, e.g. cpu-small."),
    root: Path = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Print a recipe and the commands that carry it out (run commands, then report commands).

    Example: explainbench recipes show table2 --scale cpu-small
    """
    from explainbench.recipes import find_recipe, load_any, plan

    with cli_errors():
        path = find_recipe(name, root)
        recipe = load_any(path)
        commands = plan(recipe, scale, root)
    typer.echo(f"# {path}")
    typer.echo(path.read_text(encoding="utf-8").rstrip())
    typer.echo(f"\n# plan{f' at scale {scale}' if scale else ''}: {len(commands)} command(s)")
    for c in commands:
        typer.echo(c)


@recipes_app.command("validate")
def validate_cmd(
    paths: list[Path] = typer.Argument(None, help="Recipe files (default: every recipe under the folder)."),
    root: Path = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Check recipes: known keys and types, registered models, every scale, every planned command.

    Example: explainbench recipes validate
    """
    from explainbench.recipes import all_recipes, recipes_root, validate

    folder = root or recipes_root()
    files = list(paths or all_recipes(folder))
    if not files:
        console.print(f"[red]error: no recipes under {escape(str(folder))}[/red]")
        raise typer.Exit(2)
    bad = 0
    for path in files:
        try:
            scales = validate(path, folder, check_command)
            console.print(f"[green]ok[/green]  {escape(str(path))}  (scales: {', '.join(scales) or 'none'})")
        except (ConfigError, ValueError, FileNotFoundError) as exc:
            bad += 1
            console.print(f"[red]bad[/red] {escape(str(exc).splitlines()[0])}")
    if bad:
        console.print(f"[red]{bad} of {len(files)} recipe(s) invalid[/red]")
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.add_typer(recipes_app, name="recipes")
