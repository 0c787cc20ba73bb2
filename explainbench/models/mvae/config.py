"""MVAE's settings: the paper's sizes and training settings (section 4.4) as defaults, the variants as flags.

Every size the paper states is a field, so that where the text contradicts itself (latent size 12 vs 16,
6 vs 7 reconstruction Blocks) the choice is visible and can be changed; docs/models/mvae.md gives the
paper's words next to each choice. The four ablations are the same network with one flag changed:

    mvae        standard_kl=True  multi_scale=True  recognition=True  latent_objective="tkl"
    mvae-nokl   standard_kl=False                                                       (Table 3)
    mvae-nomlf                    multi_scale=False                                     (Table 3)
    mvae-norn                                       recognition=False                   (section 4.8)
    mvae-mse                                                          latent_objective="mse" (4.8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from explainbench.engine.module import NeuralConfig

LATENT_OBJECTIVES = ("tkl", "mse")

C = TypeVar("C", bound="MVAEConfig")

# Small dimensions with the same structure (3 scales, spectral-norm Blocks, encoder + GPT-2 decoder):
# 2 * d_model = 96 = 3 x 32 prior embeddings; 96 -> 48 -> 24 (2 BlockRd) -> latents 12, 6, 3 (3 BlockRs).
TINY: dict[str, Any] = {
    "d_model": 48,
    "n_head": 2,
    "n_encoder_layers": 1,
    "n_decoder_layers": 1,
    "ffn_dim": 96,
    "n_down": 2,
    "n_scale": 3,
    "batch_size": 32,
    "eval_batch_size": 64,
    "warmup_steps": 20,
    "lr": 1e-3,
    "max_epochs": 3,
    "anneal_a0": 50,
    "dropout": 0.1,
}


@dataclass
class MVAEConfig(NeuralConfig):
    """MVAE (paper sections 3 and 4.4). Defaults are the paper's values where it states one."""

    # --- training settings, section 4.4 ---
    optimizer: str = "adamw"  # "We use AdamW optimization"
    lr: float = 1e-4  # not stated in the paper
    weight_decay: float = 0.01  # not stated; torch's AdamW default
    batch_size: int = 128  # not stated; PETER's
    warmup_steps: int = 5000  # "The learning rate warm-up step count is set to 5,000"
    lr_decay: float = 0.8  # "we decrease the learning rate by a factor of 0.8"
    stall_threshold: float = 0.02  # "if the decrease ratio of the validation loss is larger than 0.98"
    clip_norm: float | None = 5.0  # "gradient clipping is applied with 5.0"
    gen_max_len: int = 20  # "We set the longest generation length to 20"
    dropout: float = 0.3  # "The dropout rate used in the encoder ... and decoder network is set to 0.3"

    # --- Transformer encoder (recognition, eq. 2) and GPT-2 decoder (eq. 8) ---
    d_model: int = 768  # d_v: "hidden sizes of the Transformer encoder and decoder layers to 768"
    n_head: int = 12  # not stated; GPT-2's
    n_encoder_layers: int = 2  # "each consist of two layers"
    n_decoder_layers: int = 2
    ffn_dim: int | None = None  # None: 4 * d_model (GPT-2's inner size)

    # --- multi-scale latent hierarchy, eqs. 3, 4, 8 ---
    n_down: int = 4  # n_rd = n_pd: "The nrd is set to 4"
    n_scale: int = 3  # n_rs = n_ps: "and nrs is set to 3"
    block_hidden: int | None = None  # d2 inside a Block's T; None: the Block's output size

    # --- TKL (eq. 6), MLF (eq. 7), annealing (eq. 11) ---
    beta: float = 0.001  # "The beta used in our TKL is set to 0.001"
    anneal_k: float = 0.0025  # "The weight k = 0.0025 is selected without any tuning"
    anneal_a0: int = 5000  # half the steps to converge without the beta term (docs/models/mvae.md)
    sentiment_threshold: float = 3.0  # "a rating greater than or equal to 3 to positive sentiment"
    # target tracking: in KL(q_r || q_p) of eq. 6 the recognition distribution is the prior's target,
    # so that term's gradient reaches the prior network only (its value is unchanged); the recognition
    # network is regularised by the beta term. False: the gradient reaches both networks.
    track_target: bool = True
    recognition_logvar_init: float = -6.0  # initial log-variance of q_theta (not stated; see the card)
    # std of a normal init of E_u, E_i, E_r (not stated); None = torch's N(0, 1), under which a user or
    # item seen a few times hardly moves its embedding (docs/models/mvae.md, "Identity"; 0.02 = GPT-2's)
    prior_embedding_std: float | None = None

    # --- variants (section 4.3 and 4.8) ---
    standard_kl: bool = True  # False: mvae-nokl, no beta KL(q_r || N(0, I)) term
    multi_scale: bool = True  # False: mvae-nomlf, only the smallest scale's distribution
    recognition: bool = True  # False: mvae-norn, trained in the test architecture
    latent_objective: str = "tkl"  # "mse": mvae-mse, z = mu_r in training and MSE(mu_r, mu_p)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def input_dim(self) -> int:
        """1536 in the paper: [O1, O2] = 2 d_model, and [E_u, E_i, E_r] = 3 x embedding_dim."""
        return 2 * self.d_model

    @property
    def embedding_dim(self) -> int:
        """Size of each of E_u, E_i, E_r (512 in the paper: 3 x 512 = 1536)."""
        return self.input_dim // 3

    @property
    def latent_dims(self) -> list[int]:
        """d_zj for j = n_down+1 .. n_down+n_scale, finest first (paper: 48, 24, 12)."""
        top = self.input_dim // 2**self.n_down
        return [top // 2**s for s in range(1, self.n_scale + 1)]

    def validate(self) -> None:
        """Refuse sizes that cannot build the network, naming the field to change."""
        if self.latent_objective not in LATENT_OBJECTIVES:
            raise ValueError(
                f"latent_objective must be one of {LATENT_OBJECTIVES}, got {self.latent_objective!r}"
            )
        if self.latent_objective == "mse" and not self.recognition:
            raise ValueError("latent_objective='mse' needs the recognition network (recognition=True)")
        if self.n_down < 0 or self.n_scale < 1:
            raise ValueError(f"need n_down >= 0 and n_scale >= 1, got {self.n_down}, {self.n_scale}")
        if self.input_dim % 3:
            raise ValueError(
                f"2 * d_model = {self.input_dim} must split into three equal embeddings E_u, E_i, E_r; "
                "choose d_model divisible by 3 (paper: 768)"
            )
        if self.input_dim % 2 ** (self.n_down + self.n_scale):
            raise ValueError(
                f"2 * d_model = {self.input_dim} must halve {self.n_down + self.n_scale} times evenly; "
                "change d_model, n_down or n_scale"
            )
        if self.d_model % self.n_head:
            raise ValueError(f"d_model {self.d_model} must be divisible by n_head {self.n_head}")
        if self.prior_embedding_std is not None and not self.prior_embedding_std > 0:
            raise ValueError(
                "prior_embedding_std must be positive or null (torch's N(0, 1)), "
                f"got {self.prior_embedding_std}"
            )

    @classmethod
    def tiny(cls: type[C]) -> C:
        """A seconds-sized config with the full structure, for tests (keeps the variant's flags)."""
        return cls.from_dict(dict(TINY))  # type: ignore[return-value]


@dataclass
class MVAENoKLConfig(MVAEConfig):
    """MVAE-NoKL (Table 3): "The second KL divergence regularization in TKL is removed"."""

    standard_kl: bool = False


@dataclass
class MVAENoMLFConfig(MVAEConfig):
    """MVAE-NoMLF (Table 3): "distributions of all scales of MLF are removed except for the smallest one"."""

    multi_scale: bool = False


@dataclass
class MVAENoRNConfig(MVAEConfig):
    """MVAE-NoRN (section 4.8): "we train our model with the testing phase architecture"."""

    recognition: bool = False


@dataclass
class MVAEMSEConfig(MVAEConfig):
    """Section 4.8's second variant (named "MVAE-NoKL" there too): z = mu_r, MSE(mu_r, mu_p) replaces TKL."""

    latent_objective: str = "mse"
