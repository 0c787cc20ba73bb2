"""decode_attention: one query over a key/value cache, against torch's scaled_dot_product_attention."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from explainbench.engine.attention import decode_attention


def _qkv(n: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(n)
    shapes = ((3, 4, n, 8), (3, 4, 7, 8), (3, 4, 7, 8))
    return tuple((torch.randn(s, generator=g) * 2).to(dtype) for s in shapes)


def test_one_query_equals_torch_and_the_formula() -> None:
    q, k, v = _qkv(1)
    got = decode_attention(q, k, v, scale=0.3)
    torch.testing.assert_close(got, F.scaled_dot_product_attention(q, k, v, scale=0.3), atol=1e-6, rtol=1e-5)
    weights = torch.softmax(torch.einsum("bhqd,bhkd->bhqk", q, k) * 0.3, dim=-1)
    torch.testing.assert_close(got, torch.einsum("bhqk,bhkd->bhqd", weights, v), atol=1e-6, rtol=1e-5)
    default = decode_attention(q, k, v)  # scale 1 / sqrt(d)
    torch.testing.assert_close(default, decode_attention(q, k, v, scale=1 / math.sqrt(8)))


def test_under_bf16_autocast_it_computes_in_float32_from_the_given_values() -> None:
    q, k, v = _qkv(1, torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = decode_attention(q, k, v)
    assert got.dtype == torch.float32
    expected = F.scaled_dot_product_attention(q.float(), k.float(), v.float())
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_several_queries_go_to_torch() -> None:
    q, k, v = _qkv(3)
    torch.testing.assert_close(decode_attention(q, k, v), F.scaled_dot_product_attention(q, k, v))
