"""The latent objectives of MVAE: TKL (eq. 6), its sum over scales L_MLF (eq. 7), beta annealing (eq. 11).

Distributions are diagonal Gaussians parameterised by mean and log-variance (the paper's sigma "is the
variance"; its logarithm keeps it positive without a constraint). KL values are summed over the latent
dimensions and averaged over the batch, like the NLL of eq. 9 (summed over words, averaged over the batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def _at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


@dataclass
class DiagonalGaussian:
    """N(mu, diag(exp(logvar))) at one scale; mu and logvar are [B, d_z]."""

    mu: torch.Tensor
    logvar: torch.Tensor

    def detach(self) -> DiagonalGaussian:
        """The same distribution, cut from the graph (a target that gradients do not move)."""
        return DiagonalGaussian(self.mu.detach(), self.logvar.detach())

    def float(self) -> DiagonalGaussian:
        """The same distribution in at least fp32: under bf16 autocast the KL terms (exp, squares and a sum
        over dimensions) are computed in fp32, as autocast does for losses; a no-op in fp32."""
        return DiagonalGaussian(_at_least_fp32(self.mu), _at_least_fp32(self.logvar))

    def sample(self) -> torch.Tensor:
        """The reparameterisation trick (Kingma and Welling 2014): mu + exp(logvar / 2) * eps."""
        return self.mu + torch.exp(0.5 * self.logvar) * torch.randn_like(self.mu)


def gaussian_kl(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """KL(q || p) per example [B], summed over dimensions, in closed form:

    0.5 * sum(logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1).
    """
    q, p = q.float(), p.float()
    ratio = torch.exp(q.logvar - p.logvar)
    mahalanobis = (q.mu - p.mu).pow(2) * torch.exp(-p.logvar)
    return 0.5 * (ratio + mahalanobis - 1.0 - (q.logvar - p.logvar)).sum(dim=-1)


def standard_normal_kl(q: DiagonalGaussian) -> torch.Tensor:
    """KL(q || N(0, I)) per example [B]: 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar)."""
    q = q.float()
    return 0.5 * (torch.exp(q.logvar) + q.mu.pow(2) - 1.0 - q.logvar).sum(dim=-1)


@dataclass
class TKLTerms:
    """The two KL divergences of eq. 6 at one scale (batch means), before weighting."""

    kl_std: torch.Tensor  # KL(N(mu_r, s_r) || N(0, I)), weighted by beta
    kl_prior: torch.Tensor  # KL(N(mu_r, s_r) || N(mu_p, s_p))

    def total(self, beta: float, standard_kl: bool = True) -> torch.Tensor:
        """TKL = beta KL(q_r || N(0, I)) + KL(q_r || q_p) (eq. 6); standard_kl=False drops the beta term."""
        return beta * self.kl_std + self.kl_prior if standard_kl else self.kl_prior


def tkl_terms(
    recognition: DiagonalGaussian, prior: DiagonalGaussian, track_target: bool = False
) -> TKLTerms:
    """Both KL divergences of eq. 6 for one pair of distributions with the same scale.

    track_target: the prior tracks the recognition distribution as its target: KL(q_r || q_p) has the
    same value, but its gradient reaches the prior's parameters only.
    """
    target = recognition.detach() if track_target else recognition
    return TKLTerms(
        kl_std=standard_normal_kl(recognition).mean(),
        kl_prior=gaussian_kl(target, prior).mean(),
    )


def mlf_loss(terms: list[TKLTerms], beta: float, standard_kl: bool = True) -> torch.Tensor:
    """L_MLF = sum over scales j of TKL(N(mu_r, s_r)_j || N(mu_p, s_p)_j) (eq. 7)."""
    return torch.stack([t.total(beta, standard_kl) for t in terms]).sum()


def annealed_beta(step: float, beta: float, k: float, a0: float) -> float:
    """beta' = beta * 1 / (1 + exp(-k (n_step - a0))) (eq. 11), computed without overflow."""
    x = -k * (step - a0)
    if x >= 0:
        e = math.exp(-x)
        return beta * e / (1.0 + e)
    return beta / (1.0 + math.exp(x))
