"""`explainbench grid RECIPE`: every run a recipe asks for, as `explainbench run` makes them, N at a time."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from explainbench.cli.options import METEOR, N_BOOT
from explainbench.cli.run import COLD, DEVICE, SET, cli_errors, wide_console
from explainbench.runner.config import ConfigError, parse_splits
from explainbench.runner.grid import EXECUTORS, STATES

console = Console(stderr=True, soft_wrap=True)
COLOURS = {"done": "green", "skipped": "cyan", "failed": "red", "retry": "yellow", "running": "white",
           "progress": "white", "queued": "dim"}


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
        shared_home: bool = typer.Option(
            False, "--shared-home",
            help="Ray: every node mounts this home at the same path; tasks write their runs there "
                 "(checkpoints kept, so interrupted runs resume) instead of returning them."),
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
            if shared_home and executor != "ray":
                raise ConfigError("--shared-home is a Ray mode: add --executor ray")
            seed_list = parse_splits(seeds, "--seeds") if seeds else []
            plan = load_any(find_recipe(recipe))
            runs = grid_runs(
                plan, scale, seeds=seed_list, set_items=set_items, threads=threads, device=device,
                n_boot=n_boot, meteor=meteor, cold=cold,
                models=[m.strip() for m in (models or "").split(",") if m.strip()],
            )
            if not runs:
                raise ConfigError(f"{recipe}: the recipe names no runs")
        n_jobs = jobs or (default_jobs(threads) if executor == "local" or not address else None)
        at_a_time = f"{n_jobs} at a time" if n_jobs else "as many at a time as the cluster's CPUs hold"
        out = wide_console()
        if dry_run:
            for run in runs:
                note = f"  [red]{escape(run.error)}[/red]" if run.error else ""
                out.print(f"{escape(run.label)}{note}")
            out.print(f"{len(runs)} runs; {at_a_time} with {threads} thread(s) each")
            return
        started = time.perf_counter()
        where = f"Ray at {address}" if address else "a local Ray"
        where = "local processes" if executor == "local" else where
        console.print(f"grid: {len(runs)} runs on {where}, {at_a_time}, {threads} thread(s) each")
        board: dict[str, object] = {}  # label -> GridResult, in the order runs are first reported
        live = Live(console=console, refresh_per_second=1, transient=False) if console.is_terminal else None

        def event(state: str, result) -> None:  # noqa: ANN001 - a GridResult
            board[result.label] = result
            if live is not None:  # a terminal: the live table
                live.update(status_table(list(board.values())))
                return
            if state == "queued":  # a log: one line per change
                return
            console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {event_line(state, result)}")

        with cli_errors():
            try:
                if live is not None:
                    live.start()
                report = run_grid(runs, jobs=n_jobs, retries=retries, on_event=event, executor=executor,
                                  threads=threads, gpus=gpus, address=address, shared_home=shared_home)
            except KeyboardInterrupt:
                console.print("[yellow]grid: interrupted; finished runs are kept, and running the same "
                              "command again skips them and resumes the others[/yellow]")
                raise typer.Exit(130) from None
            finally:
                if live is not None:
                    live.update(status_table(list(board.values())))
                    live.stop()
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


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def _epoch_text(result) -> str:  # noqa: ANN001 - a GridResult
    record = result.progress or {}
    if not record.get("epoch"):
        return "-"
    stage = record.get("stage", "train")
    limit = f"/{result.max_epochs}" if result.max_epochs else ""
    loss = record.get("val_loss")
    text = f"{record['epoch']}{limit}" + ("" if stage == "train" else f" ({stage})")
    return text + (f", val {loss:.4g}" if isinstance(loss, (int, float)) else "")


def event_line(state: str, result) -> str:  # noqa: ANN001 - a GridResult
    """One log line for a grid event (when the status table cannot be drawn live)."""
    colour = COLOURS.get(state, "white")
    extra = f" (attempt {result.attempts})" if state in ("running", "retry") else ""
    if state == "retry":
        extra += f": {result.error}; trying again"
    elif state == "failed":
        extra = f": {result.error}"
    elif state in ("done", "skipped") and result.run_id:
        extra = f" run {result.run_id}" + (" (already finished)" if state == "skipped" else "")
    elif state == "progress":
        eta = result.eta_s()
        extra = f": epoch {_epoch_text(result)}" + (f", at most {_minutes(eta)} min left" if eta else "")
    return f"[{colour}]{state:8}[/{colour}] {escape(result.label)}{escape(extra)}"


def status_table(results: list, now: float | None = None) -> Table:
    """The live table: every run's state, epoch (of its limit) and time, and the ETA of running ones
    (at their pace so far, to the epoch limit: early stopping usually ends them sooner)."""
    now = now or time.time()
    counts = {s: sum(r.state == s for r in results) for s in STATES}
    title = "grid: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    table = Table(title=title, title_justify="left")
    for col in ("Run", "State", "Epoch", "Minutes", "ETA (min, at most)", "Run id"):
        table.add_column(col, overflow="fold")
    for r in results:
        colour = COLOURS.get(r.state, "white")
        running = r.state == "running" and r.started is not None
        elapsed = now - r.started if running else (r.seconds or None)
        table.add_row(escape(r.label), f"[{colour}]{r.state}[/{colour}]", _epoch_text(r) if running else "-",
                      _minutes(elapsed), _minutes(r.eta_s(now)) if running else "-", r.run_id or "-")
    return table


def _to_leaderboard(report, folder: Path, allow_dirty: bool, out: Console) -> None:  # noqa: ANN001
    """Add the grid's finished runs to a leaderboard folder in one go (the command that made them is
    this grid command), then render its README."""
    from explainbench.report.leaderboard import add_runs

    command = shlex.join(["explainbench", *sys.argv[1:]])
    finished = [r.run_dir for r in report.results if r.state in ("done", "skipped") and r.run_dir is not None]
    for path in add_runs(finished, folder, command=command, allow_dirty=allow_dirty):
        out.print(str(path))
