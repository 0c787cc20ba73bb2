"""Data-parallel training under torchrun: one run, N processes, the same global batch as one process.

torchrun (torch.distributed.run) starts N copies of the command with RANK, WORLD_SIZE and LOCAL_RANK in
their environment; `init_from_env()` joins them into a process group (gloo on the CPU, NCCL on CUDA).
The training loop (trainer.py) then works on global batches exactly as one process does: the epoch's
permutation and its batches of config.batch_size records are the same, and each rank takes its own
contiguous share of every batch's rows (`share()`). After the backward pass the ranks sum their
gradients (one all-reduce over a flat buffer, `sum_gradients()`), so the optimiser sees one gradient
and every rank takes the same step.

For that gradient to be the one-process gradient, each rank's loss must be its part of the global
batch's loss. The trainer multiplies rank r's loss by its share of the batch's records, w_r = b_r / B,
which makes a mean over records exact (sum_r w_r * mean_r = the mean over all B records). A mean over
tokens (the text losses) is not a mean over records: `token_mean(total, count)` divides a rank's sum by
the batch's token count over all ranks, and by w_r (which the trainer's factor cancels), so
sum_r w_r * token_mean_r = (sum of every rank's sum) / (every rank's count). In one process, and
outside a training step (validation, decoding), token_mean is total / count.

Validation batches are dealt out whole (batch k to rank k mod N) and the batch-size-weighted sums
all-reduced, which gives the one-process means. Every rank then holds the same validation loss and
would take the same early-stopping and learning-rate decisions; rank 0's decision is broadcast all the
same, so no rounding can ever split the ranks. Checkpoints, train_log.jsonl and every results file are
written by rank 0 only; on resume every rank reads rank 0's checkpoint (one machine, or a shared
filesystem across machines).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's place in the group: rank, world size and its rank on this machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


SINGLE = Ranks()


def launched_by_torchrun() -> bool:
    """True when torchrun (or any launcher setting WORLD_SIZE > 1) started this process."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def init_from_env(device: str | torch.device = "cpu") -> Ranks:
    """Join the process group torchrun describes (idempotent); SINGLE when not under torchrun.

    gloo on the CPU, NCCL on CUDA, where each process takes the GPU cuda:LOCAL_RANK.
    """
    if not launched_by_torchrun():
        return SINGLE
    device = torch.device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return current()


def current() -> Ranks:
    """The initialised group's ranks, or SINGLE."""
    if not (dist.is_available() and dist.is_initialized()):
        return SINGLE
    return Ranks(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def rank_device(device: torch.device) -> torch.device:
    """cuda -> cuda:LOCAL_RANK under torchrun (one GPU per process); other devices unchanged."""
    ranks = current()
    if ranks.distributed and device.type == "cuda" and device.index is None:
        return torch.device("cuda", ranks.local_rank)
    return device


def barrier() -> None:
    if current().distributed:
        dist.barrier()


def shutdown() -> None:
    """Leave the process group (after the last collective)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_object(obj: object) -> object:
    """Rank 0's obj on every rank (the object itself in one process)."""
    if not current().distributed:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def share(n: int, ranks: Ranks) -> tuple[int, int]:
    """(start, stop) of this rank's rows of a global batch of n rows: contiguous, sizes differing by one
    at most, the larger shares first (torch.tensor_split's rule)."""
    base, extra = divmod(n, ranks.world_size)
    start = ranks.rank * base + min(ranks.rank, extra)
    return start, start + base + (1 if ranks.rank < extra else 0)


def shard_batches(batches: Iterable, ranks: Ranks) -> Iterator:
    """Whole batches dealt out: batch k to rank k mod world_size (validation)."""
    for k, batch in enumerate(batches):
        if k % ranks.world_size == ranks.rank:
            yield batch


def broadcast_parameters(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (the ranks start from one initialisation)."""
    if not current().distributed:
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def sum_gradients(params: list[torch.nn.Parameter]) -> None:
    """Sum every parameter's gradient over the ranks in one all-reduce of a flat float32 buffer.

    A gradient that is None on every rank stays None (the optimiser skips that parameter, as in one
    process); one that exists on any rank becomes the sum, with zeros where a rank had none.
    """
    if not current().distributed or not params:
        return
    device = params[0].device
    present = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=device)
    flat = torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).to(torch.float32) for p in params
    ] + [present])
    dist.all_reduce(flat)
    offset = 0
    for p, seen in zip(params, flat[-len(params):].tolist(), strict=True):
        size = p.numel()
        if seen > 0:
            grad = flat[offset : offset + size].view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = grad.clone()
            else:
                p.grad.copy_(grad)
        offset += size


def all_reduce_sum(values: list[float] | torch.Tensor, device: torch.device | str = "cpu") -> list[float]:
    """Element-wise sums over the ranks (float64); the values themselves in one process."""
    tensor = torch.as_tensor(values, dtype=torch.float64, device=device).clone()
    if current().distributed:
        dist.all_reduce(tensor)
    return tensor.tolist()


# ---------------------------------------------------------------------- the training step's share
_STEP_WEIGHT: float | None = None  # w_r = b_r / B while a sharded training step runs, else None


@contextmanager
def training_share(weight: float) -> Iterator[None]:
    """Mark a training step whose rank holds `weight` = b_r / B of the global batch (trainer.py)."""
    global _STEP_WEIGHT
    previous, _STEP_WEIGHT = _STEP_WEIGHT, float(weight)
    try:
        yield
    finally:
        _STEP_WEIGHT = previous


def token_mean(total: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """total / count, where total sums a loss over `count` tokens (or any units that are not records).

    Inside a sharded training step: total / (count over all ranks) / w_r, so that the trainer's
    w_r-weighted sum over ranks is the one-process mean over the global batch's tokens (module doc).
    A rank that holds no record of the batch (w_r = 0) contributes nothing and still joins the
    all-reduce, which every rank must call the same number of times.
    """
    weight = _STEP_WEIGHT
    if weight is None or not current().distributed:
        return total / count.clamp(min=1)
    global_count = count.detach().to(torch.float64).clone()
    if weight == 0.0:
        global_count.zero_()  # a stand-in row (trainer.py): its tokens are not the batch's
    dist.all_reduce(global_count)
    if weight == 0.0:
        return total * 0.0
    return total / (global_count.clamp(min=1).to(total.dtype) * weight)
