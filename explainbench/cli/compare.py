"""`explainbench compare`: Table 2 from finished runs (never trains or generates)."""

from __future__ import annotations

import json

import typer

from explainbench.cli.report import CORRECTION_HELP, MIXED_HELP, RUN_HELP, SCALE_HELP, correction, rules
from explainbench.cli.run import cli_errors, wide_console
from explainbench.runner.compare import FAMILIES, CompareError, build_table
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
        family: str = typer.Option(
            "ref", "--family",
            help="ref (reference-code metrics) | std (standard) | explain (USR, ... and the 2022+ measures).",
        ),
        ablation: str = typer.Option(None, "--ablation", help="Table 3: variants of this model (e.g. mvae) "
                                     "with their relative drop; --models names the variants."),
        run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
        scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
        allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
        correction_: str = typer.Option("holm", "--correction", help=CORRECTION_HELP),
    ) -> None:
        """One row per model (one run per split: full before --limit runs, the table's scale, then newest;
        see docs/reporting.md), mean ± std over splits, best in bold, n and scale stated under the table."""
        from explainbench.data import explainbench_home
        from explainbench.report.table2 import compare_view
        from explainbench.report.tables import render_latex, render_markdown, render_rich

        if ablation is not None:  # Table 3 lives in explainbench.report.ablation
            from explainbench.report.ablation import print_ablation

            with cli_errors():
                print_ablation(data, ablation, variants=_names(models), splits=None if splits is None
                               else parse_splits(splits, "--splits"), fmt=fmt,
                               rules=rules(run, scale, allow_mixed))
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
                rules=rules(run, scale, allow_mixed),
                correction=correction(correction_),
            )
        if fmt == "json":
            from explainbench.api.results import json_safe

            typer.echo(json.dumps(json_safe(table.to_dict()), indent=2))
        elif fmt == "markdown":
            typer.echo(render_markdown(compare_view(table)), nl=False)
        elif fmt == "latex":
            typer.echo(render_latex(compare_view(table)), nl=False)
        else:
            wide_console().print(render_rich(compare_view(table)))


__all__ = ["CompareError", "register"]
