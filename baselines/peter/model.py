"""PETER's network (Li, Zhang and Chen, ACL 2021), written from the paper and REFERENCE-NOTES section 3.

Input positions: s = [u, i, (f), <bos>, w1, .., wT]  (f only for PETER+, the ground-truth feature).
  x_0   = sqrt(d) * [E_u(u); E_i(i); E_w(f); E_w(<bos>); E_w(w1) ..] + PE,   PE sinusoidal
  H     = L post-norm Transformer layers over x_0 with the PETER mask M
          (M: causal, except that position 0, the user, may also attend to position 1, the item)
  r_hat = w_2^T sigmoid(W_1 h_0 + b_1) + b_2                      (rating, on the user position)
  p_ctx = softmax(W_o h_1 + b_o)                                   (context, on the item position)
  p_t   = softmax(W_o h_{n+t} + b_o)                               (next word, from <bos> on; n = prefix)
  L_text    = -mean over non-pad targets of log p_t(w_{t+1})      (targets w1 .. wT <eos>)
  L_context = -mean over non-pad (b, t) of log p_ctx,b(w_t)        (bag of words: w1 .. w_min(T+1, 15),
              i.e. the target words and, for sentences shorter than 15 words, <eos>, as the reference's
              seq[1:-1] target)
  L = text_weight * L_text + context_weight * L_context + rating_weight * MSE(r_hat, r)
Validation loss (early stopping, decay, best weights) = L_text + MSE, as the reference's main.py.

Decoding: start_decoding runs the prefix [u, i, (f)] once under the PETER mask and keeps each layer's
keys and values; decode_step then computes only the new position against that cache. Text positions
are causal, so the cache gives the same hidden states as recomputing the whole sequence
(`incremental = False` does that, for the benchmark and the equality test).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.peter.config import PeterConfig
from explainbench.data.vocab import Vocab
from explainbench.engine.attention import decode_attention
from explainbench.engine.distributed import token_mean
from explainbench.engine.dropout import Dropout
from explainbench.engine.losses import mean_token_nll
from explainbench.engine.module import Batch, ExplainerModule, StepLoss


def peter_attention_mask(length: int, *, peter: bool = True) -> torch.Tensor:
    """Bool [length, length], True where query row may attend key column: lower triangle, plus (0, 1)."""
    allowed = torch.ones(length, length, dtype=torch.bool).tril()
    if peter and length > 1:
        allowed[0, 1] = True
    return allowed


def sinusoid_table(length: int, d_model: int) -> torch.Tensor:
    """PE[pos, 2k] = sin(pos / 10000^(2k/d)), PE[pos, 2k+1] = cos(pos / 10000^(2k/d))  [length, d]."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)[:, : d_model // 2]
    return table


KVCache = tuple[torch.Tensor, torch.Tensor]  # keys, values: [B, heads, positions, d_head]


class PeterLayer(nn.Module):
    """Post-norm Transformer encoder layer (ReLU FFN), as torch's / the reference's, with a KV cache.

    y = LN(x + Drop(MHA(x)));  out = LN(y + Drop(W_2 Drop(ReLU(W_1 y))))
    """

    def __init__(self, d_model: int, n_heads: int, d_ffn: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.attn_dropout = dropout
        self.in_proj = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.linear1 = nn.Linear(d_model, d_ffn)
        self.linear2 = nn.Linear(d_ffn, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        # nn.MultiheadAttention's initialisation: xavier-uniform input projection, zero biases
        nn.init.xavier_uniform_(self.in_proj.weight)
        nn.init.zeros_(self.in_proj.bias)
        nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, allowed: torch.Tensor | None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, KVCache]:
        """x [B, T, d] are new positions; cache holds earlier ones. allowed [T, T_all] or None (all)."""
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        dropout = self.attn_dropout if self.training else 0.0
        if cache is not None:  # a decoding step: the cache is float32 (engine/attention.py)
            k = torch.cat([cache[0], k.to(cache[0].dtype)], dim=2)
            v = torch.cat([cache[1], v.to(cache[1].dtype)], dim=2)
        if cache is not None and allowed is None and dropout == 0.0:
            attn = decode_attention(q, k, v)
        else:
            attn = F.scaled_dot_product_attention(
                q, k.to(q.dtype), v.to(q.dtype), attn_mask=allowed, dropout_p=dropout
            )
        b, _, t, _ = attn.shape
        attn = attn.transpose(1, 2).reshape(b, t, self.n_heads * self.d_head)
        y = self.norm1(x + self.dropout1(self.out_proj(attn)))
        out = self.norm2(y + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(y))))))
        return out, (k, v)


