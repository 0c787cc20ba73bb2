"""Eq. 1's Block: shapes, the residual x' = LayerNorm(T(x) + x), and spectral normalisation.

The reference is a second implementation written here from the equation with torch.nn.functional and an
exact SVD for the spectral norm (the module uses torch's power-iteration parametrization).
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from explainbench.models.mvae.blocks import Block, ScaleBlock, SpectralLayer


def _converge(module: torch.nn.Module, x: torch.Tensor, n: int = 200) -> None:
    """Run power iterations (one per training forward) until u, v hold the top singular vectors."""
    module.train()
    with torch.no_grad():
        for _ in range(n):
            module(x)
    module.eval()


def _f_by_hand(layer: SpectralLayer, x: torch.Tensor) -> torch.Tensor:
    """f(x) = (W / sigma_max(W)) GELU(x) + b with sigma_max from an exact SVD."""
    w = layer.linear.parametrizations.weight.original
    sigma = torch.linalg.matrix_norm(w, ord=2)
    return F.linear(F.gelu(x), w / sigma, layer.linear.bias)


def _block_by_hand(block: Block, x: torch.Tensor) -> torch.Tensor:
    t = x
    for layer in block.T:  # f_{d2,d3} o f_{d2,d2} o f_{d1,d2} o f_{d1,d1}
        t = _f_by_hand(layer, t)
    ln = block.layer_norm
    x_prime = F.layer_norm(t + x, (x.shape[-1],), ln.weight, ln.bias, ln.eps)
    return _f_by_hand(block.f_out, x_prime)


@pytest.mark.parametrize(("d_in", "d_out"), [(16, 8), (8, 16), (12, 6)])
def test_block_shape(d_in: int, d_out: int) -> None:
    torch.manual_seed(0)
    block = Block(d_in, d_out)
    assert block(torch.randn(5, d_in)).shape == (5, d_out)
    # T keeps the input size so the residual is the identity (d3 = d1); the width inside is d_out.
    assert [layer.linear.weight.shape for layer in block.T] == [
        (d_in, d_in),
        (d_out, d_in),
        (d_out, d_out),
        (d_in, d_out),
    ]


def test_block_equals_eq1_by_hand_with_residual() -> None:
    torch.manual_seed(1)
    block = Block(16, 8, d_hidden=12).double()
    x = torch.randn(7, 16, dtype=torch.float64) * 3
    _converge(block, x)
    with torch.no_grad():
        got = block(x)
        expected = _block_by_hand(block, x)
        # Without the "+ x" the output differs: the residual is really there.
        t = x
        for layer in block.T:
            t = _f_by_hand(layer, t)
        ln = block.layer_norm
        no_residual = _f_by_hand(block.f_out, F.layer_norm(t, (16,), ln.weight, ln.bias, ln.eps))
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)
    assert (got - no_residual).abs().max() > 1e-2


def test_spectral_norm_of_every_weight_is_one() -> None:
    torch.manual_seed(2)
    block = Block(16, 8).double()
    _converge(block, torch.randn(4, 16, dtype=torch.float64))
    layers = [*block.T, block.f_out]
    for layer in layers:
        w = layer.linear.weight  # the normalised weight the forward uses
        assert torch.linalg.matrix_norm(w.detach(), ord=2).item() == pytest.approx(1.0, abs=1e-6)


def test_scale_block_splits_into_mu_logvar_state_of_half_size() -> None:
    torch.manual_seed(3)
    block = ScaleBlock(24).eval()  # eval: no power iteration between the two calls
    x = torch.randn(3, 24)
    mu, logvar, state = block(x)
    assert mu.shape == logvar.shape == state.shape == (3, 12)
    torch.testing.assert_close(torch.cat([mu, logvar, state], dim=-1), block.block(x))
    with pytest.raises(ValueError, match="odd"):
        ScaleBlock(7)
