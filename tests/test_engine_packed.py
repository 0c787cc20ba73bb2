"""Prepacked bf16 linear layers (engine/packed.py) and MVAE's GPT-2 decoding through them."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from explainbench.data.vocab import Vocab
from explainbench.engine import packed as P
from explainbench.engine.module import Batch
from explainbench.engine.precision import autocast
from explainbench.models.mvae import MVAEConfig, MVAEModule

needs_ops = pytest.mark.skipif(
    not (P._ops_available() and P.cpu_has_bf16()), reason="no native bf16 or no oneDNN packed linear here"
)


@needs_ops
def test_packed_linear_is_autocasts_linear() -> None:
    gen = torch.Generator().manual_seed(0)
    x, w, b = (torch.randn(shape, generator=gen) for shape in ((37, 48), (80, 48), (80,)))
    layer = P.PackedLinear.pack(w, b, rows=37)
    with torch.no_grad(), autocast("bf16", "cpu"):
        reference = F.linear(x, w, b)
        y = layer(x)
    assert y.dtype == torch.bfloat16 and y.shape == (37, 80)
    # the same rounding of x, W, b and of y; at most one bf16 step apart where the summation order differs
    assert torch.allclose(y.float(), reference.float(), rtol=2**-7, atol=1e-3)
    assert layer(x.view(37, 1, 48)).shape == (37, 1, 80)


@needs_ops
def test_the_fused_gelu_is_gelu_of_the_unrounded_product() -> None:
    gen = torch.Generator().manual_seed(1)
    x, w, b = (torch.randn(shape, generator=gen) for shape in ((16, 32), (64, 32), (64,)))
    layer = P.PackedLinear.pack(w, b, rows=16)
    rounded = (t.bfloat16().float() for t in (x, w, b))
    exact = F.gelu(F.linear(*rounded), approximate="tanh")
    y = layer(x, "gelu_tanh").float()
    assert torch.allclose(y, exact, rtol=2**-7, atol=1e-3)
    assert not torch.allclose(y, F.linear(x, w, b), atol=1e-2)  # the activation was applied
    with pytest.raises(ValueError, match="use one of none, gelu_tanh"):
        layer(x, "relu")


def test_packing_applies_only_to_cpu_bf16_decoding() -> None:
    cpu = torch.device("cpu")
    with torch.no_grad():
        assert not P.packing_applies(cpu)  # no autocast
        with autocast("fp32", "cpu"):
            assert not P.packing_applies(cpu)
        with autocast("bf16", "cpu"):
            assert P.packing_applies(cpu) == (P._ops_available() and P.cpu_has_bf16())
            assert not P.packing_applies(torch.device("meta"))
    with autocast("bf16", "cpu"):
        assert not P.packing_applies(cpu)  # autograd on: training keeps autocast's own path


def test_no_packing_on_a_cpu_without_bf16_units(monkeypatch) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: False)
    with torch.no_grad(), autocast("bf16", "cpu"):
        assert not P.packing_applies(torch.device("cpu"))


def test_weights_version_moves_with_in_place_writes() -> None:
    w = torch.zeros(3)
    before = P.weights_version([w])
    w.add_(1.0)
    assert P.weights_version([w]) != before


@needs_ops
def test_a_module_with_packed_layers_still_copies() -> None:
    import copy
    import pickle

    module, batch = _tiny_mvae()
    first, state = _decode_logits(module, batch, "bf16")
    assert state.packed is not None  # the opaque packed tensors (no storage) are now held by the module
    clone = copy.deepcopy(module)
    assert clone.decoder._packed._value is None  # an empty cache: packs on its next use
    again, _ = _decode_logits(clone, batch, "bf16")
    assert again.equal(first)
    assert pickle.loads(pickle.dumps(module.decoder._packed))._value is None


def _tiny_mvae() -> tuple[MVAEModule, Batch]:
    torch.manual_seed(0)
    vocab = Vocab(size=300, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = MVAEModule(MVAEConfig.tiny(), vocab, 20, 15).eval()
    n = 12
    batch = Batch(
        user=torch.arange(n) % 20,
        item=torch.arange(n) % 15,
        rating=torch.full((n,), 4.0),
        sentiment=torch.ones(n, dtype=torch.long),
        feature=torch.full((n,), vocab.unk_id),
        text=torch.full((n, 3), vocab.pad_id),
    )
    return module, batch


def _decode_logits(
    module: MVAEModule, batch: Batch, precision: str, steps: int = 4
) -> tuple[torch.Tensor, object]:
    with torch.no_grad(), autocast(precision, "cpu"):
        state = module.start_decoding(batch)
        previous = torch.full((len(batch),), module.vocab.bos_id)
        out = []
        for _ in range(steps):
            logits, state = module.decode_step(state, previous)
            out.append(logits.float())
            previous = logits.float().argmax(dim=-1)
    return torch.stack(out, dim=1), state


@needs_ops
def test_mvae_decodes_prepacked_under_bf16_with_autocasts_numbers(monkeypatch) -> None:
    module, batch = _tiny_mvae()
    packed_logits, state = _decode_logits(module, batch, "bf16")
    assert state.packed is not None
    fp32_logits, fp32_state = _decode_logits(module, batch, "fp32")
    assert fp32_state.packed is None
    monkeypatch.setattr("explainbench.models.mvae.networks.packing_applies", lambda device: False)
    plain_logits, plain_state = _decode_logits(module, batch, "bf16")
    assert plain_state.packed is None
    # prepacked and autocast's own path: the same bf16 rounding but the fused GELU's
    assert (packed_logits - plain_logits).abs().max() < 0.02
    assert (packed_logits - fp32_logits).abs().max() < 0.05


@needs_ops
def test_mvae_repacks_after_the_weights_change() -> None:
    module, batch = _tiny_mvae()
    first, state = _decode_logits(module, batch, "bf16")
    packs = state.packed
    _, again = _decode_logits(module, batch, "bf16")
    assert again.packed is packs  # same weights: packed once
    with torch.no_grad():
        module.decoder.gpt.lm_head.weight.mul_(2.0)  # tied to the word embedding
    second, changed = _decode_logits(module, batch, "bf16")
    assert changed.packed is not packs
    assert not torch.allclose(first, second, atol=0.05)


@needs_ops
def test_a_spectral_layer_packs_its_normalised_weight_once_per_version() -> None:
    from explainbench.models.mvae.blocks import SpectralLayer

    torch.manual_seed(2)
    layer = SpectralLayer(24, 40)
    layer.train()
    layer(torch.randn(8, 24))  # one power iteration moves u, v: sigma is that of the trained layer
    layer.eval()
    x = torch.randn(10, 24)
    with torch.no_grad(), autocast("bf16", "cpu"):
        packed = layer(x)
        packs = layer._packed._value
        assert layer(x).equal(packed) and layer._packed._value is packs  # packed once
    with torch.no_grad():
        plain = layer(x)  # fp32: SN(W) computed per call, as in training
        assert layer._packed._value is packs
        assert torch.allclose(packed.float(), plain, rtol=2**-6, atol=2e-3)
        layer.linear.parametrizations.weight.original.mul_(0.5)
        with autocast("bf16", "cpu"):
            assert layer(x).equal(packed)  # SN(W) is scale-free: same numbers, but packed again
        assert layer._packed._value is not packs
