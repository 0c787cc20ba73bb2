"""`explainbench compare`: Table 2 from finished runs (never trains or generates)."""

from __future__ import annotations

import json

import typer

from explainbench.cli.run import cli_errors, wide_console
from explainbench.runner.compare import (
    FAMILIES,
    CompareError,
    build_table,
    render_latex,
    render_markdown,
    render_rich,
)
from explainbench.runner.config import ConfigError, parse_splits

FORMATS = ("rich", "markdown", "latex", "json")


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ConfigError(f"--models {value!r}: give names like peter,global-popular")
    return names


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        data: str = typer.Option(..., "--data", "-d", help="Dataset name whose runs to compare."),
        models: str = typer.Option(None, "--models", help="Comma-separated models (default: all)."),
        splits: str = typer.Option(None, "--splits", help="Splits to average over, e.g. 1,2,3."),
        against: str = typer.Option(None, "--against", help="Model whose improvement to show."),
        fmt: str = typer.Option("rich", "--format", help="rich | markdown | latex | json."),
        family: str = typer.Option("ref", "--family", help="ref (reference-code metrics) | std (standard)."),
        ablation: str = typer.Option(None, "--ablation", help="Table 3: variants of this model (e.g. mvae) "
                                     "with their relative drop; --models names the variants."),
    ) -> None:
        """One row per model (latest run per split), mean ± std over splits, best in bold."""
        from explainbench.data import explainbench_home

        if ablation is not None:  # Table 3 lives in explainbench.report.ablation
            from explainbench.report.ablation import print_ablation

            with cli_errors():
                print_ablation(data, ablation, variants=_names(models), splits=None if splits is None
                               else parse_splits(splits, "--splits"), fmt=fmt)
            return
        with cli_errors():
            if fmt not in FORMATS:
                raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
            if family not in FAMILIES:
                raise ConfigError(f"--family {family!r}: use one of {', '.join(FAMILIES)}")
            table = build_table(
                explainbench_home(),
                data,
                models=_names(models),
                splits=None if splits is None else parse_splits(splits, "--splits"),
                against=against,
                family=family,
            )
        if fmt == "json":
            typer.echo(json.dumps(table.to_dict(), indent=2))
        elif fmt == "markdown":
            typer.echo(render_markdown(table), nl=False)
        elif fmt == "latex":
            typer.echo(render_latex(table), nl=False)
        else:
            wide_console().print(render_rich(table))


__all__ = ["CompareError", "register"]
