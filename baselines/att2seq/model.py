"""Att2Seq's network (Dong et al., EACL 2017, section 3), on the reference code's sizes.

  g(a_i) = W^a_i e(a_i)                       attribute vectors: user, item, rating class
  [h^1_0 .. h^L_0] = tanh(H [g(a_1); ..; g(a_k)] + b)     split over the L layers; c_0 = 0
  h^L_t = LSTM_L(.. LSTM_1(e_{w_{t-1}}) ..)   (dropout between layers)
  s^i_t = softmax_i( tanh(W_s [h^L_t; g(a_i)]) )          attention over the k attributes
  c_t = sum_i s^i_t g(a_i),   h^att_t = tanh(W_1 c_t + W_2 h^L_t),   p(w_t) = softmax(W_y h^att_t)
Without attention p(w_t) = softmax(W_y h^L_t) (the reference code's model).
The rating attribute is the record's rating in training and the request's rating when explaining,
clamped to the dataset's range and rounded to the nearest class.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines.att2seq.config import Att2SeqConfig
from explainbench.data.vocab import Vocab
from explainbench.engine.losses import mean_token_nll
from explainbench.engine.module import Batch, ExplainerModule, StepLoss


@dataclass
class Att2SeqState:
    """Decoding state: the LSTM's (h, c) [L, B, H] and the attribute vectors [B, k, A]."""

    h: torch.Tensor
    c: torch.Tensor
    attributes: torch.Tensor


def rating_class(rating: torch.Tensor, low: int, high: int) -> torch.Tensor:
    """Class index of each rating: clamp to [low, high], round to nearest, shift to 0."""
    return rating.clamp(min=low, max=high).round().long() - low


class Att2SeqModule(ExplainerModule):
    """Attribute encoder, stacked LSTM decoder and attention over the attribute vectors."""

    def __init__(
        self,
        config: Att2SeqConfig,
        vocab: Vocab,
        n_users: int,
        n_items: int,
        rating_range: tuple[float, float],
    ) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        self.rating_low = int(rating_range[0])
        self.rating_high = int(rating_range[1])
        a, h = config.attr_size, config.hidden_size
        self.user_embeddings = nn.Embedding(n_users, a)
        self.item_embeddings = nn.Embedding(n_items, a)
        n_attributes = 2
        self.rating_embeddings: nn.Embedding | None = None
        if config.use_rating:
            self.rating_embeddings = nn.Embedding(self.rating_high - self.rating_low + 1, a)
            n_attributes = 3
        self.encoder = nn.Linear(n_attributes * a, h * config.num_layers)
        self.word_embeddings = nn.Embedding(vocab.size, config.word_size)
        self.lstm = nn.LSTM(
            config.word_size, h, config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0, batch_first=True,
        )
        if config.attention:
            # W_s [h; g] written as W_s^h h + W_s^g g (the same linear map on the concatenation)
            self.score_hidden = nn.Linear(h, 1, bias=False)
            self.score_attribute = nn.Linear(a, 1, bias=False)
            self.context_proj = nn.Linear(a, h, bias=False)  # W_1
            self.hidden_proj = nn.Linear(h, h)  # W_2 (and the bias)
        self.output = nn.Linear(h, vocab.size)  # W_y
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Attribute side uniform(+-0.1), word side uniform(+-0.08), zero biases; LSTM torch default."""
        r, rw = self.config.init_range, self.config.word_init_range
        for emb in (self.user_embeddings, self.item_embeddings, self.rating_embeddings):
            if emb is not None:
                nn.init.uniform_(emb.weight, -r, r)
        nn.init.uniform_(self.encoder.weight, -r, r)
        nn.init.zeros_(self.encoder.bias)
        nn.init.uniform_(self.word_embeddings.weight, -rw, rw)
        nn.init.uniform_(self.output.weight, -rw, rw)
        nn.init.zeros_(self.output.bias)
        if self.config.attention:
            for layer in (self.score_hidden, self.score_attribute, self.context_proj, self.hidden_proj):
                nn.init.uniform_(layer.weight, -rw, rw)
            nn.init.zeros_(self.hidden_proj.bias)

    def attributes(self, batch: Batch) -> torch.Tensor:
        """The attribute vectors g(a_i), stacked [B, k, A]."""
        vectors = [self.user_embeddings(batch.user), self.item_embeddings(batch.item)]
        if self.rating_embeddings is not None:
            classes = rating_class(batch.rating, self.rating_low, self.rating_high)
            vectors.append(self.rating_embeddings(classes))
        return torch.stack(vectors, dim=1)

    def initial_state(self, attributes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(h_0, c_0) [L, B, H] from the concatenated attribute vectors."""
        batch_size = attributes.shape[0]
        encoded = torch.tanh(self.encoder(attributes.reshape(batch_size, -1)))
        h0 = encoded.reshape(batch_size, self.config.num_layers, self.config.hidden_size)
        h0 = h0.transpose(0, 1).contiguous()
        return h0, torch.zeros_like(h0)

    def attention_weights(self, top: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
        """s_t^i [B, T, k] for top-layer states [B, T, H] and attribute vectors [B, k, A]."""
        scores = self.score_hidden(top) + self.score_attribute(attributes).transpose(1, 2)  # [B,T,1]+[B,1,k]
        return torch.softmax(torch.tanh(scores), dim=-1)

    def project(self, top: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits [B, T, V] from the top-layer states [B, T, H]."""
        if not self.config.attention:
            return self.output(top)
        context = self.attention_weights(top, attributes) @ attributes  # [B, T, A]
        return self.output(torch.tanh(self.context_proj(context) + self.hidden_proj(top)))

    def loss(self, batch: Batch) -> StepLoss:
        attributes = self.attributes(batch)
        top, _ = self.lstm(self.word_embeddings(batch.text[:, :-1]), self.initial_state(attributes))
        logits = self.project(top, attributes)
        targets = batch.text[:, 1:].reshape(-1)
        text = mean_token_nll(logits.reshape(-1, logits.shape[-1]), targets, self.vocab.pad_id)
        return StepLoss(total=text, parts={"text": text.detach()})

    def start_decoding(self, batch: Batch) -> Att2SeqState:
        attributes = self.attributes(batch)
        h, c = self.initial_state(attributes)
        return Att2SeqState(h=h, c=c, attributes=attributes)

    def decode_step(self, state: Att2SeqState, previous: torch.Tensor) -> tuple[torch.Tensor, Att2SeqState]:
        top, (h, c) = self.lstm(self.word_embeddings(previous).unsqueeze(1), (state.h, state.c))
        logits = self.project(top, state.attributes)[:, 0]
        return logits, Att2SeqState(h=h, c=c, attributes=state.attributes)
