"""NETE settings; the defaults are those of the reference code (lileipisces/NETE, run.py and module.py)."""

from __future__ import annotations

from dataclasses import dataclass

from explainbench.engine.module import NeuralConfig


@dataclass
class NETEConfig(NeuralConfig):
    """Neural template explanation generation (Li, Zhang and Chen, CIKM 2020).

    latent_size: user/item (and sentiment) embedding size of both stages (reference --latent_dim 200);
        the rating MLP is rating_layers sigmoid layers of width 2 * latent_size (4 x 400).
    word_size / hidden_size: word embedding size / GRU state size (reference 200 / 256).
    rating_l2: L2 penalty (rate * sum(w^2) / 2) on every rating-model weight (reference --reg_rate 1e-4).
    dropout: dropout on the inputs of the word and feature GRUs (reference keep probability 0.8).
    sentiment_threshold: predicted ratings >= this are positive at validation/test time; None is the
        midpoint of the dataset's rating range (the reference's (max + min) / 2, 3 on a 1-5 scale).
    Both stages run up to max_epochs (reference 100) and stop at the first epoch whose validation
    loss does not improve (patience 1).
    """

    latent_size: int = 200
    word_size: int = 200
    hidden_size: int = 256
    rating_layers: int = 4
    rating_l2: float = 1e-4
    dropout: float = 0.2
    sentiment_threshold: float | None = None
    init_std: float = 0.1
    init_range: float = 0.1
    # training, as the reference: Adam 1e-4, batch 128, stop at the first validation increase
    optimizer: str = "adam"
    lr: float = 1e-4
    batch_size: int = 128
    max_epochs: int = 100
    patience: int = 1
    patience_rule: str = "consecutive"


def tiny_config() -> NETEConfig:
    """A few-second config for tests (same structure, small sizes)."""
    return NETEConfig(
        latent_size=8, word_size=16, hidden_size=24, rating_layers=1, batch_size=32, max_epochs=2,
        lr=1e-2, eval_batch_size=128,
    )
