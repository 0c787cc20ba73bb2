"""`explainbench grid RECIPE`: every run a recipe asks for, as `explainbench run` makes them, N at a time."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from explainbench.cli.options import METEOR, N_BOOT
from explainbench.cli.run import COLD, DEVICE, SET, cli_errors, wide_console
from explainbench.runner.config import ConfigError, parse_splits
from explainbench.runner.grid import EXECUTORS

console = Console(stderr=True, soft_wrap=True)
COLOURS = {"done": "green", "skipped": "cyan", "failed": "red", "retry": "yellow", "running": "white"}


def register(app: typer.Typer) -> None:
    @app.command("grid")
    def grid(
        recipe: str = typer.Argument(
            ..., metavar="RECIPE",
            help="An experiment recipe (models x datasets x splits, e.g. table2) or a model recipe: a path, "
                 "or a name under recipes/.",
        ),
        scale: str = typer.Option(None, "--scale", metavar="NAME", help="A scale the recipe defines."),
        models: str = typer.Option(None, "--models", metavar="a,b",
                                   help="Only these of the recipe's models (default: all)."),
        seeds: str = typer.Option(None, "--seeds", metavar="1111,2",
                                  help="Run every cell once per seed (default: the config's seed)."),
        set_items: list[str] = SET,
        executor: str = typer.Option("local", "--executor", metavar="local|ray",
                                     help="local: worker processes on this machine; ray: Ray tasks (a local "
                                          "Ray started here, or the cluster at --address)."),
        address: str = typer.Option(None, "--address", metavar="ADDR",
                                    help="Ray cluster to use (e.g. auto, or ray://host:10001)."),
        gpus: float = typer.Option(0, "--gpus-per-run", min=0, metavar="G", help="GPUs per Ray task."),
        jobs: int = typer.Option(None, "--jobs", "-j", min=1, metavar="N",
                                 help="Runs at once (default: CPU cores / --threads-per-run)."),
        threads: int = typer.Option(1, "--threads-per-run", min=1, metavar="T",
                                    help="torch CPU threads of each run."),
        retries: int = typer.Option(1, "--retries", min=0, metavar="R",
                                    help="Tries after a run's first failure."),
        device: str = DEVICE,
        cold: str = COLD,
        n_boot: int = N_BOOT,
        meteor: bool = METEOR,
        dry_run: bool = typer.Option(False, "--dry-run", help="List the runs, run nothing."),
        leaderboard: Path = typer.Option(
            None, "--leaderboard", metavar="DIR",
            help="Then add every finished run to this leaderboard folder (e.g. leaderboard), with this "
                 "command, and render its README.",
        ),
        allow_dirty: bool = typer.Option(
            False, "--allow-dirty", help="With --leaderboard: accept runs made from uncommitted code."
        ),
    ) -> None:
        """Expand RECIPE into runs and execute them; finished runs are skipped, failed ones retried and
        reported, the others go on. Exit 1 if any run failed. Results land in the home as with `run`.

        Example: explainbench grid table2 --scale cpu-small --jobs 2
        """
        from explainbench.recipes import find_recipe, grid_runs, load_any
        from explainbench.runner.grid import default_jobs, run_grid

        with cli_errors():
            if executor not in EXECUTORS:
                raise ConfigError(f"--executor {executor!r}: use one of {', '.join(EXECUTORS)}")
            if address and executor != "ray":
                raise ConfigError("--address names a Ray cluster: add --executor ray")
            seed_list = parse_splits(seeds, "--seeds") if seeds else []
            plan = load_any(find_recipe(recipe))
            runs = grid_runs(
                plan, scale, seeds=seed_list, set_items=set_items, threads=threads, device=device,
                n_boot=n_boot, meteor=meteor, cold=cold,
                models=[m.strip() for m in (models or "").split(",") if m.strip()],
            )
            if not runs:
                raise ConfigError(f"{recipe}: the recipe names no runs")
        n_jobs = jobs or default_jobs(threads)
        out = wide_console()
        if dry_run:
            for run in runs:
                note = f"  [red]{escape(run.error)}[/red]" if run.error else ""
                out.print(f"{escape(run.label)}{note}")
            out.print(f"{len(runs)} runs; {n_jobs} at a time with {threads} thread(s) each")
            return
        started = time.perf_counter()
        where = f"Ray at {address}" if address else "a local Ray"
        where = "local processes" if executor == "local" else where
        console.print(f"grid: {len(runs)} runs on {where}, {n_jobs} at a time, {threads} thread(s) each")

        def event(state: str, result) -> None:  # noqa: ANN001 - a GridResult
            if state == "queued":
                return
            colour = COLOURS.get(state, "white")
            extra = f" (attempt {result.attempts})" if state in ("running", "retry") else ""
            if state == "retry":
                extra += f": {result.error}; trying again"
            elif state == "failed":
                extra = f": {result.error}"
            elif state in ("done", "skipped") and result.run_id:
                extra = f" run {result.run_id}" + (" (already finished)" if state == "skipped" else "")
            console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] [{colour}]{state:8}[/{colour}] "
                          f"{escape(result.label)}{escape(extra)}")

        with cli_errors():
            try:
                report = run_grid(runs, jobs=n_jobs, retries=retries, on_event=event, executor=executor,
                                  threads=threads, gpus=gpus, address=address)
            except KeyboardInterrupt:
                console.print("[yellow]grid: interrupted; finished runs are kept, and running the same "
                              "command again skips them and resumes the others[/yellow]")
                raise typer.Exit(130) from None
        table = Table(title=f"grid: {plan.path}" + (f" at scale {scale}" if scale else ""))
        for col in ("Run", "State", "Run id", "Tries", "Minutes", "BLEU-1", "ROUGE-L F", "Error"):
            table.add_column(col, overflow="fold")
        for r in report.results:
            colour = COLOURS.get(r.state, "white")
            bleu, rouge = r.metrics.get("bleu1"), r.metrics.get("rougeL_f")
            table.add_row(
                escape(r.label), f"[{colour}]{r.state}[/{colour}]", r.run_id or "-", str(r.attempts),
                f"{r.seconds / 60:.1f}" if r.seconds else "-",
                "-" if bleu is None else f"{bleu:.2f}", "-" if rouge is None else f"{rouge:.2f}",
                escape(r.error or ""),
            )
        out.print(table)
        summary = ", ".join(f"{report.count(s)} {s}" for s in ("done", "skipped", "failed"))
        out.print(f"grid: {summary} in {(time.perf_counter() - started) / 60:.1f} min")
        if leaderboard is not None:
            with cli_errors():
                _to_leaderboard(report, leaderboard, allow_dirty, out)
        if report.failed:
            raise typer.Exit(1)


def _to_leaderboard(report, folder: Path, allow_dirty: bool, out: Console) -> None:  # noqa: ANN001
    """Add the grid's finished runs to a leaderboard folder in one go (the command that made them is
    this grid command), then render its README."""
    from explainbench.report.leaderboard import add_runs

    command = shlex.join(["explainbench", *sys.argv[1:]])
    finished = [r.run_dir for r in report.results if r.state in ("done", "skipped") and r.run_dir is not None]
    for path in add_runs(finished, folder, command=command, allow_dirty=allow_dirty):
        out.print(str(path))
