"""NRT's network: a rating MLP on user/item embeddings and a GRU tip generator (Li et al., SIGIR 2017).

As in the reference code (lileipisces/NRT, module.py):
  r_hat = w^T s(W_L ... s(W_1 [e_u; e_i]))               (sigmoid MLP, first layer + rating_layers)
  h_0   = tanh(W_e [e_u; e_i; onehot(class(clamp(r_hat)))])   (the GRU's initial state)
  h_t   = GRU(e_{w_{t-1}}, h_{t-1}),   p(w_t) = softmax(W_o h_t)
  loss  = text_weight * NLL(words, <pad> ignored) + rating_weight * MSE(r_hat, r)
The one-hot is built from the model's own predicted rating (no gradient flows through it), in
training and in generation alike; the request's rating is not read.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.nrt.config import NRTConfig
from explainbench.data.vocab import Vocab
from explainbench.engine.losses import mean_token_nll
from explainbench.engine.module import Batch, ExplainerModule, StepLoss


def rating_one_hot(rating: torch.Tensor, low: int, high: int, rule: str) -> torch.Tensor:
    """One-hot [B, high-low+1] of the rating clamped to [low, high], then truncated or rounded."""
    clamped = rating.detach().clamp(min=low, max=high)
    classes = clamped.round() if rule == "round" else clamped.trunc()
    return F.one_hot(classes.long() - low, num_classes=high - low + 1).to(rating.dtype)


class NRTModule(ExplainerModule):
    """Rating regression + GRU generation sharing the user and item embeddings."""

    def __init__(
        self, config: NRTConfig, vocab: Vocab, n_users: int, n_items: int, rating_range: tuple[float, float]
    ) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        self.rating_low = int(rating_range[0])
        self.rating_high = int(rating_range[1])
        n_classes = self.rating_high - self.rating_low + 1
        emb, hid = config.emb_size, config.hidden_size
        self.user_embeddings = nn.Embedding(n_users, emb)
        self.item_embeddings = nn.Embedding(n_items, emb)
        layers: list[nn.Module] = [nn.Linear(2 * emb, hid), nn.Sigmoid()]
        for _ in range(config.rating_layers):
            layers += [nn.Linear(hid, hid), nn.Sigmoid()]
        layers.append(nn.Linear(hid, 1))
        self.rating_mlp = nn.Sequential(*layers)
        self.state_encoder = nn.Linear(2 * emb + n_classes, hid)
        self.word_embeddings = nn.Embedding(vocab.size, emb)
        self.gru = nn.GRU(emb, hid, batch_first=True)
        self.output = nn.Linear(hid, vocab.size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-r, r) weights and zero biases, except the GRU (torch default), as the reference."""
        r = self.config.init_range
        for emb in (self.user_embeddings, self.item_embeddings, self.word_embeddings):
            nn.init.uniform_(emb.weight, -r, r)
        linears = [m for m in self.rating_mlp if isinstance(m, nn.Linear)]
        for layer in [*linears, self.state_encoder, self.output]:
            nn.init.uniform_(layer.weight, -r, r)
            nn.init.zeros_(layer.bias)

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted rating [B] and the GRU's initial state [1, B, H]."""
        ui = torch.cat([self.user_embeddings(batch.user), self.item_embeddings(batch.item)], dim=1)
        rating = self.rating_mlp(ui).squeeze(1)
        one_hot = rating_one_hot(rating, self.rating_low, self.rating_high, self.config.rating_class)
        h0 = torch.tanh(self.state_encoder(torch.cat([ui, one_hot], dim=1)))
        return rating, h0.unsqueeze(0)

    def loss(self, batch: Batch) -> StepLoss:
        rating, h0 = self.encode(batch)
        inputs, targets = batch.text[:, :-1], batch.text[:, 1:]
        hidden, _ = self.gru(self.word_embeddings(inputs), h0)
        logits = self.output(hidden)
        text = mean_token_nll(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), self.vocab.pad_id)
        mse = F.mse_loss(rating, batch.rating)
        total = self.config.text_weight * text + self.config.rating_weight * mse
        return StepLoss(total=total, parts={"text": text.detach(), "rating": mse.detach()})

    def start_decoding(self, batch: Batch) -> torch.Tensor:
        return self.encode(batch)[1]

    def decode_step(self, state: torch.Tensor, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, state = self.gru(self.word_embeddings(previous).unsqueeze(1), state)
        return self.output(hidden[:, 0]), state

    def predict_rating(self, batch: Batch) -> torch.Tensor:
        ui = torch.cat([self.user_embeddings(batch.user), self.item_embeddings(batch.item)], dim=1)
        return self.rating_mlp(ui).squeeze(1)
