"""Token cross-entropy over a large vocabulary, computed in float32 a block of rows at a time.

    nll_n = logsumexp_v(x_nv) - x_{n, y_n}       (0 where y_n is the ignored id)
    d nll_n / d x_nv = softmax_v(x_n)_v - [v = y_n]

The same values and gradients as `F.cross_entropy(x, y, ignore_index=..., reduction="none")` with the
logits upcast to float32 (as CPU autocast does). torch's version materialises the whole [N, V] float32
copy, its log-softmax, a zero-filled gradient and the cast back, each a fresh page-faulted buffer: at
PETER's reference sizes (N = 2,048 words, V = 5,604) that was 61 ms of a 450 ms bf16 step on this
project's CPU. Here the forward keeps only the per-row log-sum-exp and the backward builds the gradient
a block of rows at a time (at most BLOCK_ELEMENTS float32 values), in float32, then casts each block to
the logits' dtype: 17 ms for the same shape (benchmarks in docs/benchmarks.md). On other devices it is
F.cross_entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from explainbench.engine.distributed import token_mean

BLOCK_ELEMENTS = 1 << 19  # float32 values per block: 2 MiB


def _rows_per_block(vocab: int) -> int:
    return max(1, BLOCK_ELEMENTS // max(1, vocab))


class _BlockwiseNLL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> torch.Tensor:
        keep = target != ignore_index
        safe = torch.where(keep, target, torch.zeros_like(target))
        rows = _rows_per_block(logits.shape[1])
        lse = torch.empty(logits.shape[0], dtype=torch.float32, device=logits.device)
        for start in range(0, logits.shape[0], rows):
            lse[start : start + rows] = torch.logsumexp(logits[start : start + rows].float(), dim=-1)
        picked = logits.gather(1, safe[:, None]).squeeze(1).float()
        ctx.save_for_backward(logits, safe, keep, lse)
        return (lse - picked) * keep

    @staticmethod
    def backward(ctx, grad_nll: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        logits, safe, keep, lse = ctx.saved_tensors
        scale = (grad_nll.float() * keep)[:, None]
        rows = _rows_per_block(logits.shape[1])
        grad = torch.empty_like(logits)
        for start in range(0, logits.shape[0], rows):
            end = start + rows
            block = (logits[start:end].float() - lse[start:end, None]).exp_().mul_(scale[start:end])
            block.scatter_add_(1, safe[start:end, None], -scale[start:end])
            grad[start:end] = block
        return grad, None, None


def token_nll(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Per-row negative log-likelihood [N] of target [N] under logits [N, V], in float32; 0 where ignored."""
    if logits.device.type != "cpu":
        return F.cross_entropy(logits.float(), target, ignore_index=ignore_index, reduction="none")
    return _BlockwiseNLL.apply(logits, target, ignore_index)


def mean_token_nll(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """F.cross_entropy(logits, target, ignore_index=...)'s mean over the rows not ignored (0 when none is).

    Under data-parallel training the mean is over the global batch's tokens (distributed.token_mean)."""
    kept = (target != ignore_index).sum()
    return token_mean(token_nll(logits, target, ignore_index).sum(), kept)
