"""benchmarks/flops.py counts the matrix products of the kernels FlopCounterMode has no formula for.

On the CPU, nn.LSTM runs oneDNN's fused kernel and scaled_dot_product_attention a fused flash kernel;
torch.utils.flop_counter sees neither. The benchmark counts with oneDNN off and SDPA on its math backend;
these tests check the counts against the closed forms of the products (2 m n k per m x k by k x n).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "flops.py"


@pytest.fixture(scope="module")
def flops():
    spec = importlib.util.spec_from_file_location("flops_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_lstm_products_are_counted(flops):
    batch, steps, inputs, hidden, layers = 3, 5, 6, 8, 2
    lstm = torch.nn.LSTM(inputs, hidden, layers, batch_first=True)
    x = torch.randn(batch, steps, inputs)

    def forward(_i, _batch):
        with torch.no_grad():
            lstm(x)

    # per layer and step: x_t W_ih^T (4H x I) and h_{t-1} W_hh^T (4H x H)
    expected = sum(2 * batch * steps * 4 * hidden * (i + hidden) for i in (inputs, hidden))
    assert flops.count_step_flops(forward, None) == expected


def test_attention_products_are_counted(flops):
    b, h, q, k, d = 2, 3, 5, 7, 4
    query, key, value = torch.randn(b, h, q, d), torch.randn(b, h, k, d), torch.randn(b, h, k, d)

    def forward(_i, _batch):
        F.scaled_dot_product_attention(query, key, value)

    # Q K^T (q x d by d x k) and A V (q x k by k x d) per batch and head
    assert flops.count_step_flops(forward, None) == 2 * (2 * b * h * q * k * d)


def test_a_linear_training_step_counts_forward_and_backward(flops):
    layer = torch.nn.Linear(8, 16, bias=False)
    x = torch.randn(4, 8, requires_grad=True)

    def step(_i, _batch):
        layer(x).sum().backward()

    # forward x W^T, backward dX = dY W and dW = dY^T X: three 4 x 8 x 16 products
    assert flops.count_step_flops(step, None) == 3 * 2 * 4 * 8 * 16


def test_quick_run_counts_nrts_training_step_in_closed_form(flops, tmp_path):
    out = tmp_path / "flops.json"
    flops.main(["--quick", "--models", "nrt", "--precisions", "fp32", "--json", str(out)])
    result = json.loads(out.read_text())
    (row,) = result["models"]
    # --quick: batch 16, 200 words + 4 specials, explanations padded to 15 + 2 (16 decoder steps);
    # NRT's tiny config: embeddings 16, hidden 24, one hidden rating layer, 5 rating classes
    b, t, v, e, h = 16, 16, 204, 16, 24
    forward = (
        2 * b * (2 * e) * h + 2 * b * h * h + 2 * b * h * 1  # rating MLP: 2E -> H -> H -> 1
        + 2 * b * (2 * e + 5) * h  # GRU initial state from [e_u; e_i; one-hot rating]
        + t * (2 * b * e * 3 * h + 2 * b * h * 3 * h)  # GRU gates: input and hidden products
        + 2 * b * t * h * v  # output projection
    )
    assert row["flops"] == 3 * forward  # every product has an input and a weight gradient
    assert row["model"] == "nrt" and row["batch"] == b and row["median_s"] > 0
    assert set(result["matmul_gflops"]) == {"fp32"}
