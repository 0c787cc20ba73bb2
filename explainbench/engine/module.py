"""What the shared engine asks of a neural model, and the training settings every reference uses.

The engine (trainer.py, decoding.py, neural.py) owns batching, optimisation, schedules, checkpoints,
early stopping and greedy decoding. A model owns only its equations: a loss on a Batch, and one
decoding step. That keeps one training loop and one decoding routine for every neural explainer.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from explainbench.api.explainer import ExplainerConfig
from explainbench.data.vocab import Vocab as Vocab  # re-export: plugins written against engine.module


@dataclass
class Batch:
    """A padded mini-batch of encoded records (all tensors on one device).

    text holds `<bos> w1 .. wT <eos>` then `<pad>`, shape [B, L] with L = max_words + 2 at most.
    feature is the vocabulary id of the record's feature word (`<unk>` where the record has none).
    sentiment is 1 for positive (rating >= 3 where the source has no label) and 0 for negative.
    """

    user: torch.Tensor  # long [B], dense user index (0..n_users-1)
    item: torch.Tensor  # long [B], dense item index
    rating: torch.Tensor  # float [B]
    sentiment: torch.Tensor  # long [B]
    feature: torch.Tensor  # long [B]
    text: torch.Tensor  # long [B, L]

    def to(self, device: torch.device | str, *, non_blocking: bool = False) -> Batch:
        """The batch on device. non_blocking: a CPU batch bound for a GPU is pinned and copied
        asynchronously, so the host queues the step instead of waiting for the copy."""
        device = torch.device(device)
        if non_blocking and device.type == "cuda":
            return Batch(
                **{
                    k: (v.pin_memory() if v.device.type == "cpu" else v).to(device, non_blocking=True)
                    for k, v in self.__dict__.items()
                }
            )
        return Batch(**{k: v.to(device) for k, v in self.__dict__.items()})

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def rows(self, start: int, stop: int) -> Batch:
        """Rows start..stop-1 (a rank's share of a global batch under data-parallel training)."""
        return Batch(**{k: v[start:stop] for k, v in self.__dict__.items()})


@dataclass
class StepLoss:
    """The objective to back-propagate and its named parts (logged per step to train_log.jsonl)."""

    total: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


class ExplainerModule(nn.Module):
    """A neural explainer's network. Implement loss(), start_decoding() and decode_step().

    Decoding contract (batched greedy, shared by every model, see engine/decoding.py):
      state = start_decoding(batch)          # encode user/item/rating/feature; may use batch.rating
      logits, state = decode_step(state, previous_tokens)   # previous_tokens: long [B]; logits [B, V]
    The first previous_tokens are `<bos>`. A Transformer keeps its key/value cache in state so a step
    never recomputes the prefix.
    """

    global_step: int = 0  # set by the trainer before every training step
    # the same step on the schedule's clock (NeuralConfig.schedule_epoch_steps; = global_step without one):
    # annealing schedules read this one
    schedule_step: float = 0.0

    def set_step(self, step: int, schedule_step: float | None = None) -> None:
        self.global_step = step
        self.schedule_step = float(step) if schedule_step is None else schedule_step

    @abstractmethod
    def loss(self, batch: Batch) -> StepLoss:
        """Training objective on a batch (teacher forcing)."""

    def validation_loss(self, batch: Batch) -> StepLoss:
        """Validation objective, called under torch.no_grad() in eval mode. Default: loss()."""
        return self.loss(batch)

    @abstractmethod
    def start_decoding(self, batch: Batch) -> Any:
        """Encode the request part of the batch; return the decoding state."""

    @abstractmethod
    def decode_step(self, state: Any, previous: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Next-token logits [B, V] given the previous token ids [B]; returns the new state."""

    def predict_rating(self, batch: Batch) -> torch.Tensor | None:
        """Predicted ratings [B] where the model has a rating head; None otherwise."""
        return None

    def predict_feature(self, batch: Batch) -> torch.Tensor | None:
        """Predicted feature word ids [B] (vocabulary ids) where the model makes one; None otherwise."""
        return None


@dataclass
class NeuralConfig(ExplainerConfig):
    """Training settings shared by every neural explainer; each model overrides the defaults.

    Early-stopping and decay follow the references: a "stall" is an epoch whose validation loss
    does not beat best * (1 - stall_threshold). At each stall the learning rate is multiplied by
    lr_decay (PETER 0.25, MVAE 0.8 with threshold 0.02; 1.0 = no decay). Training ends when the
    number of stalls reaches patience, counted in total (patience_rule="total", as PETER, NRT and
    Att2Seq do: the counter is never reset) or in a row ("consecutive").
    """

    optimizer: str = "adam"  # sgd | adam | adamw
    lr: float = 1e-4
    weight_decay: float = 0.0
    batch_size: int = 128
    max_epochs: int = 100
    patience: int = 5
    patience_rule: str = "total"  # total | consecutive
    lr_decay: float = 1.0
    stall_threshold: float = 0.0
    warmup_steps: int = 0
    # None: step counts of the schedule (warmup_steps; a model's own, e.g. MVAE's anneal_a0 and anneal_k)
    # are this dataset's optimiser steps. N: they are counted in epochs of N steps (a paper's dataset), and
    # the trainer advances the schedule by N steps per epoch here (trainer.py, "The schedule's clock")
    schedule_epoch_steps: int | None = None
    clip_norm: float | None = None
    max_words: int = 15  # explanation length in words, as in the references
    gen_max_len: int = 15  # greedy decoding steps
    eval_batch_size: int = 256
    max_steps_per_epoch: int | None = None  # CPU-sized recipes may cap an epoch
    log_every: int = 50  # every k training steps: read the loss sums from the device, check them, log a line
    precision: Literal["fp32", "bf16", "auto"] = "fp32"  # engine/precision.py; the runner resolves auto
    device: str = ""  # "" = the context's device (CLI --device, default auto); else auto | cpu | cuda[:N]
