"""`explainbench leaderboard render|add`: the committed results under leaderboard/ and their README."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from explainbench.cli.run import cli_errors

lb_app = typer.Typer(
    help="The committed leaderboard: add finished runs, render leaderboard/README.md, migrate old files.",
    no_args_is_help=True,
)

ROOT_HELP = "Leaderboard folder (default: the checkout's leaderboard/)."


@lb_app.command("render")
def render(
    root: Path = typer.Option(None, "--root", help=ROOT_HELP),
    check: bool = typer.Option(
        False, "--check", help="Only check that README.md is current (exit 1 if not)."
    ),
    against: str = typer.Option("auto", "--against", help="Model of the Improvement row; auto = mvae; none."),
    allow_mixed: bool = typer.Option(
        False, "--allow-mixed", help="Allow a table to combine test sets or scales (stated under it)."
    ),
    correction: str = typer.Option(
        "none", "--correction", help="Correction of the significance marks: none (as committed) | holm."
    ),
) -> None:
    """Regenerate leaderboard/README.md (Tables 1-3 per dataset and the list of runs) from the results.

    Example: explainbench leaderboard render && git diff leaderboard/README.md
    """
    from explainbench.cli.report import correction as check_correction
    from explainbench.report.leaderboard import default_root, stale_lines, write_readme
    from explainbench.runner.select import Rules

    chosen = None if against.lower() == "none" else against
    with cli_errors():
        folder = root or default_root()
        picked = Rules(allow_mixed=allow_mixed)
        fix = check_correction(correction)
        if check:
            diff = stale_lines(folder, against=chosen, rules=picked, correction=fix)
            if diff:
                typer.echo("\n".join(diff[:60]))
                typer.echo(
                    f"{folder / 'README.md'} is out of date: run `explainbench leaderboard render`", err=True
                )
                raise typer.Exit(1)
            typer.echo(f"{folder / 'README.md'} is current")
            return
        path = write_readme(folder, against=chosen, rules=picked, correction=fix)
    typer.echo(str(path))


@lb_app.command("add")
def add(
    runs: list[Path] = typer.Argument(
        ..., help="Finished run folders (holding results.json and samples.jsonl)."
    ),
    root: Path = typer.Option(None, "--root", help=ROOT_HELP),
    command: str = typer.Option(None, "--command", help="The exact command that produced the run(s)."),
    stats: bool = typer.Option(
        True,
        "--stats/--no-stats",
        help="Also store the dataset's Table 1 statistics (when it is prepared here).",
    ),
    allow_dirty: bool = typer.Option(
        False,
        "--allow-dirty",
        help="Accept runs made from a checkout with uncommitted changes or without a git commit.",
    ),
) -> None:
    """Copy finished runs into leaderboard/<dataset>/<scale>/<model>/split-<k>/ (no checkpoints), then render.

    Example: explainbench leaderboard add ~/.cache/explainbench/runs/synthetic/split-1/peter/* \\
      --command "explainbench run --recipe recipes/peter/default.yaml --scale cpu-small --data synthetic"
    """
    from explainbench.report.leaderboard import add_runs, default_root

    with cli_errors():
        for path in add_runs(runs, root or default_root(), command=command, allow_dirty=allow_dirty,
                             stats=stats):
            typer.echo(str(path))


@lb_app.command("migrate")
def migrate(
    folder: Path = typer.Argument(None, help="Leaderboard folder (default: the checkout's leaderboard/)."),
) -> None:
    """Rewrite a leaderboard folder in place in the current format: results.json to schema_version 2
    (compact; metric values and run ids kept), samples.jsonl and train_log.jsonl to .gz copies.

    Each file is replaced atomically; running it again changes nothing.
    Example: explainbench leaderboard migrate leaderboard && explainbench leaderboard render --check
    """
    from explainbench.report.leaderboard import default_root
    from explainbench.runner.store import migrate_tree

    with cli_errors():
        root = folder or default_root()
        runs, changed = migrate_tree(root)
    typer.echo(f"{runs} runs under {root}: {len(changed)} files rewritten or removed")


@lb_app.command("rescore")
def rescore(
    root: Path = typer.Option(None, "--root", help=ROOT_HELP),
    family: str = typer.Option("explain", "--family", help="Metric families to add, comma-separated."),
    data: str = typer.Option(None, "--data", help="Only runs of these datasets, comma-separated."),
) -> None:
    """Add metric families to every committed run from its samples (no retraining), then render.

    The datasets must be prepared here (their fingerprints are checked); a run that already holds the
    family's metrics with the current signatures is left as it is.
    Example: explainbench leaderboard rescore --family explain && git diff --stat leaderboard
    """
    from explainbench.metrics.registry import METRICS, metrics_of
    from explainbench.report.leaderboard import default_root, write_readme
    from explainbench.runner.rescore import rescore_run

    with cli_errors():
        folder = root or default_root()
        families = [f.strip() for f in family.split(",") if f.strip()]
        wanted = {name: METRICS[name].signature for f in families for name in metrics_of(f)}
        only = {d.strip() for d in data.split(",")} if data else None
        done = 0
        for path in sorted(folder.glob("*/*/*/split-*/results.json")):
            if only is not None and path.relative_to(folder).parts[0] not in only:
                continue
            held = json.loads(path.read_text(encoding="utf-8")).get("metrics", {})
            if all(held.get(n, {}).get("signature") == s for n, s in wanted.items() if n in held) and any(
                n in held for n in wanted
            ):
                continue
            added = rescore_run(path.parent, families=families)
            typer.echo(f"{path.parent.relative_to(folder)}: {len(added)} metrics")
            done += 1
        if done:
            typer.echo(str(write_readme(folder)))
        typer.echo(f"{done} runs rescored under {folder}")


def register(app: typer.Typer) -> None:
    app.add_typer(lb_app, name="leaderboard")
