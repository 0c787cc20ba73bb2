"""PEPLER's network: GPT-2 reading a prompt, then the explanation (Li, Zhang and Chen, TOIS 2023).

    continuous (pepler):  x = [e_u, e_i, E(<bos>), E(w_1), ..., E(w_T), E(<eos>)]   e_u, e_i: 768-d prompts
    discrete (pepler-d):  x = [E(f_1), ..., E(f_k), E(<bos>), E(w_1), ...]       f: the pair's feature tokens
    L_text = mean over the explanation's tokens (`<bos>` .. `<eos>`) of -log p(t | tokens before it)
    rating (reg.py):      r_hat = e_u . e_i  (mf)   or   MLP([e_u; e_i]) (mlp: 2 sigmoid layers of 400)
    L = text_weight * L_text + rating_weight * MSE(r_hat, r)

E is GPT-2's token embedding (`<bos>`, `<eos>`, `<pad>` added to its vocabulary, as the reference
does); GPT-2's own position embeddings number the prompt and the text together. As in the reference,
the position before `<bos>` (the last prompt vector) predicts `<bos>`. Decoding keeps GPT-2's key/value
cache (transformers' past_key_values), so a step feeds one token.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import torch
from torch import nn

from baselines.pepler.config import PeplerConfig
from baselines.pepler.prompts import PromptTable
from explainbench.data.vocab import Vocab
from explainbench.engine.losses import mean_token_nll
from explainbench.engine.module import Batch, ExplainerModule, StepLoss


class RatingMLP(nn.Module):
    """reg.py's MLP: [e_u; e_i] -> sigmoid(Linear 2d -> h) -> layers x sigmoid(Linear h -> h) -> Linear."""

    def __init__(self, d: int, hidden: int, layers: int, init_range: float) -> None:
        super().__init__()
        self.first = nn.Linear(2 * d, hidden)
        self.hidden = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(layers)])
        self.last = nn.Linear(hidden, 1)
        for layer in [self.first, *self.hidden, self.last]:
            nn.init.uniform_(layer.weight, -init_range, init_range)
            nn.init.zeros_(layer.bias)

    def forward(self, e_u: torch.Tensor, e_i: torch.Tensor) -> torch.Tensor:
        h = torch.sigmoid(self.first(torch.cat([e_u, e_i], dim=-1)))
        for layer in self.hidden:
            h = torch.sigmoid(layer(h))
        return self.last(h).squeeze(-1)


@functools.cache
def _cache_argument(forward: Any) -> str:
    """The name of GPT-2's key/value cache argument: `cache` from transformers 5.2x, `past_key_values`
    before (and deprecated after)."""
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def _cache_of(out: Any) -> Any:
    return out.cache if getattr(out, "cache", None) is not None else out.past_key_values


def positions(mask: torch.Tensor) -> torch.Tensor:
    """GPT-2 positions from an attention mask [B, L]: 0, 1, ... over the attended tokens (pads: 0)."""
    return (mask.cumsum(dim=1) - 1).clamp(min=0)


