"""Att2Seq settings; defaults from the reference code (lileipisces/Att2Seq, main.py) and Dong et al. 2017."""

from __future__ import annotations

from dataclasses import dataclass

from explainbench.engine.module import NeuralConfig


@dataclass
class Att2SeqConfig(NeuralConfig):
    """Attribute-to-sequence review generation (Dong et al., EACL 2017).

    attr_size: size of each attribute vector g(a_i) (reference --emsize 64).
    hidden_size: LSTM state size (reference --nhid 512); word_size: word embedding size (reference:
        the decoder's emsize is nhid, 512).
    num_layers / dropout: stacked LSTM layers and the dropout between them (reference 2 / 0.2).
    use_rating: the rating is the third attribute (the paper); the reference code drops it.
    attention: the paper's attention over the attribute vectors; the reference code has none.
        use_rating=False, attention=False gives the reference code's model.
    init_range / word_init_range: uniform init of the attribute side / word side (reference 0.1 / 0.08).
    """

    attr_size: int = 64
    hidden_size: int = 512
    word_size: int = 512
    num_layers: int = 2
    dropout: float = 0.2
    use_rating: bool = True
    attention: bool = True
    init_range: float = 0.1
    word_init_range: float = 0.08
    # training, as the reference: Adam 1e-4, clip 5, batch 50, stop at the 5th non-improving epoch (in total)
    optimizer: str = "adam"
    lr: float = 1e-4
    clip_norm: float | None = 5.0
    batch_size: int = 50
    max_epochs: int = 100
    patience: int = 5
    patience_rule: str = "total"


def tiny_config() -> Att2SeqConfig:
    """A few-second config for tests (same structure, small sizes)."""
    return Att2SeqConfig(
        attr_size=16, hidden_size=64, word_size=32, batch_size=32, max_epochs=2, lr=1e-2,
        eval_batch_size=128,
    )
