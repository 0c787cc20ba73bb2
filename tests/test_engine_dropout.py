"""The engine's dropout: Bernoulli(1 - p) masks from 16-bit lanes, against closed forms and torch's."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from explainbench.engine.dropout import Dropout, dropout, keep_mask, keep_threshold, use_engine_dropout


def test_threshold_drops_round_p_times_2_to_16_of_the_lane_values() -> None:
    # lanes are int16 in [-32768, 32767]; kept are those >= threshold
    assert keep_threshold(0.2) == 13107 - 32768  # round(0.2 * 65536) = 13107 dropped values
    assert 32767 - keep_threshold(0.2) + 1 == 52429
    assert keep_threshold(0.0) == -32768  # every lane kept
    assert keep_threshold(0.5) == 0


@pytest.mark.parametrize("p", [0.1, 0.2, 0.3, 0.5])
def test_keep_rate_and_independence_match_bernoulli(p: float) -> None:
    torch.manual_seed(7)
    n = 400_000
    keep = keep_mask(torch.Size((n,)), p).double()
    # 5 standard errors of a Bernoulli(1 - p) mean over n draws
    assert abs(keep.mean().item() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    # neighbouring lanes (same 64-bit draw, and across draws) are independent: P(both kept) = (1 - p)^2
    both = (keep[:-1] * keep[1:]).mean().item()
    assert abs(both - (1 - p) ** 2) < 5 * math.sqrt((1 - p) ** 2 * (1 - (1 - p) ** 2) / n)
    # the four lanes of a draw each keep at the same rate (a biased top lane would show here)
    lanes = keep.view(-1, 4).mean(dim=0)
    assert (lanes - (1 - p)).abs().max().item() < 5 * math.sqrt(p * (1 - p) / (n / 4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_values_gradient_and_dtype_are_torch_dropouts(dtype: torch.dtype) -> None:
    torch.manual_seed(3)
    x = (torch.rand(64, 33, 16) + 0.5).to(dtype).requires_grad_()
    out = dropout(x, 0.3)
    assert out.dtype == dtype
    kept = out != 0
    scale = torch.tensor(1 / 0.7, dtype=dtype)  # the same rounding as torch's dropout in this dtype
    torch.testing.assert_close(out[kept], (x * scale)[kept], rtol=0, atol=0)
    out.backward(torch.ones_like(out))
    torch.testing.assert_close(x.grad, kept.to(dtype) * scale, rtol=0, atol=0)
    assert abs(out.float().mean().item() - x.float().mean().item()) < 0.05  # E[out] = x


def test_seeded_runs_repeat_and_eval_mode_or_p_zero_is_identity() -> None:
    x = torch.randn(10, 100)
    torch.manual_seed(5)
    a = dropout(x, 0.2)
    torch.manual_seed(5)
    b = dropout(x, 0.2)
    assert torch.equal(a, b)
    layer = Dropout(0.2)
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match="in-place"):
        Dropout(0.2, inplace=True).train()(x)


def test_use_engine_dropout_replaces_every_torch_dropout_keeping_p() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=2,
                                     resid_pdrop=0.3, embd_pdrop=0.3, attn_pdrop=0.3))
    before = sum(type(m) is nn.Dropout for m in gpt.modules())
    assert before > 0
    assert use_engine_dropout(gpt) == before
    engine = [m for m in gpt.modules() if isinstance(m, nn.Dropout)]
    assert len(engine) == before and all(type(m) is Dropout and m.p == 0.3 for m in engine)
    assert use_engine_dropout(gpt) == 0


def test_peter_and_mvae_use_it() -> None:
    from baselines.peter.config import PeterConfig
    from baselines.peter.model import PeterModule
    from explainbench.data.vocab import Vocab
    from explainbench.models.mvae.config import MVAEConfig
    from explainbench.models.mvae.model import MVAEModule

    vocab = Vocab(size=30, pad_id=2, bos_id=0, eos_id=1, unk_id=3)
    peter = PeterModule(PeterConfig.tiny(), vocab, 5, 5, use_feature=False)
    mvae = MVAEModule(MVAEConfig.tiny(), vocab, 5, 5)
    for module in (peter, mvae):
        assert not any(type(m) is nn.Dropout for m in module.modules())
        assert any(type(m) is Dropout for m in module.modules())
