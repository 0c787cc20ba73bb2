"""MVAE (multi-scale distribution deep VAE) and its four ablations; see docs/models/mvae.md."""

from explainbench.models.mvae.config import (
    MVAEConfig,
    MVAEMSEConfig,
    MVAENoKLConfig,
    MVAENoMLFConfig,
    MVAENoRNConfig,
)
from explainbench.models.mvae.model import MVAE, MVAEMSE, MVAEModule, MVAENoKL, MVAENoMLF, MVAENoRN

__all__ = [
    "MVAE",
    "MVAEMSE",
    "MVAEConfig",
    "MVAEMSEConfig",
    "MVAEModule",
    "MVAENoKL",
    "MVAENoKLConfig",
    "MVAENoMLF",
    "MVAENoMLFConfig",
    "MVAENoRN",
    "MVAENoRNConfig",
]
