"""TKL (eq. 6), L_MLF (eq. 7), beta annealing (eq. 11) and its a0 against closed forms and hand values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from explainbench.models.mvae.calibrate import Convergence, a0_from_train_log, convergence
from explainbench.models.mvae.calibrate import main as calibrate_main
from explainbench.models.mvae.tkl import (
    DiagonalGaussian,
    annealed_beta,
    gaussian_kl,
    mlf_loss,
    standard_normal_kl,
    tkl_terms,
)


def _gaussian(seed: int, shape: tuple[int, int] = (6, 5)) -> DiagonalGaussian:
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    logvar = torch.randn(shape, generator=g, dtype=torch.float64)
    return DiagonalGaussian(mu, logvar)


def _torch_normal(q: DiagonalGaussian) -> Normal:
    return Normal(q.mu, torch.exp(0.5 * q.logvar))


def test_gaussian_kl_equals_torch_distributions() -> None:
    q, p = _gaussian(0), _gaussian(1)
    expected = kl_divergence(_torch_normal(q), _torch_normal(p)).sum(-1)
    torch.testing.assert_close(gaussian_kl(q, p), expected, atol=1e-6, rtol=0)


def test_standard_normal_kl_equals_torch_distributions() -> None:
    q = _gaussian(2)
    standard = Normal(torch.zeros_like(q.mu), torch.ones_like(q.mu))
    expected = kl_divergence(_torch_normal(q), standard).sum(-1)
    torch.testing.assert_close(standard_normal_kl(q), expected, atol=1e-6, rtol=0)


def test_kl_hand_value_one_dimension() -> None:
    # KL(N(1, 1) || N(0, 4)) = log 2 + (1 + 1) / 8 - 1/2
    f64 = torch.float64
    q = DiagonalGaussian(torch.tensor([[1.0]], dtype=f64), torch.tensor([[0.0]], dtype=f64))
    p = DiagonalGaussian(torch.tensor([[0.0]], dtype=f64), torch.tensor([[math.log(4.0)]], dtype=f64))
    assert gaussian_kl(q, p).item() == pytest.approx(math.log(2) + 0.25 - 0.5, abs=1e-12)
    assert standard_normal_kl(q).item() == pytest.approx(0.5, abs=1e-12)  # 0.5 * (1 + 1 - 1 - 0)


def test_tkl_and_mlf_sum() -> None:
    pairs = [(_gaussian(10 + s), _gaussian(20 + s)) for s in range(3)]
    terms = [tkl_terms(q, p) for q, p in pairs]
    beta = 0.001
    expected = 0.0
    for q, p in pairs:
        standard = Normal(torch.zeros_like(q.mu), torch.ones_like(q.mu))
        kl_std = kl_divergence(_torch_normal(q), standard).sum(-1).mean()
        kl_prior = kl_divergence(_torch_normal(q), _torch_normal(p)).sum(-1).mean()
        expected += beta * kl_std.item() + kl_prior.item()
    assert mlf_loss(terms, beta).item() == pytest.approx(expected, abs=1e-6)
    no_std = sum(kl_divergence(_torch_normal(q), _torch_normal(p)).sum(-1).mean().item() for q, p in pairs)
    assert mlf_loss(terms, beta, standard_kl=False).item() == pytest.approx(no_std, abs=1e-6)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (2000, 0.0005),  # the midpoint: beta / 2
        (0, 0.001 / (1 + 148.4131591025766)),  # exp(5)
        (4000, 0.001 / (1 + 0.006737946999085467)),  # exp(-5)
        (2400, 0.001 / (1 + 0.36787944117144233)),  # exp(-1)
        (10**7, 0.001),
        (-(10**7), 0.0),
    ],
)
def test_annealing_eq11(step: int, expected: float) -> None:
    assert annealed_beta(step, beta=0.001, k=0.0025, a0=2000) == pytest.approx(expected, rel=1e-12, abs=1e-18)


def test_reparameterised_sample_has_the_distribution_moments() -> None:
    torch.manual_seed(0)
    logvar = torch.log(torch.tensor([[0.25, 4.0]])).expand(200_000, 2)
    q = DiagonalGaussian(torch.full((200_000, 2), 3.0), logvar)
    z = q.sample()
    torch.testing.assert_close(z.mean(0), torch.tensor([3.0, 3.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), torch.tensor([0.25, 4.0]), atol=0.05, rtol=0)


def test_a0_is_half_the_steps_to_the_best_validation_loss(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lines = [
        {"stage": "train", "kind": "step", "epoch": 1, "step": 1, "loss": 9.0},
        {"stage": "train", "kind": "epoch", "epoch": 1, "step": 40, "val_loss": 5.0},
        {"stage": "train", "kind": "epoch", "epoch": 2, "step": 80, "val_loss": 4.0},
        {"stage": "train", "kind": "epoch", "epoch": 3, "step": 121, "val_loss": 3.5},
        {"stage": "train", "kind": "epoch", "epoch": 4, "step": 160, "val_loss": 3.6},
        {"stage": "other", "kind": "epoch", "epoch": 1, "step": 999, "val_loss": 0.1},
    ]
    (tmp_path / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert convergence(tmp_path) == Convergence(epoch=3, step=121, val_loss=3.5)
    assert a0_from_train_log(tmp_path / "train_log.jsonl") == 60
    assert calibrate_main([str(tmp_path)]) == 0
    assert "anneal_a0 = 60" in capsys.readouterr().out
    assert calibrate_main([str(tmp_path / "missing")]) == 2
    assert "no such train log" in capsys.readouterr().err
    # a run on the schedule's clock (schedule_epoch_steps): a0 is read on that clock, as eq. 11 uses it
    clocked = tmp_path / "clocked"
    clocked.mkdir()
    lines[3] = {**lines[3], "schedule_step": 121 * 2.5}
    (clocked / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert a0_from_train_log(clocked) == 151  # 302.5 // 2
    assert calibrate_main([str(clocked)]) == 0
    assert "302 on the schedule's clock" in capsys.readouterr().out
