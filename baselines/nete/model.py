"""NETE's two networks (Li, Zhang and Chen, CIKM 2020), as the reference code (lileipisces/NETE) has them.

Rating model (trained first):  r_hat = w^T s(W_4 .. s(W_1 [p_u; q_i]))  (sigmoid, width 2 * latent),
  loss = MSE + rating_l2 * sum(w^2) / 2 over every rating-model weight (tf.nn.l2_loss).
Text model (trained second, its own user/item embeddings):
  h_0 = tanh(W_0 [u; i; s])   s = embedding of the sentiment: the training template's sentiment in
        training, 1[r_hat >= threshold] (the rating model's prediction) at validation/test time
  GFRU step with word input x_t = e_{w_{t-1}} and feature input f = e_feature (word embeddings shared):
    h^w = GRU_w(x_t, h_{t-1}),  h^f = GRU_f(f, h_{t-1})
    gamma = sigmoid(v^T [tanh(W_w h^w); tanh(W_f h^f)])      (no biases)
    h_t = (1 - gamma) h^w + gamma h^f,   p(w_t) = softmax(W_o h_t + b_o)
  loss = NLL over the non-pad target words.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.nete.config import NETEConfig
from explainbench.data.vocab import Vocab
from explainbench.engine.dropout import Dropout
from explainbench.engine.losses import mean_token_nll
from explainbench.engine.module import Batch, ExplainerModule, StepLoss

STAGES = ("rating", "text")


def _truncated_normal_(weight: torch.Tensor, std: float) -> None:
    """TensorFlow's truncated_normal_initializer(0, std): resample beyond two standard deviations."""
    nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2 * std, b=2 * std)


