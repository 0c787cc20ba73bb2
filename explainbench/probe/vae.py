"""The plain (single-scale, conditional) VAE that the initial-noise probe trains (MVAE paper, section 4.5).

The paper trains "a naive VAE model" on the duplicated data and does not specify it further. This is
the textbook sentence VAE conditioned on the user and item, with no MVAE machinery (no multi-scale
Blocks, no prior network, no TKL): a GRU reads the explanation; q(z | x, u, i) = N(mu, diag(exp(logvar)))
from [h_x; e_u; e_i]; a GRU decoder starts from tanh(W [e_u; e_i; z]) and reconstructs the sentence.
Loss = token-mean NLL + kl_weight * KL(q || N(0, I)) (per sentence, batch mean). Embeddings are
initialised uniformly in [-init_range, init_range], as PETER's init_weights does (0.1), so what is left
of the initial values after training is visible in the two copies of a user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explainbench.data.vocab import Vocab
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig, StepLoss


@dataclass
class PlainVAEConfig(NeuralConfig):
    """Sizes and training of the probe's VAE (CPU-sized defaults; the recipe's `paper` scale is larger)."""

    emb_size: int = 64  # user and item embeddings (the vectors whose copies are compared)
    word_size: int = 64
    hidden_size: int = 128
    latent_size: int = 32
    init_range: float = 0.1
    kl_weight: float = 1.0
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    max_epochs: int = 10
    patience: int = 1000  # no early stopping: every user gets the same number of passes
    log_every: int = 10


class PlainVAE(ExplainerModule):
    """Conditional sentence VAE over (user, item, explanation)."""

    def __init__(self, config: PlainVAEConfig, vocab: Vocab, n_users: int, n_items: int) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        self.user_emb = nn.Embedding(n_users, config.emb_size)
        self.item_emb = nn.Embedding(n_items, config.emb_size)
        self.word_emb = nn.Embedding(vocab.size, config.word_size, padding_idx=vocab.pad_id)
        self.encoder = nn.GRU(config.word_size, config.hidden_size, batch_first=True)
        self.to_posterior = nn.Linear(config.hidden_size + 2 * config.emb_size, 2 * config.latent_size)
        self.to_hidden = nn.Linear(2 * config.emb_size + config.latent_size, config.hidden_size)
        self.decoder = nn.GRU(config.word_size, config.hidden_size, batch_first=True)
        self.out = nn.Linear(config.hidden_size, vocab.size)
        for emb in (self.user_emb, self.item_emb, self.word_emb):
            nn.init.uniform_(emb.weight, -config.init_range, config.init_range)

    def _condition(self, batch: Batch) -> torch.Tensor:
        return torch.cat([self.user_emb(batch.user), self.item_emb(batch.item)], dim=-1)

    def _encode(self, batch: Batch, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        words = batch.text[:, 1:]  # drop <bos>
        lengths = (words != self.vocab.pad_id).sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.word_emb(words), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.encoder(packed)
        mu, logvar = self.to_posterior(torch.cat([h[-1], cond], dim=-1)).chunk(2, dim=-1)
        return mu, logvar

    def _decode(self, cond: torch.Tensor, z: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        h0 = torch.tanh(self.to_hidden(torch.cat([cond, z], dim=-1))).unsqueeze(0)
        out, _ = self.decoder(self.word_emb(inputs), h0)
        return self.out(out)

    def loss(self, batch: Batch) -> StepLoss:
        cond = self._condition(batch)
        mu, logvar = self._encode(batch, cond)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        logits = self._decode(cond, z, batch.text[:, :-1])
        nll = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), batch.text[:, 1:].reshape(-1), ignore_index=self.vocab.pad_id
        )
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)).mean()
        return StepLoss(nll + self.config.kl_weight * kl, {"nll": nll.detach(), "kl": kl.detach()})

    def start_decoding(self, batch: Batch) -> Any:
        cond = self._condition(batch)
        z = torch.zeros(cond.size(0), self.config.latent_size, device=cond.device)  # the prior mean
        return torch.tanh(self.to_hidden(torch.cat([cond, z], dim=-1))).unsqueeze(0)

    def decode_step(self, state: Any, previous: torch.Tensor) -> tuple[torch.Tensor, Any]:
        out, state = self.decoder(self.word_emb(previous).unsqueeze(1), state)
        return self.out(out[:, -1]), state
