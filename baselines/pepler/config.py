"""PEPLER's settings: the defaults are those of lileipisces/PEPLER's main.py, reg.py and discrete.py."""

from __future__ import annotations

from dataclasses import dataclass

from explainbench.engine.module import NeuralConfig

RATING_REGS = ("none", "mf", "mlp")
# `pretrained: tiny-local` builds this GPT-2 from the run's training split (seeded by the run's seed)
# instead of loading one (baselines/pepler/tiny.py): PEPLER's pipeline anywhere, offline; not PEPLER's
# numbers.
TINY_LOCAL = "tiny-local"
TINY_LOCAL_SIZES = {"vocab_size": 2000, "n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": 128}


@dataclass
class PeplerConfig(NeuralConfig):
    """Continuous-prompt PEPLER (main.py): user and item embeddings before GPT-2's input, trained first
    alone (GPT-2 frozen, "Tuning Prompt Only"), then together with GPT-2 ("Tuning both Prompt and LM"),
    each stage to its own early stop, AdamW at lr 0.001, batch 128, explanations of 20 GPT-2 tokens.

    rating_reg: "mf" or "mlp" adds reg.py's rating head on the two prompt embeddings (dot product, or
    an MLP of 2 sigmoid layers of 400) with loss text_weight * NLL + rating_weight * MSE; reg.py trains
    in one stage (prompt_stage false), which the registered pepler-mf and pepler-mlp set.
    """

    # a Hub id or a local folder (save_pretrained) holding the model and tokenizer; or tiny-local: a tiny
    # GPT-2 with random weights built from the training split (baselines/pepler/tiny.py), a pipeline check
    pretrained: str = "gpt2"
    prompt_stage: bool = True  # main.py: a first stage with GPT-2 frozen
    rating_reg: str = "none"  # none | mf | mlp (reg.py's --use_mf / default MLP)
    rating_weight: float = 0.01  # reg.py --rating_reg
    text_weight: float = 1.0  # reg.py --text_reg
    mlp_hidden: int = 400  # reg.py's MLP(emsize, hidden_size=400, num_layers=2)
    mlp_layers: int = 2
    init_range: float = 0.1  # the prompt embeddings: uniform(-0.1, 0.1)
    optimizer: str = "adamw"  # transformers' AdamW (weight decay 0)
    lr: float = 0.001
    batch_size: int = 128
    max_epochs: int = 100
    patience: int = 5
    patience_rule: str = "total"  # --endure_times 5, the counter never reset
    max_words: int = 20  # --words 20: GPT-2 tokens of an explanation kept for training
    gen_max_len: int = 22  # greedy steps: the reference generates as many as the padded test text (<= 22)
    eval_batch_size: int = 128
    seed: int = 1111

    def __post_init__(self) -> None:
        if self.rating_reg not in RATING_REGS:
            raise ValueError(f"rating_reg must be one of {', '.join(RATING_REGS)}, not {self.rating_reg!r}")
        if not self.pretrained:
            raise ValueError("pretrained must name a GPT-2 model: a Hub id (gpt2) or a local folder")


@dataclass
class PeplerMFConfig(PeplerConfig):
    """reg.py --use_mf: the rating head r = e_u . e_i, trained with the text in one stage."""

    rating_reg: str = "mf"
    prompt_stage: bool = False


@dataclass
class PeplerMLPConfig(PeplerConfig):
    """reg.py's default: the MLP rating head, trained with the text in one stage."""

    rating_reg: str = "mlp"
    prompt_stage: bool = False


@dataclass
class PeplerDConfig(PeplerConfig):
    """Discrete-prompt PEPLER (discrete.py): the features of the user's and the item's training records
    as words before the explanation; one stage training all of GPT-2 at lr 0.0001."""

    prompt_stage: bool = False
    lr: float = 0.0001
    prompt_words: int = 20  # discrete.py keeps the first --words tokens of the feature prompt
