"""MVAEModule: paper sizes, eq. 8's order, training vs test architecture, the variants, cached decoding.

Loss comparisons run in eval mode: no dropout, and spectral norm's power iteration does not move between
two passes (loss() computes the training architecture whatever the mode).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import torch
from transformers import GPT2LMHeadModel

from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch
from explainbench.models.mvae import (
    MVAEConfig,
    MVAEModule,
    MVAEMSEConfig,
    MVAENoKLConfig,
    MVAENoMLFConfig,
    MVAENoRNConfig,
)
from explainbench.models.mvae.networks import PriorNetwork, ReconstructionNetwork
from explainbench.models.mvae.tkl import DiagonalGaussian

VOCAB = Vocab(size=40, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
N_USERS, N_ITEMS = 6, 7


def _config(cls: type[MVAEConfig] = MVAEConfig) -> MVAEConfig:
    """The tiny config without dropout, so that two forward passes can be compared exactly."""
    return dataclasses.replace(cls.tiny(), dropout=0.0)


def _batch(seed: int = 0, size: int = 6, length: int = 9) -> Batch:
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(4, VOCAB.size, (size, length), generator=g)
    text[:, 0] = VOCAB.bos_id
    text[:, -1] = VOCAB.eos_id
    text[0, 4] = VOCAB.eos_id
    text[0, 5:] = VOCAB.pad_id
    return Batch(
        user=torch.randint(0, N_USERS, (size,), generator=g),
        item=torch.randint(0, N_ITEMS, (size,), generator=g),
        rating=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 2.9])[:size],
        sentiment=torch.zeros(size, dtype=torch.long),
        feature=torch.full((size,), VOCAB.unk_id),
        text=text,
    )


def _module(cls: type[MVAEConfig] = MVAEConfig, seed: int = 0) -> MVAEModule:
    torch.manual_seed(seed)
    return MVAEModule(_config(cls), VOCAB, N_USERS, N_ITEMS)


class _Capture:
    """Records what the reconstruction network receives (h_0 and the z list)."""

    def __init__(self, module: MVAEModule) -> None:
        self.calls: list[tuple[torch.Tensor, list[torch.Tensor | None]]] = []
        module.reconstruction.register_forward_pre_hook(self._hook)

    def _hook(self, _module: torch.nn.Module, args: tuple) -> None:
        h_0, z = args
        self.calls.append((h_0.detach().clone(), [None if t is None else t.detach().clone() for t in z]))


# ------------------------------------------------------------------------------------------- sizes


def test_paper_sizes() -> None:
    config = MVAEConfig()
    assert (config.input_dim, config.embedding_dim, config.latent_dims) == (1536, 512, [48, 24, 12])
    prior = PriorNetwork(config, 2, 2)
    assert [b.d_in for b in prior.block_pd] == [1536, 768, 384, 192]
    assert [b.d_out for b in prior.block_pd] == [768, 384, 192, 96]
    assert [b.block.d_in for b in prior.block_ps] == [96, 48, 24]
    assert [b.d_z for b in prior.block_ps] == [48, 24, 12]
    reconstruction = ReconstructionNetwork(config)
    assert [(b.d_in, b.d_out) for b in reconstruction.block_d] == [
        (12, 24), (24, 48), (48, 96), (96, 192), (192, 384), (384, 768), (768, 1536)
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"d_model": 40}, "three equal embeddings"),
        ({"d_model": 48, "n_down": 4, "n_scale": 3}, "halve 7 times"),
        ({"latent_objective": "l1"}, "latent_objective"),
        ({"latent_objective": "mse", "recognition": False}, "recognition"),
        ({"n_head": 5}, "n_head"),
        ({"prior_embedding_std": 0.0}, "prior_embedding_std"),
    ],
)
def test_config_refuses_sizes_that_cannot_build(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MVAEConfig.from_dict({**dataclasses.asdict(MVAEConfig.tiny()), **change})


@pytest.mark.parametrize(("std", "expected"), [(None, 1.0), (0.02, 0.02)])
def test_prior_embeddings_start_at_the_configured_scale(std: float | None, expected: float) -> None:
    torch.manual_seed(0)
    config = dataclasses.replace(MVAEConfig.tiny(), prior_embedding_std=std)
    prior = PriorNetwork(config, n_users=300, n_items=200)
    for table in (prior.user_embedding, prior.item_embedding):
        assert float(table.weight.detach().std()) == pytest.approx(expected, rel=0.05)


def test_prior_and_recognition_give_the_same_scales() -> None:
    module = _module()
    batch = _batch()
    prior, h_0 = module.prior_distributions(batch)
    recognition = module.recognition_distributions(batch)
    assert [p.mu.shape[-1] for p in prior] == [q.mu.shape[-1] for q in recognition] == [12, 6, 3]
    assert h_0.shape == (len(batch), 3)


def test_sentiment_is_rating_at_least_three() -> None:
    module = _module()
    assert module.sentiment(_batch()).tolist() == [0, 0, 1, 1, 1, 0]


# ------------------------------------------------------------------------------------- eq. 8 order


def test_reconstruction_adds_latents_coarse_to_fine() -> None:
    torch.manual_seed(0)
    net = ReconstructionNetwork(_config()).eval()
    seen: list[torch.Tensor] = []
    for block in net.block_d:
        block.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()))
    outs: list[torch.Tensor] = []
    for block in net.block_d:
        block.register_forward_hook(lambda _m, _a, out: outs.append(out.detach().clone()))
    h_0 = torch.randn(2, 3)
    z = [torch.randn(2, 12), torch.randn(2, 6), torch.randn(2, 3)]  # finest first
    with torch.no_grad():
        t_1, t_2 = net(h_0, z)
    torch.testing.assert_close(seen[0], h_0 + z[2])  # H'_1 = BlockD_1(H'_0 + z_7)
    torch.testing.assert_close(seen[1], outs[0] + z[1])  # H'_2 = BlockD_2(H'_1 + z_6)
    torch.testing.assert_close(seen[2], outs[1] + z[0])  # H'_3 = BlockD_3(H'_2 + z_5)
    for j in range(3, len(net.block_d)):  # H'_i = BlockD_i(H'_{i-1})
        torch.testing.assert_close(seen[j], outs[j - 1])
    torch.testing.assert_close(torch.cat([t_1, t_2], dim=-1), outs[-1])
    assert t_1.shape == t_2.shape == (2, 48)


# ------------------------------------------------------------------ training vs test architecture


def test_training_feeds_recognition_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _module().eval()
    batch = _batch()
    # eps = 1 everywhere: the reconstruction must receive mu_r + exp(logvar_r / 2) exactly.
    monkeypatch.setattr(DiagonalGaussian, "sample", lambda q: q.mu + torch.exp(0.5 * q.logvar))
    capture = _Capture(module)
    module.loss(batch)
    recognition = module.recognition_distributions(batch)
    prior, h_0 = module.prior_distributions(batch)
    (got_h_0, got_z), = capture.calls
    torch.testing.assert_close(got_h_0, h_0.detach())
    for z, q in zip(got_z, recognition, strict=True):
        torch.testing.assert_close(z, (q.mu + torch.exp(0.5 * q.logvar)).detach())


def test_validation_and_decoding_use_prior_means_and_never_the_recognition_network() -> None:
    module = _module().eval()
    batch = _batch()

    def refuse(*_args: object) -> None:
        raise AssertionError("the recognition network was called at test time")

    module.recognition.register_forward_pre_hook(refuse)
    capture = _Capture(module)
    with torch.no_grad():
        module.validation_loss(batch)
        greedy_decode(module, batch, max_len=4, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id)
        prior, h_0 = module.prior_distributions(batch)
    assert len(capture.calls) == 2
    for got_h_0, got_z in capture.calls:
        torch.testing.assert_close(got_h_0, h_0)
        for z, p in zip(got_z, prior, strict=True):
            torch.testing.assert_close(z, p.mu)


def test_removing_the_recognition_network_after_training_changes_nothing_at_test_time() -> None:
    module = _module(seed=1)
    batch = _batch(seed=1)
    optimizer = torch.optim.AdamW(module.parameters(), lr=3e-3)
    before = module.recognition.special.detach().clone()
    module.train()
    for step in range(3):
        module.set_step(step)
        optimizer.zero_grad()
        module.loss(batch).total.backward()
        optimizer.step()
    assert not torch.equal(before, module.recognition.special)  # it was trained
    module.eval()
    with torch.no_grad():
        val = module.validation_loss(batch).total
        tokens = greedy_decode(module, batch, max_len=6, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id)
        module.drop_recognition()
        assert module.recognition is None
        assert not any(name.startswith("recognition.") for name, _ in module.named_parameters())
        torch.testing.assert_close(module.validation_loss(batch).total, val, rtol=0, atol=0)
        assert torch.equal(greedy_decode(module, batch, max_len=6, bos_id=1, eos_id=2), tokens)
    with pytest.raises(RuntimeError, match="no recognition network"):
        module.loss(batch)


# ------------------------------------------------------------------------------------ the variants


def _parts(cls: type[MVAEConfig], step: int = 400) -> tuple[MVAEModule, dict[str, float], float]:
    module = _module(cls).eval()
    module.set_step(step)
    with torch.no_grad():
        out = module.loss(_batch())
    return module, {k: float(v) for k, v in out.parts.items()}, float(out.total)


def test_mvae_loss_is_nll_plus_tkl_at_every_scale() -> None:
    module, parts, total = _parts(MVAEConfig)
    assert set(parts) == {f"kl_{kind}_s{s}" for kind in ("prior", "std") for s in range(3)} | {
        "mlf", "beta", "nll", "nll_word"
    }
    beta = 0.001 / (1 + torch.exp(torch.tensor(-0.0025 * (400 - 50), dtype=torch.float64)).item())
    assert parts["beta"] == pytest.approx(beta, rel=1e-6)
    mlf = sum(beta * parts[f"kl_std_s{s}"] + parts[f"kl_prior_s{s}"] for s in range(3))
    assert parts["mlf"] == pytest.approx(mlf, rel=1e-5)
    assert total == pytest.approx(parts["nll"] + mlf, rel=1e-5)


def test_nokl_drops_only_the_beta_term() -> None:
    _, parts, total = _parts(MVAENoKLConfig)
    assert set(parts) == {f"kl_prior_s{s}" for s in range(3)} | {"mlf", "nll", "nll_word"}
    assert total == pytest.approx(parts["nll"] + sum(parts[f"kl_prior_s{s}"] for s in range(3)), rel=1e-5)


def test_nomlf_keeps_only_the_smallest_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DiagonalGaussian, "sample", lambda q: q.mu + torch.exp(0.5 * q.logvar))
    module = _module(MVAENoMLFConfig).eval()
    capture = _Capture(module)
    batch = _batch()
    out = module.loss(batch)
    assert set(out.parts) == {"kl_prior_s2", "kl_std_s2", "mlf", "beta", "nll", "nll_word"}
    (_, z), = capture.calls
    assert z[0] is None and z[1] is None
    q = module.recognition_distributions(batch)[2]
    torch.testing.assert_close(z[2], (q.mu + torch.exp(0.5 * q.logvar)).detach())
    with torch.no_grad():
        module.validation_loss(batch)
    (_, z_test) = capture.calls[-1]
    assert z_test[0] is None and z_test[1] is None and z_test[2] is not None


def test_norn_has_no_recognition_network_and_trains_in_the_test_architecture() -> None:
    module = _module(MVAENoRNConfig)
    reference = _module(MVAEConfig)
    assert module.recognition is None
    names = {n for n, _ in module.named_parameters()}
    assert names == {n for n, _ in reference.named_parameters() if not n.startswith("recognition.")}
    batch = _batch()
    module.eval()
    with torch.no_grad():
        out = module.loss(batch)
        assert set(out.parts) == {"nll", "nll_word"}
        torch.testing.assert_close(out.total, module.validation_loss(batch).total)


def test_mse_feeds_recognition_means_and_uses_mse_to_prior_means() -> None:
    module = _module(MVAEMSEConfig).eval()
    capture = _Capture(module)
    batch = _batch()
    torch.set_grad_enabled(False)
    try:
        out = module.loss(batch)
        recognition = module.recognition_distributions(batch)
        prior, _ = module.prior_distributions(batch)
        again = module.loss(batch)
    finally:
        torch.set_grad_enabled(True)
    _, z = capture.calls[0]
    expected_mse = []
    for s, (zs, q, p) in enumerate(zip(z, recognition, prior, strict=True)):
        torch.testing.assert_close(zs, q.mu.detach())  # mu_r, no sampling
        expected_mse.append(((q.mu - p.mu) ** 2).mean().item())
        assert float(out.parts[f"mse_s{s}"]) == pytest.approx(expected_mse[-1], rel=1e-5)
    assert set(out.parts) == {"mse_s0", "mse_s1", "mse_s2", "mse", "nll", "nll_word"}
    assert float(out.total) == pytest.approx(float(out.parts["nll"]) + sum(expected_mse), rel=1e-5)
    assert float(again.total) == pytest.approx(float(out.total), rel=1e-6)  # deterministic


def test_variants_share_the_network_of_mvae_except_norn() -> None:
    shapes = {n: p.shape for n, p in _module(MVAEConfig).named_parameters()}
    for cls in (MVAENoKLConfig, MVAENoMLFConfig, MVAEMSEConfig):
        assert {n: p.shape for n, p in _module(cls).named_parameters()} == shapes


# ------------------------------------------------------------------------------------- decoding


def test_cached_decoding_equals_full_recomputation() -> None:
    module = _module(seed=3).eval()
    batch = _batch(seed=3)
    with torch.no_grad():
        state = module.start_decoding(batch)
        prior, h_0 = module.prior_distributions(batch)
        t_1, t_2 = module.reconstruction(h_0, [p.mu for p in prior])
        tokens = torch.full((len(batch), 1), VOCAB.bos_id)
        for _ in range(8):
            logits, state = module.decode_step(state, tokens[:, -1])
            full = module.decoder.teacher_forced_logits(t_1, t_2, tokens)[:, -1]
            torch.testing.assert_close(logits, full, atol=1e-5, rtol=1e-5)
            tokens = torch.cat([tokens, full.argmax(-1, keepdim=True)], dim=1)
    greedy = greedy_decode(module, batch, max_len=8, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id)
    for row, expected in zip(greedy.tolist(), tokens[:, 1:].tolist(), strict=True):
        cut = expected.index(VOCAB.eos_id) + 1 if VOCAB.eos_id in expected else len(expected)
        assert row[:cut] == expected[:cut]


def test_decoder_cache_steps_equal_transformers_gpt2_with_sharp_attention() -> None:
    """GPTDecoder's own key/value cache (preallocated, written in place) against transformers' GPT-2 over
    the whole sequence, with weights large enough that attention is far from uniform (so the prefix's
    causal mask, the scale and the positions all show in the logits); two layers, so that the prefix's
    outputs feed the second layer's keys and values."""
    torch.manual_seed(5)
    module = MVAEModule(dataclasses.replace(_config(), n_decoder_layers=2), VOCAB, N_USERS, N_ITEMS).eval()
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in module.decoder.gpt.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    t_1, t_2 = torch.randn(2, 6, module.config.d_model, generator=g)
    tokens = _batch(seed=5).text[:, :7]
    with torch.no_grad():
        expected = module.decoder.teacher_forced_logits(t_1, t_2, tokens)
        cache = module.decoder.start(t_1, t_2)
        got = []
        for t in range(tokens.shape[1]):
            logits, cache = module.decoder.step(cache, tokens[:, t])
            got.append(logits)
    assert cache.length == 2 + tokens.shape[1]
    torch.testing.assert_close(torch.stack(got, dim=1), expected, atol=1e-4, rtol=1e-4)


