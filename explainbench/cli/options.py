"""Options that several commands share, defined once so that their type, default and help agree."""

from __future__ import annotations

import typer

N_BOOT = typer.Option(
    1000, "--n-boot", min=0, metavar="N", help="Bootstrap resamples for the 95% CIs (0: no intervals)."
)
METEOR = typer.Option(True, "--meteor/--no-meteor", help="Compute METEOR (NLTK, needs WordNet).")
BERTSCORE = typer.Option(
    None,
    "--bertscore",
    metavar="MODEL",
    help="Also compute BERTScore F1 with MODEL: a Hub id (roberta-large is bert-score's English default) "
    "or a save_pretrained folder. Off by default (a Transformer over every sentence).",
)
