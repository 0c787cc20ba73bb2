"""`explainbench score REFS.txt HYPS.txt`: every metric of two line-aligned text files (sacreBLEU-style)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from explainbench.cli.errors import fail
from explainbench.cli.options import BERTSCORE, METEOR, N_BOOT

console = Console()


class Format(str, Enum):
    rich = "rich"
    json = "json"


class Family(str, Enum):
    ref = "ref"
    std = "std"
    explain = "explain"
    all = "all"


# --family -> the registry's families (None: every family)
FAMILY_NAMES: dict[Family, tuple[str, ...] | None] = {
    Family.ref: ("reference",),
    Family.std: ("standard",),
    Family.explain: ("explain",),
    Family.all: None,
}


def score(
    refs: Path = typer.Argument(..., help="References, one space-tokenised explanation a line."),
    hyps: Path = typer.Argument(..., help="Hypotheses, line-aligned with REFS."),
    features: Path | None = typer.Option(None, "--features", help="Ground-truth feature per line (FMR)."),
    feature_set_file: Path | None = typer.Option(
        None,
        "--feature-set",
        help="The dataset's features, one a line (FCR denominator); default: --features' values.",
    ),
    fmt: Format = typer.Option(Format.rich, "--format", help="rich table or a flat JSON object."),
    family: Family = typer.Option(
        Family.all,
        "--family",
        help="ref: the reference code's BLEU/ROUGE/USR/FMR/FCR/DIV only; std: sacreBLEU, rouge-score, "
        "METEOR, distinct-n only; explain: feature precision/recall, sentiment alignment, repetition "
        "only; all: every family. A family left out is not computed at all.",
    ),
    n_boot: int = N_BOOT,
    seed: int = typer.Option(0, "--seed", min=0, help="Bootstrap seed."),
    meteor: bool = METEOR,
    bertscore: str | None = BERTSCORE,
) -> None:
    """Score HYPS against REFS with both metric families (or one, --family); print each value with its
    signature.

    Example: explainbench score refs.txt hyps.txt --features feats.txt --family ref --format json
    """
    from explainbench.metrics import METRICS, MetricsError, score_samples
    from explainbench.metrics.external import read_lines, samples_from_text

    try:
        samples = samples_from_text(refs, hyps, features)
        fset: set[str] | None = None
        if feature_set_file is not None:
            fset = {line.strip() for line in read_lines(feature_set_file, "feature-set") if line.strip()}
            if not fset:
                raise MetricsError(f"{feature_set_file}: empty feature set; give one feature a line")
        elif features is not None:
            fset = {s.feature for s in samples if s.feature} or None
        report = score_samples(
            samples,
            feature_set=fset,
            n_boot=n_boot,
            seed=seed,
            meteor=meteor,
            per_count=False,
            families=FAMILY_NAMES[family],
            bertscore=bertscore,
        )
    except MetricsError as exc:
        fail(str(exc))
    if fmt is Format.json:
        flat: dict = {name: mv.value for name, mv in report.metrics.items()}
        flat["signatures"] = {
            name: report.signatures.get(name, METRICS[name].signature) for name in report.metrics
        }
        if report.unavailable:
            flat["unavailable"] = report.unavailable
        print(json.dumps(flat, indent=2))
        return
    table = Table(title=f"{len(samples)} pairs, 95% bootstrap CI ({n_boot} resamples, seed {seed})")
    for col in ("metric", "family", "value", "95% CI", "signature"):
        table.add_column(col, overflow="fold")
    for name, mv in report.metrics.items():
        ci = "" if mv.ci_low is None else f"[{mv.ci_low:.4f}, {mv.ci_high:.4f}]"
        signature = report.signatures.get(name, METRICS[name].signature)
        table.add_row(name, METRICS[name].family, f"{mv.value:.4f}", ci, signature)
    console.print(table)
    for name, why in report.unavailable.items():
        console.print(f"[yellow]{name}: {escape(why)}[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("score")(score)