def test_recognition_last_layer_at_c1_c2_equals_the_full_encoder() -> None:
    """special_outputs runs the last encoder layer at C_1, C_2 only: the same O_1, O_2 and gradients as
    torch's TransformerEncoder over every position (dropout 0, so train mode is deterministic too)."""
    module = _module(seed=2)
    recognition = module.recognition
    tokens = _batch(seed=2).text[:, 1:]
    mask = torch.cat([torch.zeros(len(tokens), 2, dtype=torch.bool), tokens.eq(VOCAB.pad_id)], dim=1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(len(tokens), tokens.shape[1] + 2, module.config.d_model, generator=g)

    def full() -> torch.Tensor:
        return recognition.encoder(x, src_key_padding_mask=mask)[:, :2]

    for train in (True, False):
        recognition.train(train)
        torch.testing.assert_close(recognition.special_outputs(x, mask), full(), atol=1e-5, rtol=1e-5)
    recognition.train()
    weights = torch.randn(len(tokens), 2, module.config.d_model, generator=g)
    grads = []
    for outputs in (lambda: recognition.special_outputs(x, mask), full):
        recognition.zero_grad()
        (outputs() * weights).sum().backward()
        grads.append([p.grad.clone() for p in recognition.encoder.parameters()])
    for got_grad, full_grad in zip(*grads, strict=True):
        torch.testing.assert_close(got_grad, full_grad, atol=1e-5, rtol=1e-4)


def test_decoder_is_gpt2_with_gelu_new() -> None:
    """GPTDecoder's MLP uses torch's tanh-GELU kernel: GPT-2's "gelu_new" formula (written out here), and
    the logits equal transformers' GPT-2 with "gelu_new" and the same weights after T1, T2 (teacher forcing
    projects only the token positions)."""
    module = _module(seed=4).eval()
    gpt = module.decoder.gpt
    x = torch.linspace(-6.0, 6.0, 1201)
    gelu_new = 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    for block in gpt.transformer.h:
        torch.testing.assert_close(block.mlp.act(x), gelu_new, atol=1e-6, rtol=1e-5)
    config = copy.deepcopy(gpt.config)
    config.activation_function = "gelu_new"
    reference = GPT2LMHeadModel(config).eval()
    reference.load_state_dict(gpt.state_dict())
    g = torch.Generator().manual_seed(4)
    t_1, t_2 = torch.randn(2, 6, module.config.d_model, generator=g)
    tokens = _batch(seed=4).text[:, :-1]
    with torch.no_grad():
        got = module.decoder.teacher_forced_logits(t_1, t_2, tokens)
        embeddings = torch.cat([torch.stack([t_1, t_2], dim=1), reference.transformer.wte(tokens)], dim=1)
        expected = reference(inputs_embeds=embeddings, use_cache=False).logits[:, 2:]
        assert module.decoder.teacher_forced_logits(t_1, t_2, tokens[:, :0]).shape == (6, 0, VOCAB.size)
    assert got.shape == expected.shape == (6, tokens.shape[1], VOCAB.size)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_word_embeddings_are_shared_by_encoder_and_decoder() -> None:
    module = _module()
    wte = module.decoder.word_embeddings.weight
    assert module.decoder.gpt.lm_head.weight is wte
    batch = _batch()
    module.train().loss(batch).total.backward()
    # the embedding receives gradient from the recognition encoder too: zero out the decoder path and check
    module.zero_grad()
    tokens = batch.text[:, 1:]
    q = module.recognition(module.decoder.word_embeddings(tokens), tokens.eq(VOCAB.pad_id))
    sum(d.mu.sum() for d in q).backward()
    assert wte.grad is not None and wte.grad[tokens.unique()].abs().sum() > 0
