"""`explainbench demo`: what `make demo` runs (prepare `synthetic`, run the models, print Table 2)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from explainbench.cli.data import Format, render_table1
from explainbench.cli.options import METEOR, N_BOOT
from explainbench.cli.run import cli_errors, describe, wide_console
from explainbench.report.table2 import compare_view
from explainbench.report.tables import render_rich
from explainbench.runner.demo import DEMO_DATA, DEMO_THREADS, run_demo


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        data: str = typer.Option(DEMO_DATA, "--data", help="Dataset to run on (default synthetic)."),
        device: str = typer.Option(None, "--device", help="cpu, cuda, ... (default: cuda if present)."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
        threads: int = typer.Option(DEMO_THREADS, "--threads", min=1, help="torch CPU threads."),
        n_boot: int = N_BOOT,
        meteor: bool = METEOR,
    ) -> None:
        """Prepare DATA, print its Table 1, run the reference explainers and PETER (CPU-sized) on split 1,
        and print the comparison (Table 2).

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
        console.print(f"demo finished in {result.seconds / 60:.1f} min")
