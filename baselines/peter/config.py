"""PETER settings; the defaults are those of the reference code (lileipisces/PETER, main.py + README)."""

from __future__ import annotations

from dataclasses import dataclass

from explainbench.engine.module import NeuralConfig


@dataclass
class PeterConfig(NeuralConfig):
    """PErsonalized Transformer for Explainable Recommendation (Li, Zhang and Chen, ACL 2021).

    d_model: user, item and word embedding size = Transformer width (reference --emsize 512).
    n_heads / n_layers / d_ffn: 2 heads, 2 layers, feed-forward 2048 (--nhead, --nlayers, --nhid).
    dropout: on embeddings, attention weights, residual branches and the FFN (--dropout 0.2).
    text_weight / context_weight / rating_weight: loss = 1.0 text NLL + 1.0 context NLL + 0.1 rating MSE
        (--text_reg, --context_reg, --rating_reg).
    peter_mask: True = the PETER mask (the user position also sees the item), as the README runs it;
        False = the plain left-to-right mask of the paper's ablation.
    init_range: uniform(-r, r) init of the embeddings, the output projection and the rating MLP (0.1).
    clone_layers: True = every Transformer layer starts from the same initial weights, as the reference's
        TransformerEncoder deep-copies one layer n_layers times; False = each layer drawn on its own.
    The vocabulary size (20,000) belongs to the shared tokenizer, not to this config.
    """

    d_model: int = 512
    n_heads: int = 2
    n_layers: int = 2
    d_ffn: int = 2048
    dropout: float = 0.2
    text_weight: float = 1.0
    context_weight: float = 1.0
    rating_weight: float = 0.1
    peter_mask: bool = True
    init_range: float = 0.1
    clone_layers: bool = True
    # training, as the reference: plain SGD lr 1.0, x0.25 after each non-improving epoch, clip 1.0,
    # batch 128, stop at the 5th non-improving epoch counted in total, at most 100 epochs, seed 1111
    optimizer: str = "sgd"
    lr: float = 1.0
    lr_decay: float = 0.25
    clip_norm: float | None = 1.0
    batch_size: int = 128
    max_epochs: int = 100
    patience: int = 5
    patience_rule: str = "total"
    seed: int = 1111

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads != 0:
            raise ValueError(
                f"PETER d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if self.n_layers < 1:
            raise ValueError(f"PETER n_layers must be >= 1, got {self.n_layers}")

    @classmethod
    def tiny(cls) -> PeterConfig:
        """A seconds-long config for tests: same structure, small sizes (d 32, FFN 64, 1 layer)."""
        return cls(
            d_model=32,
            n_heads=2,
            n_layers=1,
            d_ffn=64,
            dropout=0.1,
            batch_size=32,
            eval_batch_size=64,
            max_epochs=3,
        )
