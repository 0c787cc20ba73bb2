"""engine.losses.token_nll against torch's cross_entropy: values and gradients, fp32 and bf16 logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import explainbench.engine.losses as losses
from explainbench.engine.losses import mean_token_nll, token_nll

PAD = 2


def _case(n: int, v: int, dtype: torch.dtype, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(n, v, generator=g) * 3).to(dtype)
    target = torch.randint(0, v, (n,), generator=g)
    target[::5] = PAD  # ignored rows
    return logits, target


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("block", [losses.BLOCK_ELEMENTS, 3 * 50])  # one block; blocks of 3 rows (+ a rest)
def test_values_and_gradients_equal_cross_entropy(dtype, block, monkeypatch) -> None:
    monkeypatch.setattr(losses, "BLOCK_ELEMENTS", block)
    logits, target = _case(37, 50, dtype)
    ours_in = logits.clone().requires_grad_()
    ref_in = logits.clone().requires_grad_()
    ours = token_nll(ours_in, target, PAD)
    ref = F.cross_entropy(ref_in.float(), target, ignore_index=PAD, reduction="none")  # autocast's float32
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-5)
    assert torch.all(ours[::5] == 0)
    weights = torch.rand(37, generator=torch.Generator().manual_seed(1))  # any upstream gradient
    (ours * weights).sum().backward()
    (ref * weights).sum().backward()
    assert ours_in.grad.dtype == dtype
    tol = {"rtol": 1e-6, "atol": 1e-7} if dtype == torch.float32 else {"rtol": 0, "atol": 0}
    # bf16: both round the same float32 gradient once, so they agree exactly
    torch.testing.assert_close(ours_in.grad, ref_in.grad, **tol)
    assert torch.all(ours_in.grad[::5] == 0)


def test_closed_form_on_a_hand_computed_row() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0]], requires_grad=True)
    nll = token_nll(logits, torch.tensor([1]), ignore_index=PAD + 10)
    z = 1 + torch.e + torch.e**2
    assert nll.item() == pytest.approx(torch.log(torch.tensor(z)).item() - 1.0, rel=1e-6)
    nll.sum().backward()
    expected = torch.tensor([[1 / z, torch.e / z - 1, torch.e**2 / z]])
    torch.testing.assert_close(logits.grad, expected)


def test_mean_is_cross_entropys_mean_and_zero_when_all_ignored() -> None:
    logits, target = _case(40, 30, torch.float32, seed=3)
    torch.testing.assert_close(
        mean_token_nll(logits, target, PAD), F.cross_entropy(logits, target, ignore_index=PAD)
    )
    assert mean_token_nll(logits, torch.full((40,), PAD), PAD).item() == 0.0
    with torch.autocast("cpu", dtype=torch.bfloat16):  # under autocast, bf16 logits from a Linear
        layer = torch.nn.Linear(8, 30)
        x = torch.randn(40, 8)
        out = layer(x)
        assert out.dtype == torch.bfloat16
        got = mean_token_nll(out, target, PAD)
    ref = F.cross_entropy(out.float(), target, ignore_index=PAD)
    torch.testing.assert_close(got, ref)
