"""Probes: experiments about models rather than benchmarks of them.

from explainbench.probe import run_noise_probe      # the MVAE paper's Figure 4 (section 4.5)
from explainbench.probe import identity_probe       # does a trained run use its users and items?
"""

from explainbench.probe.identity import IdentityProbeResult, identity_probe
from explainbench.probe.noise import NoiseProbeResult, bin_users, cosine, duplicate_half, run_noise_probe
from explainbench.probe.vae import PlainVAE, PlainVAEConfig

__all__ = [
    "IdentityProbeResult",
    "NoiseProbeResult",
    "PlainVAE",
    "PlainVAEConfig",
    "bin_users",
    "cosine",
    "duplicate_half",
    "identity_probe",
    "run_noise_probe",
]