class GFRU(nn.Module):
    """Gated fusion recurrent unit: a word GRU and a feature GRU on the same state, fused by a gate."""

    def __init__(self, input_size: int, hidden_size: int, fusion_size: int, dropout: float) -> None:
        super().__init__()
        self.word_cell = nn.GRUCell(input_size, hidden_size)
        self.feature_cell = nn.GRUCell(input_size, hidden_size)
        self.word_proj = nn.Linear(hidden_size, fusion_size, bias=False)  # W_w
        self.feature_proj = nn.Linear(hidden_size, fusion_size, bias=False)  # W_f
        self.gate_proj = nn.Linear(2 * fusion_size, 1, bias=False)  # v
        self.dropout = Dropout(dropout)  # on the cells' inputs (TF DropoutWrapper input_keep_prob)

    def gate(self, word_state: torch.Tensor, feature_state: torch.Tensor) -> torch.Tensor:
        """gamma [B, 1] = sigmoid(v^T [tanh(W_w h^w); tanh(W_f h^f)])."""
        word_part = torch.tanh(self.word_proj(word_state))
        feature_part = torch.tanh(self.feature_proj(feature_state))
        return torch.sigmoid(self.gate_proj(torch.cat([word_part, feature_part], dim=1)))

    def forward(self, word: torch.Tensor, feature: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One step: the fused state [B, H] from word input [B, E], feature input [B, E], state [B, H]."""
        word_state = self.word_cell(self.dropout(word), state)
        feature_state = self.feature_cell(self.dropout(feature), state)
        gamma = self.gate(word_state, feature_state)
        return (1.0 - gamma) * word_state + gamma * feature_state


class NETERatingModel(nn.Module):
    """Stage 1: the rating MLP on its own user and item latent factors."""

    def __init__(self, config: NETEConfig, n_users: int, n_items: int) -> None:
        super().__init__()
        latent = config.latent_size
        self.user_embeddings = nn.Embedding(n_users, latent)
        self.item_embeddings = nn.Embedding(n_items, latent)
        layers: list[nn.Module] = []
        width_in = 2 * latent
        for _ in range(config.rating_layers):
            layers += [nn.Linear(width_in, 2 * latent), nn.Sigmoid()]
            width_in = 2 * latent
        layers.append(nn.Linear(width_in, 1))
        self.mlp = nn.Sequential(*layers)
        for emb in (self.user_embeddings, self.item_embeddings):
            nn.init.uniform_(emb.weight, -config.init_range, config.init_range)
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                _truncated_normal_(layer.weight, config.init_std)
                nn.init.zeros_(layer.bias)

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        hidden = torch.cat([self.user_embeddings(user), self.item_embeddings(item)], dim=1)
        return self.mlp(hidden).squeeze(1)

    def l2(self) -> torch.Tensor:
        """sum(w^2) / 2 over every weight of the rating model (tf.nn.l2_loss summed)."""
        return sum(p.pow(2).sum() for p in self.parameters()) / 2


@dataclass
class NETEState:
    """Decoding state: the GFRU state [B, H] and the feature's word embedding [B, E]."""

    hidden: torch.Tensor
    feature: torch.Tensor


class NETEModule(ExplainerModule):
    """Both NETE stages in one module; `stage` says which one loss() trains."""

    def __init__(
        self,
        config: NETEConfig,
        vocab: Vocab,
        n_users: int,
        n_items: int,
        rating_range: tuple[float, float],
    ) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        low, high = rating_range
        self.sentiment_threshold = (
            config.sentiment_threshold if config.sentiment_threshold is not None else (low + high) / 2
        )
        self.stage = "text"
        latent = config.latent_size
        self.rating_model = NETERatingModel(config, n_users, n_items)
        self.user_embeddings = nn.Embedding(n_users, latent)
        self.item_embeddings = nn.Embedding(n_items, latent)
        self.sentiment_embeddings = nn.Embedding(2, latent)  # 0 negative, 1 positive
        self.word_embeddings = nn.Embedding(vocab.size, config.word_size)
        self.init_state = nn.Linear(3 * latent, config.hidden_size)
        self.gfru = GFRU(config.word_size, config.hidden_size, latent, config.dropout)
        self.output = nn.Linear(config.hidden_size, vocab.size)
        self._init_text_model()

    def _init_text_model(self) -> None:
        """Uniform(+-0.1) embeddings, truncated-normal(0.1) dense kernels, orthogonal GRU kernels."""
        c = self.config
        for emb in (
            self.user_embeddings,
            self.item_embeddings,
            self.sentiment_embeddings,
            self.word_embeddings,
        ):
            nn.init.uniform_(emb.weight, -c.init_range, c.init_range)
        g = self.gfru
        for layer in (self.init_state, self.output, g.word_proj, g.feature_proj, g.gate_proj):
            _truncated_normal_(layer.weight, c.init_std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        for cell in (self.gfru.word_cell, self.gfru.feature_cell):
            for weight in (cell.weight_ih, cell.weight_hh):
                for chunk in weight.data.chunk(3, dim=0):  # reset, update, candidate
                    nn.init.orthogonal_(chunk)
            # TF GRUCell: gate biases 1.0, candidate bias 0.0
            nn.init.zeros_(cell.bias_hh)
            nn.init.zeros_(cell.bias_ih)
            cell.bias_ih.data[: 2 * cell.hidden_size] = 1.0

    def set_stage(self, stage: str) -> None:
        if stage not in STAGES:
            raise ValueError(f"NETE stage must be one of {STAGES}, got {stage!r}")
        self.stage = stage

    # ---- stage 1 -------------------------------------------------------------------------------
    def predict_rating(self, batch: Batch) -> torch.Tensor:
        return self.rating_model(batch.user, batch.item)

    def rating_loss(self, batch: Batch) -> StepLoss:
        mse = F.mse_loss(self.rating_model(batch.user, batch.item), batch.rating)
        l2 = self.rating_model.l2()
        total = mse + self.config.rating_l2 * l2
        return StepLoss(total=total, parts={"rating": mse.detach(), "l2": l2.detach()})

    # ---- stage 2 -------------------------------------------------------------------------------
    def sentiment_input(self, batch: Batch) -> torch.Tensor:
        """Training: the template's sentiment. Evaluation: the predicted rating >= threshold."""
        if self.training:
            return batch.sentiment.long()
        with torch.no_grad():
            predicted = self.rating_model(batch.user, batch.item)
        return (predicted >= self.sentiment_threshold).long()

    def start_decoding(self, batch: Batch) -> NETEState:
        encoder_input = torch.cat(
            [
                self.user_embeddings(batch.user),
                self.item_embeddings(batch.item),
                self.sentiment_embeddings(self.sentiment_input(batch)),
            ],
            dim=1,
        )
        hidden = torch.tanh(self.init_state(encoder_input))
        return NETEState(hidden=hidden, feature=self.word_embeddings(batch.feature))

    def decode_step(self, state: NETEState, previous: torch.Tensor) -> tuple[torch.Tensor, NETEState]:
        hidden = self.gfru(self.word_embeddings(previous), state.feature, state.hidden)
        return self.output(hidden), NETEState(hidden=hidden, feature=state.feature)

    def text_loss(self, batch: Batch) -> StepLoss:
        state = self.start_decoding(batch)
        inputs = self.word_embeddings(batch.text[:, :-1])
        hidden, steps = state.hidden, []
        for t in range(inputs.shape[1]):
            hidden = self.gfru(inputs[:, t], state.feature, hidden)
            steps.append(hidden)
        logits = self.output(torch.stack(steps, dim=1))
        targets = batch.text[:, 1:].reshape(-1)
        text = mean_token_nll(logits.reshape(-1, logits.shape[-1]), targets, self.vocab.pad_id)
        return StepLoss(total=text, parts={"text": text.detach()})

    def loss(self, batch: Batch) -> StepLoss:
        return self.rating_loss(batch) if self.stage == "rating" else self.text_loss(batch)
