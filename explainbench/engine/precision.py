"""Numeric precision of training, validation and decoding: fp32, bf16, or auto.

bf16 runs the forward pass and the loss under `torch.autocast` (matrix products in bfloat16 on the
CPU's bf16 units or the GPU's tensor cores) while the weights, the optimiser state and the gradients
stay in fp32 ("mixed precision": fp32 master weights). `auto` means bf16 where the hardware computes
it natively (a CUDA device that supports bf16; a CPU with AVX512-BF16 or AMX-BF16) and fp32 elsewhere.
The runner resolves `auto` before it names the run, so a run's config (and id) always says which
precision produced its numbers.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import torch

PRECISIONS = ("fp32", "bf16", "auto")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


class PrecisionError(ValueError):
    """An unknown precision name."""


@functools.cache
def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises native bf16 arithmetic (AVX512-BF16 or AMX-BF16; Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[-1].split())
            return any(flag in flags for flag in CPU_BF16_FLAGS)
    return False


def resolve_precision(requested: str, device: str | torch.device) -> str:
    """fp32 or bf16: `requested` itself, or for `auto` what the device computes natively."""
    if requested not in PRECISIONS:
        raise PrecisionError(f"precision {requested!r}: use one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    kind = torch.device(device).type
    if kind == "cuda":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    if kind == "cpu":
        return "bf16" if cpu_has_bf16() else "fp32"
    return "fp32"


@contextlib.contextmanager
def autocast(precision: str, device: str | torch.device) -> Iterator[None]:
    """torch.autocast to bfloat16 on the device when precision is bf16; nothing for fp32."""
    if precision == "auto":
        precision = resolve_precision(precision, device)
    if precision == "fp32":
        yield
        return
    if precision != "bf16":
        raise PrecisionError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16):
        yield
