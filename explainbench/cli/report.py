"""`explainbench report`, `explainbench tables` and `explainbench examples`: the paper's tables and an
HTML report, from results files only (never trains or generates)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from explainbench.cli.run import cli_errors
from explainbench.report.tables import ReportError, check_format, print_tables

if TYPE_CHECKING:  # pragma: no cover
    from explainbench.report.sources import RunSource
    from explainbench.runner.select import Rules

LEADERBOARD_HELP = "Read the runs from this leaderboard folder instead of $EXPLAINBENCH_HOME/runs."
RUN_HELP = "Use this run (id) for its model and split; repeat for several (overrides the selection rules)."
SCALE_HELP = "Only runs made at this recipe scale, e.g. cpu-small (default: the scale most runs share)."
MIXED_HELP = "Allow one table to combine different test sets or scales (stated under the table)."
CORRECTION_HELP = "Correction of the significance marks across a family's columns: holm | none."


def rules(run: list[str] | None, scale: str | None, allow_mixed: bool) -> Rules:
    """The run-selection overrides of the --run/--scale/--allow-mixed options."""
    from explainbench.runner.select import rules_from

    return rules_from(run, scale, allow_mixed)


def correction(value: str) -> str:
    from explainbench.runner.compare import CORRECTIONS

    if value not in CORRECTIONS:
        raise ReportError(f"--correction {value!r}: use one of {', '.join(CORRECTIONS)}")
    return value


def names(value: str | None, option: str) -> list[str] | None:
    """ "a,b,c" -> ["a", "b", "c"]; None stays None; an empty list is an error."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise ReportError(f"{option} {value!r}: give comma-separated names, e.g. peter,mvae")
    return items


def numbers(value: str | None, option: str) -> list[int] | None:
    items = names(value, option)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError:
        raise ReportError(f"{option} {value!r}: give comma-separated whole numbers, e.g. 3,17") from None


def source(leaderboard: Path | None) -> RunSource:
    """Where the runs are read from: $EXPLAINBENCH_HOME's runs/, or a leaderboard folder."""
    from explainbench.report.sources import RunSource

    if leaderboard is None:
        return RunSource.home()
    if not Path(leaderboard).is_dir():
        raise ReportError(f"--leaderboard {leaderboard}: no such folder")
    return RunSource.leaderboard(Path(leaderboard))


def say_paths(paths: list[Path]) -> None:
    """Every figure command prints the paths it wrote, one a line."""
    for p in paths:
        typer.echo(str(p))