class PeplerModule(ExplainerModule):
    """See the module docstring. gpt: a GPT2LMHeadModel whose vocabulary holds the three added tokens."""

    def __init__(
        self,
        config: PeplerConfig,
        gpt: Any,
        vocab: Vocab,
        n_users: int,
        n_items: int,
        prompts: PromptTable | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.gpt = gpt
        self.pad_id, self.bos_id = vocab.pad_id, vocab.bos_id
        self.prompts = prompts  # discrete prompts (pepler-d); None: continuous
        d = gpt.config.n_embd
        self.rating_head: nn.Module | None = None
        if prompts is None:
            self.user_embeddings = nn.Embedding(n_users, d)
            self.item_embeddings = nn.Embedding(n_items, d)
            nn.init.uniform_(self.user_embeddings.weight, -config.init_range, config.init_range)
            nn.init.uniform_(self.item_embeddings.weight, -config.init_range, config.init_range)
            if config.rating_reg == "mlp":
                self.rating_head = RatingMLP(d, config.mlp_hidden, config.mlp_layers, config.init_range)

    # -- the stages of main.py: the prompt alone, then prompt and GPT-2 --------------------------------
    def freeze_language_model(self, frozen: bool) -> None:
        for p in self.gpt.parameters():
            p.requires_grad = not frozen

    # -- the prompt ---------------------------------------------------------------------------------
    def prefix(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompt embeddings [B, P, d] and their attention mask [B, P]."""
        if self.prompts is None:
            e = torch.stack([self.user_embeddings(batch.user), self.item_embeddings(batch.item)], dim=1)
            return e, torch.ones(e.shape[:2], dtype=torch.long, device=e.device)
        ids, mask = self.prompts.batch(batch.user, batch.item, self.pad_id)
        return self.gpt.transformer.wte(ids), mask

    def rating(self, batch: Batch) -> torch.Tensor | None:
        if self.prompts is not None or self.config.rating_reg == "none":
            return None
        e_u, e_i = self.user_embeddings(batch.user), self.item_embeddings(batch.item)
        if self.config.rating_reg == "mf":
            return (e_u * e_i).sum(dim=-1)
        assert self.rating_head is not None
        return self.rating_head(e_u, e_i)

    # -- training -----------------------------------------------------------------------------------
    def _parts(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        prefix, prefix_mask = self.prefix(batch)
        text = batch.text  # [B, L]: <bos> w1 .. wT <eos> <pad> ..
        text_mask = (text != self.pad_id).long()
        embeds = torch.cat([prefix, self.gpt.transformer.wte(text)], dim=1)
        mask = torch.cat([prefix_mask, text_mask], dim=1)
        hidden = self.gpt.transformer(inputs_embeds=embeds, attention_mask=mask, position_ids=positions(mask),
                                      use_cache=False).last_hidden_state
        p = prefix.shape[1]
        # the position before each text token predicts it: prefix's last .. the text's second to last
        logits = self.gpt.lm_head(hidden[:, p - 1 : p - 1 + text.shape[1]])
        nll = mean_token_nll(logits.reshape(-1, logits.shape[-1]), text.reshape(-1), self.pad_id)
        predicted = self.rating(batch)
        mse = None if predicted is None else torch.mean((predicted.float() - batch.rating) ** 2)
        return nll, mse

    def loss(self, batch: Batch) -> StepLoss:
        nll, mse = self._parts(batch)
        if mse is None:
            return StepLoss(nll, {"text": nll})
        total = self.config.text_weight * nll + self.config.rating_weight * mse
        return StepLoss(total, {"text": nll, "rating": mse})

    def validation_loss(self, batch: Batch) -> StepLoss:
        """reg.py stops on text + rating loss, unweighted; main.py and discrete.py on the text loss."""
        nll, mse = self._parts(batch)
        if mse is None:
            return StepLoss(nll, {"text": nll})
        return StepLoss(nll + mse, {"text": nll, "rating": mse})

    # -- decoding -----------------------------------------------------------------------------------
    def start_decoding(self, batch: Batch) -> Any:
        prefix, mask = self.prefix(batch)
        out = self.gpt.transformer(inputs_embeds=prefix, attention_mask=mask, position_ids=positions(mask),
                                   use_cache=True)
        return _cache_of(out), mask, mask.sum(dim=1)

    def decode_step(self, state: Any, previous: torch.Tensor) -> tuple[torch.Tensor, Any]:
        past, mask, next_position = state
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        out = self.gpt(
            inputs_embeds=self.gpt.transformer.wte(previous)[:, None],
            attention_mask=mask,
            position_ids=next_position[:, None],
            use_cache=True,
            **{_cache_argument(type(self.gpt).forward): past},
        )
        return out.logits[:, -1], (_cache_of(out), mask, next_position + 1)

    def predict_rating(self, batch: Batch) -> torch.Tensor | None:
        return self.rating(batch)