class RatingMLP(nn.Module):
    """r_hat = w_2^T sigmoid(W_1 h + b_1) + b_2 (the reference's MLP on the user position)."""

    def __init__(self, d_model: int, init_range: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_model)
        self.linear2 = nn.Linear(d_model, 1)
        for lin in (self.linear1, self.linear2):
            nn.init.uniform_(lin.weight, -init_range, init_range)
            nn.init.zeros_(lin.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear2(torch.sigmoid(self.linear1(hidden))).squeeze(-1)


@dataclass
class PeterDecodingState:
    """Incremental: per-layer caches and the next position. Full recomputation: the tokens so far."""

    batch: Batch
    caches: list[KVCache] | None
    position: int
    tokens: torch.Tensor  # long [B, t]: <bos> and the generated words fed so far


class PeterModule(ExplainerModule):
    """PETER: one Transformer over [u, i, (f), text] with rating, context and text heads."""

    def __init__(
        self, config: PeterConfig, vocab: Vocab, n_users: int, n_items: int, use_feature: bool
    ) -> None:
        super().__init__()
        self.config = config
        self.vocab = vocab
        self.use_feature = use_feature
        self.n_prefix = 3 if use_feature else 2  # positions before <bos>
        self.max_words = config.max_words
        self.incremental = True  # decode with the KV cache; False recomputes the whole sequence per step
        d = config.d_model
        self.scale = math.sqrt(d)
        self.user_embeddings = nn.Embedding(n_users, d)
        self.item_embeddings = nn.Embedding(n_items, d)
        self.word_embeddings = nn.Embedding(vocab.size, d)
        if config.clone_layers:  # the reference deep-copies one initialised layer n_layers times
            first = PeterLayer(d, config.n_heads, config.d_ffn, config.dropout)
            self.layers = nn.ModuleList([first, *(copy.deepcopy(first) for _ in range(config.n_layers - 1))])
        else:
            self.layers = nn.ModuleList(
                PeterLayer(d, config.n_heads, config.d_ffn, config.dropout) for _ in range(config.n_layers)
            )
        self.hidden2token = nn.Linear(d, vocab.size)
        self.rating_head = RatingMLP(d, config.init_range)
        self.input_dropout = Dropout(config.dropout)
        max_positions = self.n_prefix + max(config.max_words, config.gen_max_len) + 2
        self.register_buffer("positions", sinusoid_table(max_positions, d), persistent=False)
        # the mask of every length is the top-left corner of the longest one: both built once, on the
        # module's device (no mask built and copied to the device at every forward pass)
        self.register_buffer("peter_allowed", peter_attention_mask(max_positions), persistent=False)
        self.register_buffer(
            "causal_allowed", peter_attention_mask(max_positions, peter=False), persistent=False
        )
        r = config.init_range
        for emb in (self.user_embeddings, self.item_embeddings, self.word_embeddings):
            nn.init.uniform_(emb.weight, -r, r)
        nn.init.uniform_(self.hidden2token.weight, -r, r)
        nn.init.zeros_(self.hidden2token.bias)

    # ------------------------------------------------------------------ shared pieces
    def _prefix(self, batch: Batch) -> torch.Tensor:
        """Embeddings of [u, i, (f)]: [B, n_prefix, d] (unscaled)."""
        parts = [
            self.user_embeddings(batch.user).unsqueeze(1),
            self.item_embeddings(batch.item).unsqueeze(1),
        ]
        if self.use_feature:
            parts.append(self.word_embeddings(batch.feature).unsqueeze(1))
        return torch.cat(parts, dim=1)

    def _input(self, embedded: torch.Tensor, start: int) -> torch.Tensor:
        """sqrt(d) * embedding + PE at positions start.., then dropout (as the reference)."""
        t = embedded.shape[1]
        return self.input_dropout(embedded * self.scale + self.positions[start : start + t])

    def mask(self, length: int) -> torch.Tensor:
        """peter_attention_mask(length, peter=config.peter_mask), sliced from a buffer built once."""
        allowed = self.peter_allowed if self.config.peter_mask else self.causal_allowed
        return allowed[:length, :length]

    def hidden(self, batch: Batch, words: torch.Tensor) -> torch.Tensor:
        """Hidden states [B, n_prefix + T, d] of [u, i, (f), words] under the PETER (or causal) mask.

        `<pad>` keys need no padding mask: a pad only follows `<eos>`, and causal queries never see
        later keys, so every non-pad position's state is unchanged by padding.
        """
        x = torch.cat([self._prefix(batch), self.word_embeddings(words)], dim=1)
        x = self._input(x, 0)
        allowed = self.mask(x.shape[1])
        for layer in self.layers:
            x, _ = layer(x, allowed)
        return x

    # ------------------------------------------------------------------ training
    def _losses(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pad = self.vocab.pad_id
        h = self.hidden(batch, batch.text[:, :-1])
        text_logits = self.hidden2token(h[:, self.n_prefix :])
        targets = batch.text[:, 1:]
        text_loss = mean_token_nll(  # F.cross_entropy's mean, in float32 blocks (engine/losses.py)
            text_logits.reshape(-1, text_logits.shape[-1]), targets.reshape(-1), pad
        )
        # .float(): under CPU autocast log_softmax keeps bf16 logits in bf16 (cross_entropy does not);
        # the context loss and its gradient need fp32 (a no-op in fp32)
        context_logp = F.log_softmax(self.hidden2token(h[:, 1]).float(), dim=-1)
        bag = batch.text[:, 1 : 1 + self.max_words]
        keep = bag != pad
        context_loss = -token_mean((context_logp.gather(1, bag) * keep).sum(), keep.sum())
        rating_loss = F.mse_loss(self.rating_head(h[:, 0]), batch.rating)
        return text_loss, context_loss, rating_loss

    def loss(self, batch: Batch) -> StepLoss:
        text, context, rating = self._losses(batch)
        cfg = self.config
        total = cfg.text_weight * text + cfg.context_weight * context + cfg.rating_weight * rating
        return StepLoss(total=total, parts={"text": text, "context": context, "rating": rating})

    def validation_loss(self, batch: Batch) -> StepLoss:
        """The reference's early-stopping loss: text NLL + rating MSE (text only when rating_weight = 0)."""
        text, context, rating = self._losses(batch)
        total = text + rating if self.config.rating_weight != 0 else text
        return StepLoss(total=total, parts={"text": text, "context": context, "rating": rating})

    # ------------------------------------------------------------------ prediction
    def predict_rating(self, batch: Batch) -> torch.Tensor:
        h = self.hidden(batch, batch.text[:, :0])
        return self.rating_head(h[:, 0])

    def predict_context(self, batch: Batch, k: int) -> torch.Tensor:
        """The k most probable context words [B, k] (the reference prints them beside each generation)."""
        h = self.hidden(batch, batch.text[:, :0])
        return self.hidden2token(h[:, 1]).topk(k, dim=-1).indices

    def start_decoding(self, batch: Batch) -> PeterDecodingState:
        empty = batch.text[:, :0]
        if not self.incremental:
            return PeterDecodingState(batch=batch, caches=None, position=self.n_prefix, tokens=empty)
        x = self._input(self._prefix(batch), 0)
        allowed = self.mask(x.shape[1])
        caches: list[KVCache] = []
        for layer in self.layers:
            x, (keys, values) = layer(x, allowed)
            caches.append((keys.float(), values.float()))
        return PeterDecodingState(batch=batch, caches=caches, position=self.n_prefix, tokens=empty)

    def decode_step(
        self, state: PeterDecodingState, previous: torch.Tensor
    ) -> tuple[torch.Tensor, PeterDecodingState]:
        tokens = torch.cat([state.tokens, previous.unsqueeze(1)], dim=1)
        if state.caches is None:  # full recomputation of [u, i, (f), <bos>, w1 .. w_t]
            h = self.hidden(state.batch, tokens)
            logits = self.hidden2token(h[:, -1])
            return logits, PeterDecodingState(state.batch, None, state.position + 1, tokens)
        x = self._input(self.word_embeddings(previous).unsqueeze(1), state.position)
        caches: list[KVCache] = []
        for layer, cache in zip(self.layers, state.caches, strict=True):
            x, new_cache = layer(x, None, cache)
            caches.append(new_cache)
        logits = self.hidden2token(x[:, -1])
        return logits, PeterDecodingState(state.batch, caches, state.position + 1, tokens)
