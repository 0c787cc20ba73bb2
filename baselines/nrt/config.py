"""NRT settings; the defaults are those of the reference code (lileipisces/NRT, main.py)."""

from __future__ import annotations

from dataclasses import dataclass

from explainbench.engine.module import NeuralConfig

RATING_CLASS_RULES = ("truncate", "round")


@dataclass
class NRTConfig(NeuralConfig):
    """Neural Rating regression with abstractive Tips generation (Li et al., SIGIR 2017).

    emb_size: user, item and word embedding size (reference --emsize 300).
    hidden_size: rating-MLP width and GRU state size (reference --nhid 400).
    rating_layers: hidden 400x400 sigmoid layers after the first 600x400 layer (reference --nlayers 4).
    rating_weight / text_weight: loss = text_weight * NLL + rating_weight * MSE (reference 1.0 / 1.0).
    rating_class: how the clamped predicted rating becomes a one-hot class. "truncate" is the
        reference's integer cast (4.7 -> 4); "round" rounds to the nearest class (4.7 -> 5).
    init_range: uniform(-r, r) initialisation of embeddings and linear layers (reference 0.1).
    """

    emb_size: int = 300
    hidden_size: int = 400
    rating_layers: int = 4
    rating_weight: float = 1.0
    text_weight: float = 1.0
    rating_class: str = "truncate"
    init_range: float = 0.1
    # training, as the reference: Adam 1e-4, batch 200, stop at the 5th non-improving epoch (in total)
    optimizer: str = "adam"
    lr: float = 1e-4
    batch_size: int = 200
    max_epochs: int = 100
    patience: int = 5
    patience_rule: str = "total"

    def __post_init__(self) -> None:
        if self.rating_class not in RATING_CLASS_RULES:
            raise ValueError(
                f"NRT rating_class must be one of {RATING_CLASS_RULES}, got {self.rating_class!r}"
            )


def tiny_config() -> NRTConfig:
    """A few-second config for tests (same structure, small sizes)."""
    return NRTConfig(
        emb_size=16, hidden_size=24, rating_layers=1, batch_size=32, max_epochs=2, lr=1e-2,
        eval_batch_size=128,
    )
