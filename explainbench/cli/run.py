"""`explainbench run`: train a registered explainer, generate for the test split, score, save results."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from explainbench.api.explainer import RequestError
from explainbench.api.registry import RegistryError, get_explainer
from explainbench.cli.errors import fail
from explainbench.cli.options import BERTSCORE, METEOR, N_BOOT
from explainbench.runner.config import ConfigError, load_recipe, parse_splits, resolve_config

if TYPE_CHECKING:  # pragma: no cover
    from explainbench.runner.run import RunOutcome

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

HEADLINE = ("bleu1", "bleu4", "rougeL_f", "usr", "fmr", "fcr", "div", "rmse")


def wide_console() -> Console:
    """stdout console; when piped, 250 columns instead of rich's 80 so tables are not squeezed."""
    console = Console()
    return console if console.is_terminal else Console(width=250)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (one red line, exit 2), not a bug (traceback)."""
    from explainbench.runner.run import RunError

    errors: list[type[BaseException]] = [
        ConfigError, RegistryError, RunError, RequestError, ValueError, FileNotFoundError,
    ]
    try:
        from explainbench.data.errors import DataError

        errors.append(DataError)
    except ImportError:  # pragma: no cover - the data package always ships errors.py
        pass
    return tuple(errors)




@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn project exceptions into fail(); EXPLAINBENCH_DEBUG=1 shows the traceback instead."""
    try:
        yield
    except user_errors() as exc:
        if os.environ.get("EXPLAINBENCH_DEBUG"):
            raise
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:  # a failed write (disk full, read-only home): every write is atomic
        if os.environ.get("EXPLAINBENCH_DEBUG"):
            raise
        fail(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}; files written before are "
             "intact (every write goes through a temporary file): free space and re-run")


def describe(outcome: RunOutcome, say: Callable[[str], None]) -> None:
    """A finished run's headline metrics and where its files are."""
    results = outcome.results
    metrics = results.get("metrics", {})
    parts = []
    for name in HEADLINE:
        value = (metrics.get(name) or {}).get("value")
        if value is not None:
            parts.append(f"{name} {value:.4g}")
    if outcome.status == "skipped":
        head = f"already finished, nothing to do (run {outcome.run_id})"
    else:
        head = f"finished run {outcome.run_id}"
    say(f"[bold]{escape(results['model'])}[/bold] on {escape(results['dataset'])} split "
        f"{results['split']}: {head}")
    if parts:
        say("  " + ", ".join(parts) + f"  (n={results['n']['effective']})")
    say(f"  {escape(str(outcome.results_path))}")


MODEL = typer.Option(None, "--model", "-m", metavar="NAME", help="Explainer name (see `explainbench list`).")
DATA = typer.Option(None, "--data", "-d", metavar="NAME", help="Dataset name, e.g. synthetic.")
SPLIT = typer.Option(None, "--split", min=1, metavar="K", help="One split (default 1, or the recipe's).")
SPLITS = typer.Option(None, "--splits", metavar="1,2,3", help="Several splits, e.g. 1,2,3.")
SEED = typer.Option(None, "--seed", min=0, metavar="S", help="Model seed (config key seed).")
RECIPE = typer.Option(None, "--recipe", metavar="FILE.yaml", help="Recipe YAML (model, data, splits, config)")
SCALE = typer.Option(None, "--scale", metavar="NAME", help="A scale the recipe defines, e.g. cpu-small.")
SET = typer.Option([], "--set", metavar="KEY=VALUE", help="Config override (repeatable, beats the recipe).")
COLD = typer.Option("skip", "--cold", metavar="skip|serve",
                    help="Test records whose user or item has no training record: leave out, or serve.")
LIMIT = typer.Option(None, "--limit", min=1, metavar="N", help="Score only the first N test records.")
DEVICE = typer.Option(None, "--device", metavar="D", help="cpu, cuda, cuda:1 (default: cuda if present).")
THREADS = typer.Option(None, "--threads", min=1, metavar="N", help="torch CPU threads (default: torch's).")
RESUME = typer.Option(False, "--resume", help="Continue an interrupted training from its checkpoint.")
PROGRESS = typer.Option(True, "--progress/--no-progress", help="Show progress bars.")
NPROC = typer.Option(1, "--nproc", min=1, metavar="N",
                     help="Train data-parallel on N processes of this machine (torchrun: gloo on the CPU, "
                          "NCCL on GPUs, one GPU each).")


