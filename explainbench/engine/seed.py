"""One call that makes a run repeatable: seed Python, NumPy and torch, and pick deterministic kernels.

The references seed torch only (PETER) or nothing (NRT, Att2Seq) and shuffle with Python's unseeded
`random`, so their runs are not repeatable (REFERENCE-NOTES section 3). Every explainbench run calls
seed_everything(config.seed) before building its network, so two CPU runs with the same seed agree to the
last digit; batch order comes from a torch.Generator seeded per epoch (engine/batching.py).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed python `random`, NumPy's global generator and torch (CPU and every CUDA device).

    deterministic=True also asks torch for deterministic kernels (cuDNN, cuBLAS workspace); CPU kernels
    used by the engine are deterministic for a fixed number of threads.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def resolve_device(name: str | None) -> torch.device:
    """ "auto" (or empty) -> cuda when available else cpu; anything else is passed to torch.device."""
    if not name or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r} ({exc}); use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here; use --device cpu")
    return device
