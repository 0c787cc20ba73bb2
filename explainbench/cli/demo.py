"""`explainbench demo`: what `make demo` runs (prepare `synthetic-dense`, run the floors, PETER and MVAE,
print Tables 1 and 2, write an HTML report of the same runs)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from explainbench.cli.data import Format, render_table1
from explainbench.cli.options import METEOR, N_BOOT
from explainbench.cli.run import cli_errors, describe, wide_console
from explainbench.report.table2 import compare_view
from explainbench.report.tables import render_rich
from explainbench.runner.demo import DEMO_DATA, DEMO_SCALE, DEMO_THREADS, DemoResult, run_demo


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        data: str = typer.Option(
            DEMO_DATA, "--data", help="Dataset to run on (a preset or a prepared dataset)."
        ),
        device: str = typer.Option(None, "--device", help="cpu, cuda, ... (default: cuda if present)."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
        threads: int = typer.Option(DEMO_THREADS, "--threads", min=1, help="torch CPU threads."),
        n_boot: int = N_BOOT,
        meteor: bool = METEOR,
    ) -> None:
        """Prepare DATA, run the floors, PETER and MVAE (CPU-sized) on split 1, print DATA's Table 1 and
        Table 2 (MVAE against the best other model, paired-test markers), and write an HTML report of
        the same runs.

        Example: explainbench demo --no-meteor
        """
        console = wide_console()
        err = Console(stderr=True, soft_wrap=True)
        with cli_errors():
            result = run_demo(
                data=data,
                device=device,
                threads=threads,
                progress=progress,
                n_boot=n_boot,
                meteor=meteor,
                log=lambda m: err.print(f"[dim]{escape(m)}[/dim]"),
            )
        for outcome in result.outcomes:
            describe(outcome, err.print)
        from explainbench.data.load import dataset_stats

        with cli_errors():
            console.print(render_table1([dataset_stats(data)], Format.rich))
        console.print(render_rich(compare_view(result.table)))
        with cli_errors():
            report = write_demo_report(result)
        typer.echo(f"HTML report of these runs (Tables 1-4, Figures 5-6): {report}")
        console.print(f"demo finished in {result.seconds / 60:.1f} min")


def write_demo_report(result: DemoResult) -> Path:
    """The HTML report of the demo's runs: HOME/reports/demo-DATA.html."""
    from explainbench.report.html import ReportOptions, write_report
    from explainbench.report.sources import RunSource
    from explainbench.runner.select import rules_from

    options = ReportOptions(
        datasets=[result.data],
        models=result.models,
        against=result.table.against,
        split=1,
        rules=rules_from(None, DEMO_SCALE, False),
        title=f"explainbench demo: {result.data}, split 1",
    )
    out = result.home / "reports" / f"demo-{result.data}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_report(RunSource.home(result.home), options, out, home=result.home)
