"""MVAE's three networks (paper section 3, Fig. 2) and the GPT-2 decoder they feed.

Sizes with the paper's settings (d_model = 768, n_down = 4, n_scale = 3):
    recognition  [O1, O2] 1536 -BlockRd-> 768 -> 384 -> 192 -> 96 -BlockRs-> z 48, 24, 12   (eqs. 2-3)
    prior        [E_u, E_i, E_r] 3 x 512 -BlockPd-> ... 96 -BlockPs-> z 48, 24, 12, state 12 (eq. 4)
    reconstruction  state 12 (+ z 12) -BlockD-> 24 (+ z 24) -> 48 (+ z 48) -> 96 .. 1536 = [T1, T2] (eq. 8)
Scales are listed finest first (index s0 = j = n_down + 1, the first BlockRs) everywhere in this package.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel

from explainbench.data.vocab import Vocab
from explainbench.engine.attention import decode_attention
from explainbench.engine.packed import PackCache, PackedLinear, packing_applies
from explainbench.models.mvae.blocks import Block, ScaleBlock
from explainbench.models.mvae.config import MVAEConfig
from explainbench.models.mvae.tkl import DiagonalGaussian


def _down_sizes(config: MVAEConfig) -> list[int]:
    """Input sizes of the n_down compressing Blocks: 1536, 768, 384, 192 in the paper."""
    return [config.input_dim // 2**i for i in range(config.n_down)]


class _MultiScaleEncoder(nn.Module):
    """n_down compressing Blocks then n_scale ScaleBlocks: the shared shape of eqs. 3 and 4."""

    def __init__(self, config: MVAEConfig, logvar_init: float = 0.0) -> None:
        super().__init__()
        self.down = nn.ModuleList(Block(d, d // 2, config.block_hidden) for d in _down_sizes(config))
        d_top = config.input_dim // 2**config.n_down
        self.scales = nn.ModuleList(
            ScaleBlock(d_top // 2**s, config.block_hidden, logvar_init) for s in range(config.n_scale)
        )

    def forward(self, x: torch.Tensor) -> tuple[list[DiagonalGaussian], torch.Tensor]:
        for block in self.down:
            x = block(x)
        distributions = []
        for block in self.scales:
            mu, logvar, x = block(x)
            distributions.append(DiagonalGaussian(mu, logvar))
        return distributions, x


class RecognitionNetwork(nn.Module):
    """q_theta(z | x) of eqs. 2-3: a Transformer encoder B_b over [C1, C2, v_1..v_n], then BlockRd/BlockRs.

    The word embeddings v_i are the decoder's (shared, section 4.4), so forward takes them already embedded.
    """

    def __init__(self, config: MVAEConfig, max_tokens: int) -> None:
        super().__init__()
        d = config.d_model
        self.special = nn.Parameter(torch.randn(2, d) * 0.02)  # C1, C2
        self.position = nn.Embedding(max_tokens + 2, d)
        # N(0, 0.02) like GPT-2's word and position embeddings (the shared word embedding is GPT-2's).
        # nn.Embedding's N(0, 1) would outweigh the words 50 to 1, and [O1, O2] would hardly depend on
        # the sentence (docs/models/mvae.md, "Diagnosis").
        nn.init.normal_(self.position.weight, 0.0, 0.02)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            d,
            config.n_head,
            config.ffn_dim or 4 * d,
            config.dropout,
            activation="gelu",
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.n_encoder_layers, enable_nested_tensor=False)
        # BlockRd_1..n_rd, BlockRs_{n_rd+1}..{n_rd+n_rs}
        self.blocks = _MultiScaleEncoder(config, logvar_init=config.recognition_logvar_init)

    @property
    def block_rd(self) -> nn.ModuleList:
        return self.blocks.down

    @property
    def block_rs(self) -> nn.ModuleList:
        return self.blocks.scales

    def forward(self, token_embeddings: torch.Tensor, padding_mask: torch.Tensor) -> list[DiagonalGaussian]:
        """token_embeddings [B, n, d] (v_i), padding_mask [B, n] True at <pad>; q_theta_j finest first."""
        batch = token_embeddings.shape[0]
        specials = self.special.unsqueeze(0).expand(batch, -1, -1)
        x = torch.cat([specials, token_embeddings], dim=1)
        x = self.dropout(x + self.position.weight[: x.shape[1]])
        mask = torch.cat([padding_mask.new_zeros(batch, 2), padding_mask], dim=1)
        outputs = self.special_outputs(x, mask)  # O_1, O_2 of B_b(C_1, C_2, v_1..v_n) (eq. 2)
        c_prime_0 = torch.cat([outputs[:, 0], outputs[:, 1]], dim=-1)  # C'_0 = [O_1, O_2]
        recognition, _ = self.blocks(c_prime_0)
        return recognition

    def special_outputs(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """O_1, O_2 [B, 2, d]: the encoder's outputs at C_1, C_2, equal to `self.encoder(x)[:, :2]`.

        Only O_1 and O_2 are read (C'_0 = [O_1, O_2]), so the last layer computes its attention queries,
        residuals, norms and feed-forward at those two positions only; keys and values still come from
        every position. Same equations and parameters, about a third less encoder work per step.
        """
        *inner, last = self.encoder.layers
        for layer in inner:
            x = layer(x, src_key_padding_mask=mask)
        return _encoder_layer_at_first(last, x, mask, 2)


def _encoder_layer_at_first(
    layer: nn.TransformerEncoderLayer, x: torch.Tensor, padding_mask: torch.Tensor, n: int
) -> torch.Tensor:
    """A post-norm nn.TransformerEncoderLayer's output at the first n positions of x [B, T, d]:
    the layer's own _sa_block/_ff_block equations with queries x[:, :n] and keys/values x."""
    if layer.norm_first:
        raise ValueError("expected a post-norm encoder layer (norm_first=False)")
    query = x[:, :n]
    attended = layer.self_attn(query, x, x, key_padding_mask=padding_mask, need_weights=False)[0]
    h = layer.norm1(query + layer.dropout1(attended))
    feed_forward = layer.linear2(layer.dropout(layer.activation(layer.linear1(h))))
    return layer.norm2(h + layer.dropout2(feed_forward))


class PriorNetwork(nn.Module):
    """q_phi(z | E') of eq. 4: E'_0 = [E_u, E_i, E_r], then BlockPd/BlockPs; returns the final state too."""

    def __init__(self, config: MVAEConfig, n_users: int, n_items: int) -> None:
        super().__init__()
        self.user_embedding = nn.Embedding(n_users, config.embedding_dim)  # E_u
        self.item_embedding = nn.Embedding(n_items, config.embedding_dim)  # E_i
        self.sentiment_embedding = nn.Embedding(2, config.embedding_dim)  # E_r (negative, positive)
        if config.prior_embedding_std is not None:
            for table in (self.user_embedding, self.item_embedding, self.sentiment_embedding):
                nn.init.normal_(table.weight, 0.0, config.prior_embedding_std)
        self.blocks = _MultiScaleEncoder(config)  # BlockPd_1..n_pd, BlockPs_{n_pd+1}..{n_pd+n_ps}

    @property
    def block_pd(self) -> nn.ModuleList:
        return self.blocks.down

    @property
    def block_ps(self) -> nn.ModuleList:
        return self.blocks.scales

    def forward(
        self, user: torch.Tensor, item: torch.Tensor, sentiment: torch.Tensor
    ) -> tuple[list[DiagonalGaussian], torch.Tensor]:
        """Returns (q_phi_j finest first, E'_{n_pd+n_ps}), the state that starts the reconstruction."""
        e_u = self.user_embedding(user)
        e_i = self.item_embedding(item)
        e_r = self.sentiment_embedding(sentiment)
        e_prime_0 = torch.cat([e_u, e_i, e_r], dim=-1)
        return self.blocks(e_prime_0)


class ReconstructionNetwork(nn.Module):
    """Eq. 8: H'_0 = E'_{npd+nps}; H'_j = BlockD_j(H'_{j-1} + z_k) coarse to fine; then BlockD_i; T1, T2.

    k = n_ps + n_pd + 1 - j walks the scales from the smallest latent to the largest; each BlockD doubles
    the size, n_scale + n_down of them take the 12-d state back to 2 d_model = 1536.
    """

    def __init__(self, config: MVAEConfig) -> None:
        super().__init__()
        d_small = config.latent_dims[-1]
        sizes = [d_small * 2**i for i in range(config.n_scale + config.n_down)]
        self.block_d = nn.ModuleList(Block(d, 2 * d, config.block_hidden) for d in sizes)
        self.n_scale = config.n_scale

    def forward(self, h_0: torch.Tensor, z: list[torch.Tensor | None]) -> tuple[torch.Tensor, torch.Tensor]:
        """h_0 [B, d_z_small]; z finest first (None: no latent added at that scale); returns T1, T2 [B, d]."""
        if len(z) != self.n_scale:
            raise ValueError(f"expected {self.n_scale} latents, got {len(z)}")
        h = h_0
        for j, block in enumerate(self.block_d):
            z_k = z[self.n_scale - 1 - j] if j < self.n_scale else None
            h = block(h + z_k if z_k is not None else h)
        t_1, t_2 = h.chunk(2, dim=-1)
        return t_1, t_2


@dataclass(frozen=True)
class PackedGPT:
    """GPT-2's projections and output layer prepacked for bf16 decoding on the CPU (engine/packed.py),
    one per layer: attention's c_attn and c_proj, the MLP's c_fc (GELU fused) and c_proj; lm_head."""

    attention_in: list[PackedLinear]
    attention_out: list[PackedLinear]
    mlp_in: list[PackedLinear]
    mlp_out: list[PackedLinear]
    lm_head: PackedLinear


@dataclass
class KVCache:
    """GPT-2's keys and values during greedy decoding: per layer [B, heads, n_positions, d_head], of which
    the first `length` positions are filled; `packed`: the prepacked layers this decoding uses, if any."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    length: int
    packed: PackedGPT | None = None


class GPTDecoder(nn.Module):
    """The GPT-2 decoder of eq. 8, built from a GPT2Config (no pretrained weights): [T1, T2, <bos>, w1, ...].

    Its token embedding matrix is the one word embedding of the model: the decoder's input and output
    (GPT-2 ties them) and the recognition encoder's input (section 4.4: "the word embedding used in the
    encoder Transformer layers and decoder Transformer layers are shared").
    """

    n_prefix = 2  # T1, T2

    def __init__(self, config: MVAEConfig, vocab: Vocab, max_positions: int) -> None:
        super().__init__()
        gpt2 = GPT2Config(
            vocab_size=vocab.size,
            n_positions=max_positions,
            n_embd=config.d_model,
            n_layer=config.n_decoder_layers,
            n_head=config.n_head,
            n_inner=config.ffn_dim,
            resid_pdrop=config.dropout,
            embd_pdrop=config.dropout,
            attn_pdrop=config.dropout,
            bos_token_id=vocab.bos_id,
            eos_token_id=vocab.eos_id,
            pad_token_id=vocab.pad_id,
            # GPT-2's tanh-approximated GELU as torch's one kernel; transformers' default "gelu_new" spells
            # the same formula out in seven tensor operations (and as many in the backward pass)
            activation_function="gelu_pytorch_tanh",
        )
        self.gpt = GPT2LMHeadModel(gpt2)
        self._packed: PackCache[PackedGPT] = PackCache()

    @property
    def word_embeddings(self) -> nn.Embedding:
        return self.gpt.transformer.wte

    def teacher_forced_logits(
        self, t_1: torch.Tensor, t_2: torch.Tensor, tokens: torch.Tensor
    ) -> torch.Tensor:
        """Logits [B, L, V] at the positions of tokens [B, L]: logits[:, t] predicts tokens' successor.

        The output layer runs on those L positions only (`logits_to_keep`), not on T1, T2."""
        prefix = torch.stack([t_1, t_2], dim=1)
        embeddings = torch.cat([prefix, self.word_embeddings(tokens)], dim=1)
        n = tokens.shape[1]
        logits = self.gpt(inputs_embeds=embeddings, use_cache=False, logits_to_keep=n).logits  # 0: all
        return logits[:, logits.shape[1] - n :]

    def start(self, t_1: torch.Tensor, t_2: torch.Tensor) -> KVCache:
        """Run the prefix [T1, T2] once; the returned cache holds every layer's keys and values.

        Decoding under bf16 autocast on the CPU (eval mode, no autograd) runs GPT-2's projections and
        output layer prepacked (PackedGPT), packed once per version of the weights."""
        packed = None
        if not self.training and packing_applies(t_1.device):
            packed = self.packed_layers(rows=t_1.shape[0])
        cache = KVCache(keys=[], values=[], length=0, packed=packed)
        self._extend(torch.stack([t_1, t_2], dim=1), cache)
        return cache

    def step(self, cache: KVCache, previous: torch.Tensor) -> tuple[torch.Tensor, KVCache]:
        """Logits [B, V] for the next word given the previous word ids [B]; extends the cache in place."""
        hidden = self._extend(self.word_embeddings(previous).unsqueeze(1), cache)[:, -1]
        if cache.packed is not None:
            return cache.packed.lm_head(hidden), cache
        return self.gpt.lm_head(hidden), cache

    def packed_layers(self, rows: int) -> PackedGPT:
        """The prepacked layers for the current weights: packed on first use, again after any change."""
        if self.gpt.config.activation_function != "gelu_pytorch_tanh":
            raise ValueError("packed decoding fuses GELU's tanh form; the decoder must use it")

        def conv1d(layer: nn.Module) -> PackedLinear:  # transformers' Conv1D: weight [in, out]
            return PackedLinear.pack(layer.weight.t(), layer.bias, rows)

        def build() -> PackedGPT:
            layers = self.gpt.transformer.h
            return PackedGPT(
                attention_in=[conv1d(block.attn.c_attn) for block in layers],
                attention_out=[conv1d(block.attn.c_proj) for block in layers],
                mlp_in=[conv1d(block.mlp.c_fc) for block in layers],
                mlp_out=[conv1d(block.mlp.c_proj) for block in layers],
                lm_head=PackedLinear.pack(self.gpt.lm_head.weight, self.gpt.lm_head.bias, rows),
            )

        return self._packed.get(self.gpt.parameters(), build)

    def _extend(self, embeddings: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """GPT-2's forward pass (transformers' GPT2Model with its own modules and weights) for the new
        positions embeddings [B, n, d] after the cache's; returns ln_f's output [B, n, d].

        Keys and values go into buffers preallocated for GPT-2's n_positions, written in place, so a step
        copies one position per layer instead of concatenating the whole cache (transformers'
        DynamicCache). n > 1 only for the first call (the prefix, causal among itself)."""
        gpt = self.gpt.transformer
        packed = cache.packed
        start, n = cache.length, embeddings.shape[1]
        if n > 1 and start > 0:
            raise ValueError("extend the cache one position at a time after the prefix")
        positions = torch.arange(start, start + n, device=embeddings.device)
        x = gpt.drop(embeddings + gpt.wpe(positions))
        for i, block in enumerate(gpt.h):
            attn = block.attn
            h = block.ln_1(x)
            qkv = (packed.attention_in[i](h) if packed else attn.c_attn(h)).split(attn.split_size, dim=2)
            query, key, value = (self._heads(t, attn.num_heads) for t in qkv)
            if i == len(cache.keys):  # the first call allocates (float32: see engine/attention.py)
                shape = (key.shape[0], key.shape[1], gpt.wpe.num_embeddings, key.shape[3])
                cache.keys.append(key.new_empty(shape, dtype=torch.float32))
                cache.values.append(value.new_empty(shape, dtype=torch.float32))
            cache.keys[i][:, :, start : start + n] = key
            cache.values[i][:, :, start : start + n] = value
            keys, values = cache.keys[i][:, :, : start + n], cache.values[i][:, :, : start + n]
            dropout = attn.attn_dropout.p if self.training else 0.0
            if n == 1 and dropout == 0.0:
                attended = decode_attention(query, keys, values, scale=attn.scaling)
            else:  # the prefix (start == 0, causal), or a step with attention dropout
                attended = F.scaled_dot_product_attention(
                    query,
                    keys.to(query.dtype),
                    values.to(query.dtype),
                    dropout_p=dropout,
                    is_causal=n > 1,
                    scale=attn.scaling,
                )
            attended = attended.transpose(1, 2).reshape(x.shape[0], n, -1)
            if packed is not None:  # eval mode: the dropouts are the identity
                x = packed.attention_out[i](attended) + x
                x = packed.mlp_out[i](packed.mlp_in[i](block.ln_2(x), "gelu_tanh")) + x
            else:
                x = attn.resid_dropout(attn.c_proj(attended)) + x
                x = block.mlp(block.ln_2(x)) + x
        cache.length = start + n
        return gpt.ln_f(x)

    @staticmethod
    def _heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
        """[B, n, d] -> [B, heads, n, d / heads]."""
        return x.view(x.shape[0], x.shape[1], n_heads, -1).transpose(1, 2)
