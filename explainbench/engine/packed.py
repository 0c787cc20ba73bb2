"""Linear layers prepacked for the CPU's bf16 units, for the many small products of greedy decoding.

Under bf16 autocast on the CPU a linear layer's call rounds its fp32 weight to bf16 (autocast keeps that
copy for the rest of the autocast region) and oneDNN then rearranges the bf16 weight into its blocked
layout, on every call. A decoding loop calls the same layers once per generated word with the same
weights, so that rearrangement is repeated work: at MVAE's decoding shapes (256 rows, d 768) the
projections ran at 320-390 GFLOP/s under autocast and at 400-440 prepacked (docs/benchmarks.md).
PackedLinear holds the weight rounded and rearranged once (oneDNN's `_reorder_linear_weight`, the
layout torch.compile's freezing uses) and computes y = x W^T + b with oneDNN's linear, optionally with
the following GELU fused in.

Same equation and the same rounding as autocast: x, W and b are rounded to bf16, products are
accumulated in fp32, y is rounded to bf16. The one difference is a fused GELU: it is applied to the fp32
accumulator before the rounding (autocast rounds y, then computes GELU on the bf16 value and rounds
again), so it is the more accurate of the two.

Used only where it applies: the CPU, bf16 autocast on, no autograd (decoding), a CPU with native bf16
(AVX512-BF16 or AMX) and a torch whose oneDNN build has these operators; `packing_applies` says so, and
callers keep their plain path otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

from explainbench.engine.precision import cpu_has_bf16

T = TypeVar("T")

ACTIVATIONS = ("none", "gelu_tanh")


@functools.cache  # asked on every eval-mode call of a packable layer; the answer is the process's
def _ops_available() -> bool:
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        return bool(
            torch.backends.mkldnn.is_available()
            and ops is not None
            and hasattr(ops, "_linear_pointwise")
            and hasattr(ops, "_reorder_linear_weight")
        )
    except (AttributeError, RuntimeError):  # an older torch, or a build without oneDNN
        return False


def _cpu_autocast_bf16() -> bool:
    try:
        return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    except (TypeError, AttributeError):  # torch < 2.4 spells it per device
        return torch.is_autocast_cpu_enabled() and torch.get_autocast_cpu_dtype() == torch.bfloat16


def packing_applies(device: torch.device) -> bool:
    """True on the CPU under bf16 autocast with autograd off, where the CPU computes bf16 natively and
    oneDNN's packed linear exists (elsewhere autocast's own path, which also runs without bf16 units)."""
    return (
        device.type == "cpu"
        and not torch.is_grad_enabled()
        and _cpu_autocast_bf16()
        and cpu_has_bf16()
        and _ops_available()
    )


@dataclass(frozen=True)
class PackedLinear:
    """y = act(x W^T + b) in bf16 with W prepacked; weight is oneDNN's layout of W [out, in]."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    out_features: int

    @classmethod
    def pack(cls, weight: torch.Tensor, bias: torch.Tensor | None, rows: int) -> PackedLinear:
        """weight [out, in] (nn.Linear's layout; a GPT-2 Conv1D's weight is its transpose), bias [out] or
        None; rows: the number of rows a call will usually have (oneDNN picks its blocking for it)."""
        with torch.no_grad():
            w = weight.detach().to(torch.bfloat16).contiguous()
            packed = torch.ops.mkldnn._reorder_linear_weight(w, max(1, rows))
            b = bias.detach().to(torch.bfloat16).contiguous() if bias is not None else None
        return cls(weight=packed, bias=b, out_features=int(weight.shape[0]))

    def __call__(self, x: torch.Tensor, activation: str = "none") -> torch.Tensor:
        """x [..., in] (any float dtype; rounded to bf16) -> bf16 [..., out]."""
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
        attr, algorithm = ("gelu", "tanh") if activation == "gelu_tanh" else ("none", "")
        rows = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
        y = torch.ops.mkldnn._linear_pointwise(rows, self.weight, self.bias, attr, [], algorithm)
        return y.view(*x.shape[:-1], self.out_features)


def weights_version(tensors: Iterable[torch.Tensor]) -> tuple[tuple[int, int], ...]:
    """Identity and in-place version counter of each tensor: changes whenever an optimiser step (or any
    in-place write) changes one of them, so a cache of packed weights keyed on it is never stale."""
    return tuple((id(t), t._version) for t in tensors)


class PackCache(Generic[T]):
    """One packed value per weights version: `get(weights, build)` returns the value built for the current
    version of `weights`, building it again whenever one of them has changed.

    oneDNN's packed tensors are opaque (no storage to copy or pickle), so a copy or an unpickled module
    gets an empty cache and packs on its next use."""

    def __init__(self) -> None:
        self._version: tuple[tuple[int, int], ...] | None = None
        self._value: T | None = None

    def get(self, weights: Iterable[torch.Tensor], build: Callable[[], T]) -> T:
        version = weights_version(weights)
        if self._value is None or self._version != version:
            self._value, self._version = build(), version
        return self._value

    def __deepcopy__(self, memo: dict) -> PackCache[T]:
        return PackCache()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()  # type: ignore[misc]
