"""`explainbench probe noise`: the MVAE paper's initial-noise experiment (section 4.5, Figure 4)."""

from __future__ import annotations

from pathlib import Path

import typer

from explainbench.cli.report import say_paths
from explainbench.cli.run import cli_errors

probe_app = typer.Typer(
    help="Experiments about models: the paper's initial-noise probe.", no_args_is_help=True
)


@probe_app.command("noise")
def noise(
    data: str = typer.Option(None, "--data", "-d", help="Dataset (default: the recipe's, else synthetic)."),
    split: int = typer.Option(
        None, "--split", min=1, help="Split whose training records to use (default 1)."
    ),
    recipe: Path = typer.Option(None, "--recipe", help="Probe recipe, e.g. recipes/fig4-noise.yaml."),
    scale: str = typer.Option(None, "--scale", help="A scale of the recipe, e.g. cpu-small."),
    set_items: list[str] = typer.Option([], "--set", help="VAE config override key=value (repeatable)."),
    fraction: float = typer.Option(None, "--fraction", help="Share of training examples duplicated (0.5)."),
    bins: int = typer.Option(None, "--bins", min=1, help="Bins of users sorted by training count (80)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda (default: cuda if present)."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Output path without extension (default figures/fig4-noise-DATA)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Figure 4: duplicate half of the examples with a second copy of each user, train a plain VAE,
    and plot the cosine similarity of each user's two embeddings against its training examples.

    This command trains (a small VAE); everything else in the reporter only reads results.
    Example: explainbench probe noise --data synthetic --recipe recipes/fig4-noise.yaml --scale cpu-small
    """
    from explainbench.probe import run_noise_probe
    from explainbench.probe.vae import PlainVAEConfig
    from explainbench.recipes import ProbeRecipe, load_any
    from explainbench.runner.config import ConfigError, apply_overrides, parse_set_items

    with cli_errors():
        plan = load_any(recipe) if recipe is not None else None
        if plan is not None and not isinstance(plan, ProbeRecipe):
            raise ConfigError(f"{recipe}: not a probe recipe (kind: probe)")
        if scale is not None and plan is None:
            raise ConfigError("--scale needs a --recipe that defines scales")
        base = plan.vae_config(scale) if plan is not None else PlainVAEConfig()
        config = apply_overrides(
            PlainVAEConfig,
            [
                ("recipe", {k: getattr(base, k) for k in base.to_dict()}),
                ("--set", parse_set_items(set_items)),
            ],
        )
        name = data or (plan.data if plan else "synthetic")
        options = plan.options if plan else {}
        out = output or Path("figures") / f"fig4-noise-{name}"
        result = run_noise_probe(
            name,
            out,
            split=split or (plan.split if plan else 1),
            config=config,
            fraction=fraction if fraction is not None else float(options.get("fraction", 0.5)),
            bins=bins if bins is not None else int(options.get("bins", 80)),
            device=device,
            progress=progress,
        )
    rho = "n/a" if result.spearman is None else f"{result.spearman:+.3f}"
    typer.echo(
        f"users {len(result.users)}, bins {len(result.bins)}, similarity before training "
        f"{result.initial_similarity:+.3f}, Spearman(count, similarity) {rho}",
        err=True,
    )
    say_paths(result.paths)


def register(app: typer.Typer) -> None:
    app.add_typer(probe_app, name="probe")
