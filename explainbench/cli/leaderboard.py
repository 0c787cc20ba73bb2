"""`explainbench leaderboard render|add`: the committed results under leaderboard/ and their README."""

from __future__ import annotations

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


def register(app: typer.Typer) -> None:
    app.add_typer(lb_app, name="leaderboard")