def register(app: typer.Typer) -> None:
    @app.command("tables")
    def tables(
        data: str = typer.Option(..., "--data", "-d", help="Datasets, comma-separated (one section each)."),
        table: str = typer.Option(
            None,
            "--table",
            help="Which of the paper's tables, e.g. 1,2 (default: 1 where the statistics are at hand, 2, "
            "and 3 where ablation variants ran).",
        ),
        family: str = typer.Option(
            "ref,std,explain",
            "--family",
            help="Table 2 families: ref (reference code), std (standard), explain.",
        ),
        models: str = typer.Option(None, "--models", help="Models of Table 2, in row order (default: all)."),
        splits: str = typer.Option(
            None, "--splits", help="Splits to average over (default: every split run)."
        ),
        against: str = typer.Option(
            "auto",
            "--against",
            help="Model whose Improvement (%) row to show; auto = mvae where it ran; none.",
        ),
        fmt: str = typer.Option("rich", "--format", help="rich | markdown | latex | html | json."),
        leaderboard: Path = typer.Option(None, "--leaderboard", help=LEADERBOARD_HELP),
        run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
        scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
        allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
        correction_: str = typer.Option("holm", "--correction", help=CORRECTION_HELP),
    ) -> None:
        """Tables 1-3 of the paper across datasets (Table 4: `explainbench examples`).

        Example: explainbench tables --data synthetic,amazon-mi --table 2 --format latex > table2.tex
        """
        from explainbench.report.ablation import ablation_table
        from explainbench.report.table1 import table1_from_source
        from explainbench.report.table2 import Table2Options, build_table2

        with cli_errors():
            check_format(fmt)
            wanted = numbers(table, "--table") or [1, 2, 3]
            bad = [t for t in wanted if t not in (1, 2, 3)]
            if bad:
                raise ReportError(
                    f"--table {bad[0]}: choose among 1, 2, 3 (Table 4 is `explainbench examples`)"
                )
            datasets = names(data, "--data") or []
            src = source(leaderboard)
            chosen = None if against.lower() == "none" else against
            picked = rules(run, scale, allow_mixed)
            built = []
            if 1 in wanted:
                stats_table, missing = table1_from_source(src, datasets)
                if missing and table is not None:  # asked for by name: say what is missing
                    raise ReportError(
                        f"Table 1: no statistics of {', '.join(missing)}; prepare or import the dataset "
                        "(`explainbench data prepare NAME`) or add a run with `leaderboard add`"
                    )
                if stats_table is not None:
                    built.append(stats_table)
            if 2 in wanted:
                auto = chosen == "auto"
                base = (
                    ("mvae" if all("mvae" in src.models(d) for d in datasets) else None) if auto else chosen
                )
                built += build_table2(
                    src,
                    Table2Options(
                        datasets,
                        models=names(models, "--models"),
                        splits=numbers(splits, "--splits"),
                        against=base,
                        families=tuple(names(family, "--family") or ()),
                        rules=picked,
                        correction=correction(correction_),
                    ),
                )
            if 3 in wanted:
                base = "mvae" if chosen in ("auto", None) else chosen
                for d in datasets:
                    if any(m.startswith(f"{base}-") for m in src.models(d)):
                        built.append(
                            ablation_table(
                                src, d, base=base, splits=numbers(splits, "--splits"), rules=picked
                            )
                        )
            if not built:
                raise ReportError("nothing to print: no requested table has data")
        print_tables(built, fmt)

    @app.command("examples")
    def examples(
        data: str = typer.Option(..., "--data", "-d", help="Dataset name."),
        models: str = typer.Option(
            ..., "--models", help="Models whose explanations to show, e.g. nete,peter,mvae."
        ),
        ids: str = typer.Option(
            None, "--ids", help="Example numbers (positions in samples.jsonl), e.g. 3,17."
        ),
        n: int = typer.Option(5, "--n", min=1, help="How many examples when --ids is not given."),
        split: int = typer.Option(1, "--split", min=1, help="Which split's runs to read."),
        fmt: str = typer.Option("rich", "--format", help="rich | markdown | latex | html | json."),
        leaderboard: Path = typer.Option(None, "--leaderboard", help=LEADERBOARD_HELP),
        run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
        scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
        allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
    ) -> None:
        """Table 4: the reference and each model's explanation, feature words highlighted.

        By default the examples where the models' explanations differ most are chosen.
        Example: explainbench examples --data synthetic --models global-popular,peter,mvae --n 3
        """
        from explainbench.report.examples import build_examples

        with cli_errors():
            check_format(fmt)
            table = build_examples(
                source(leaderboard),
                data,
                names(models, "--models") or [],
                split=split,
                n=n,
                ids=numbers(ids, "--ids"),
                rules=rules(run, scale, allow_mixed),
            )
        print_tables([table], fmt)

    @app.command("report")
    def report(
        data: str = typer.Option(..., "--data", "-d", help="Datasets, comma-separated."),
        output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
        models: str = typer.Option(None, "--models", help="Models to include (default: all with runs)."),
        against: str = typer.Option(
            "auto", "--against", help="Model compared in Tables 2-3; auto = mvae; none."
        ),
        split: int = typer.Option(1, "--split", min=1, help="Split of the figures and examples."),
        metric: str = typer.Option("bleu1,rougeL_f", "--metric", help="Metrics of Figure 5."),
        n_examples: int = typer.Option(5, "--examples", min=1, help="Examples in Table 4."),
        leaderboard: Path = typer.Option(None, "--leaderboard", help=LEADERBOARD_HELP),
        run: list[str] = typer.Option(None, "--run", metavar="RUN_ID", help=RUN_HELP),
        scale: str = typer.Option(None, "--scale", metavar="NAME", help=SCALE_HELP),
        allow_mixed: bool = typer.Option(False, "--allow-mixed", help=MIXED_HELP),
        correction_: str = typer.Option("holm", "--correction", help=CORRECTION_HELP),
    ) -> None:
        """Write one self-contained HTML page: Tables 1-4 and Figures 5-6 (figures embedded as SVG).

        Example: explainbench report --data synthetic -o report.html
        """
        from explainbench.report.html import ReportOptions, write_report

        with cli_errors():
            options = ReportOptions(
                datasets=names(data, "--data") or [],
                models=names(models, "--models"),
                against=None if against.lower() == "none" else against,
                split=split,
                bucket_metrics=tuple(names(metric, "--metric") or ()),
                n_examples=n_examples,
                rules=rules(run, scale, allow_mixed),
                correction=correction(correction_),
            )
            path = write_report(source(leaderboard), options, output)
        typer.echo(str(path))
