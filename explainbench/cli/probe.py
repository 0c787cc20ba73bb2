"""`explainbench probe`: experiments about models rather than benchmarks of them.

noise     the MVAE paper's initial-noise experiment (section 4.5, Figure 4)
identity  does a trained run use its users and items? (explainbench/probe/identity.py)
latents   what MVAE's recognition codes hold, and can its prior predict it? (explainbench/probe/latents.py)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from explainbench.cli.report import say_paths
from explainbench.cli.run import cli_errors

probe_app = typer.Typer(
    help="Experiments about models: the paper's initial-noise probe; a run's identity and latent probes.",
    no_args_is_help=True,
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
    fraction: float = typer.Option(
        None, "--fraction", min=0.0, max=1.0, help="Share of training examples duplicated (0.5)."
    ),
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


@probe_app.command("identity")
def identity(
    run_dir: Path = typer.Argument(..., help="A finished run's folder (holds config.yaml and model/)."),
    records: str = typer.Option(
        "validation", "--records", help="Which records of the run's split: validation or test."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the shuffles."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:1."),
    output: Path = typer.Option(None, "--output", "-o", help="Also write the result as JSON here."),
) -> None:
    """The run's validation objective with its records' true user and item ids, and with each
    shuffled across the records: how much the trained model uses who and what (a gain near 0: not at
    all). Neural explainers only; reads the run, trains nothing.

    Example: explainbench probe identity ~/.cache/explainbench/runs/synthetic/split-1/peter/80cce3ab8d1c
    """
    from rich.console import Console
    from rich.table import Table

    from explainbench.api.results import atomic_write_json
    from explainbench.probe.identity import CONDITIONS, identity_probe

    with cli_errors():
        spec, explainer, split = _load_run(run_dir, records, device, "identity")
        result = identity_probe(explainer, split[records], seed=seed, records_name=records)
        result.meta.update(
            {"run": str(run_dir), "model": spec["model"], "data": spec["data"], "split": spec["split"]}
        )
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(output, result.to_dict())

    parts = list(result.losses["true"])
    table = Table(
        title=f"{spec['model']} on {spec['data']} split {spec['split']}: mean objective on "
        f"{result.n} {records} records ({result.dropped} without a trained user or item left out)"
    )
    table.add_column("ids", no_wrap=True)
    for part in parts:
        table.add_column(part, justify="right")
    for condition in CONDITIONS:
        cells = [f"{result.losses[condition][p]:.4f}" for p in parts]
        if condition != "true":
            cells = [f"{c} ({result.gain(condition, p):+.4f})" for c, p in zip(cells, parts, strict=True)]
        table.add_row(condition, *cells)
    Console(soft_wrap=True).print(table)
    typer.echo("(in brackets: shuffled minus true, the gain of the true ids)", err=True)
    if output is not None:
        say_paths([output])


@probe_app.command("latents")
def latents(
    run_dir: Path = typer.Argument(..., help="A finished MVAE run's folder (config.yaml and model/)."),
    records: str = typer.Option(
        "validation", "--records", help="Records whose NLL is compared: validation or test."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:1."),
    output: Path = typer.Option(None, "--output", "-o", help="Also write the result as JSON here."),
) -> None:
    """What an MVAE run's recognition network encodes and whether its prior can predict it: per scale,
    the share of the recognition means' variance explained by the items' (users') means against
    chance, and by the prior means (training and probed records); then the NLL decoding from the
    prior means (the test architecture), from the item's mean code (an oracle prior) and from the
    sentence's own code.
    MVAE and its variants with a recognition network; reads the run, trains nothing.

    Example: explainbench probe latents ~/.cache/explainbench/runs/synthetic/split-1/mvae/0fe8c277e4d4
    """
    from rich.console import Console
    from rich.table import Table

    from explainbench.api.results import atomic_write_json
    from explainbench.probe.latents import latent_probe
    from explainbench.runner.config import ConfigError

    with cli_errors():
        spec, explainer, split = _load_run(run_dir, records, device, "latent")
        try:
            result = latent_probe(explainer, split["train"], split[records], records_name=records)
        except ValueError as err:
            raise ConfigError(f"{run_dir}: {err}") from None
        result.meta.update(
            {"run": str(run_dir), "model": spec["model"], "data": spec["data"], "split": spec["split"]}
        )
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(output, result.to_dict())

    table = Table(
        title=f"{spec['model']} on {spec['data']} split {spec['split']}: recognition means mu_q of "
        f"{result.n_train} training records"
    )
    for col in ("scale", "dim", "sd mu_q", "sd mu_p", "item share (chance)", "user share (chance)",
                "mu_p share train", f"mu_p share {records}"):
        table.add_column(col, justify="right")
    for s in result.scales:
        table.add_row(
            f"s{s.scale}", str(s.dim), f"{s.posterior_sd:.4f}", f"{s.prior_sd:.4f}",
            f"{s.item_share:.3f} ({s.item_chance:.3f})", f"{s.user_share:.3f} ({s.user_chance:.3f})",
            f"{s.prior_share:+.3f}", f"{s.probed_prior_share:+.3f}",
        )
    console = Console(soft_wrap=True)
    console.print(table)
    nll = Table(title=f"reconstruction NLL per sentence on {result.n_probed} {records} records")
    nll.add_column("z")
    nll.add_column("NLL", justify="right")
    for name, value in result.nll.items():
        nll.add_row(name, f"{value:.3f}")
    console.print(nll)
    if output is not None:
        say_paths([output])


def _load_run(run_dir: Path, records: str, device: str, probe: str) -> tuple[dict, Any, Any]:
    """A finished neural run's config, its trained explainer and its split (DatasetDict); every refusal
    is a ConfigError (one line): no config.yaml, not a run's config, bad --records, not neural, another
    dataset version than the run's, no model/."""
    from explainbench.api.registry import get_explainer
    from explainbench.data.load import load_manifest, load_split
    from explainbench.engine.neural import NeuralExplainer
    from explainbench.runner.config import ConfigError, read_yaml
    from explainbench.runner.store import CONFIG_FILE, MODEL_DIR

    config_path = run_dir / CONFIG_FILE
    spec = read_yaml(
        config_path, missing=f"{config_path}: missing; pass a run folder (runs/DATA/split-K/MODEL/ID)"
    )
    if not isinstance(spec, dict) or not {"model", "data", "split"} <= spec.keys():
        raise ConfigError(f"{config_path}: needs model, data and split; is it a run's config.yaml?")
    if records not in ("validation", "test"):
        raise ConfigError(f"--records {records!r}: choose validation or test")
    cls = get_explainer(str(spec["model"]))
    if not issubclass(cls, NeuralExplainer):
        raise ConfigError(
            f"{spec['model']}: not a neural explainer; the {probe} probe reads a trained network"
        )
    manifest = load_manifest(str(spec["data"]))
    trained_on = spec.get("dataset_fingerprint")
    if trained_on and manifest.get("fingerprint") != trained_on:
        raise ConfigError(
            f"{config_path}: the run trained on another version of {spec['data']!r} than the one in "
            "this home (dataset fingerprints differ); set EXPLAINBENCH_HOME to the run's home"
        )
    model_dir = run_dir / MODEL_DIR
    if not model_dir.is_dir():
        raise ConfigError(f"{model_dir}: missing; the run has not finished training")
    explainer = cls.load(model_dir, device=device)
    return spec, explainer, load_split(str(spec["data"]), int(spec["split"]))


def register(app: typer.Typer) -> None:
    app.add_typer(probe_app, name="probe")