def torchrun_command(nproc: int, args: list[str]) -> list[str]:
    """The torchrun command that runs `explainbench ARGS` on nproc processes of this machine."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
            "-m", "explainbench", *args]


def run_args(**options: object) -> list[str]:
    """`run`'s options back as command-line arguments (what --nproc hands to torchrun)."""
    args = ["run"]
    for name, flag in (("model", "--model"), ("data", "--data"), ("split", "--split"),
                       ("splits", "--splits"), ("seed", "--seed"), ("recipe", "--recipe"),
                       ("scale", "--scale"), ("limit", "--limit"), ("cold", "--cold"),
                       ("device", "--device"), ("threads", "--threads"), ("n_boot", "--n-boot"),
                       ("bertscore", "--bertscore")):
        value = options.get(name)
        if value is not None:
            args += [flag, str(value)]
    for item in options.get("set_items") or []:
        args += ["--set", str(item)]
    if options.get("resume"):
        args.append("--resume")
    args.append("--meteor" if options.get("meteor") else "--no-meteor")
    args.append("--progress" if options.get("progress") else "--no-progress")
    return args


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        model: str = MODEL,
        data: str = DATA,
        split: int | None = SPLIT,
        splits: str | None = SPLITS,
        seed: int | None = SEED,
        recipe: Path = RECIPE,
        scale: str = SCALE,
        set_items: list[str] = SET,
        limit: int | None = LIMIT,
        cold: str = COLD,
        device: str = DEVICE,
        threads: int | None = THREADS,
        resume: bool = RESUME,
        n_boot: int = N_BOOT,
        meteor: bool = METEOR,
        bertscore: str | None = BERTSCORE,
        progress: bool = PROGRESS,
        nproc: int = NPROC,
    ) -> None:
        """Train MODEL on DATA, generate for the test split, score it and write results.json.

        Re-running a finished run (same model, data, split, resolved config and seed) is a no-op.
        --nproc N trains data-parallel (the same as `torchrun --nproc-per-node N -m explainbench run ...`).
        """
        from explainbench.runner.run import RunSpec, run_experiment

        if nproc > 1 and int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
            import subprocess

            from explainbench.runner.run import check_data_parallel

            with cli_errors():
                check_data_parallel(model or (load_recipe(recipe).model if recipe is not None else None))

            command = torchrun_command(nproc, run_args(
                model=model, data=data, split=split, splits=splits, seed=seed, recipe=recipe, scale=scale,
                limit=limit, cold=cold, device=device, threads=threads, n_boot=n_boot,
                set_items=set_items, resume=resume, meteor=meteor, progress=progress, bertscore=bertscore))
            console.print(f"[dim]{escape(' '.join(command[1:]))}[/dim]")
            raise typer.Exit(subprocess.call(command))

        with cli_errors():
            plan = load_recipe(recipe) if recipe is not None else None
            model_name = model or (plan.model if plan else None)
            data_name = data or (plan.data if plan else None)
            if not model_name:
                raise ConfigError("no model given: pass --model NAME or a --recipe with model:")
            if not data_name:
                raise ConfigError("no dataset given: pass --data NAME or a --recipe with data:")
            if split is not None and splits is not None:
                raise ConfigError("give --split or --splits, not both")
            if split is not None:
                split_list = [split]
            elif splits is not None:
                split_list = parse_splits(splits, "--splits")
            else:
                split_list = (plan.splits if plan and plan.splits else None) or [1]
            cls = get_explainer(model_name)
            config = resolve_config(
                cls.config_class,
                recipe=plan,
                scale=scale,
                seed=seed,
                set_items=set_items,
            )
            try:
                for k in split_list:
                    spec = RunSpec(
                        model=model_name,
                        data=data_name,
                        config=config,
                        split=k,
                        limit=limit,
                        cold=cold,
                        device=device,
                        threads=threads,
                        scale=scale,
                        resume=resume,
                        n_boot=n_boot,
                        meteor=meteor,
                        bertscore=bertscore,
                        progress=progress,
                    )
                    outcome = run_experiment(spec, log=lambda m: console.print(f"[dim]{escape(m)}[/dim]"))
                    if outcome.status != "follower":  # rank 0 reports a data-parallel run
                        describe(outcome, out.print)
            finally:
                if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:  # leave torchrun's process group
                    from explainbench.engine.distributed import shutdown

                    shutdown()
