"""The one decoding routine every neural explainer shares: batched greedy argmax, as all references do.

Every reference (PETER, NRT, Att2Seq, NETE, PEPLER) decodes greedily for a fixed number of steps and
cuts each sentence at its first `<eos>` (REFERENCE-NOTES section 2); no beam search. Here the loop also
stops once every row has produced `<eos>`, which changes no output. Asking "has every row finished?"
makes the host wait for the device, so on a GPU it is asked every STOP_CHECK_EVERY steps (the host
queues the steps in between); on the CPU, where the answer costs nothing, after every step.
"""

from __future__ import annotations

import torch

from explainbench.engine.module import Batch, ExplainerModule

STOP_CHECK_EVERY = 8  # decoding steps between two "all finished?" checks on a GPU (1 on the CPU)


@torch.no_grad()
def greedy_decode(
    module: ExplainerModule,
    batch: Batch,
    *,
    max_len: int,
    bos_id: int,
    eos_id: int,
    stop_check_every: int | None = None,
) -> torch.Tensor:
    """Generate up to max_len tokens per row; returns long [B, T] with T <= max_len.

    Row b holds the argmax tokens; from its first `<eos>` on every position is `<eos>`, so any
    decoder that stops at `<eos>` reads the sentence (on a GPU up to STOP_CHECK_EVERY - 1 columns of
    `<eos>` may follow the step at which the last row finished). Ties in argmax go to the lowest id.
    The module runs in eval mode (no dropout) and is returned to its previous mode afterwards.
    stop_check_every: steps between "all finished?" checks; None = 1 on the CPU, STOP_CHECK_EVERY else.
    """
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    was_training = module.training
    module.eval()
    try:
        size = len(batch)
        device = batch.user.device
        previous = torch.full((size,), bos_id, dtype=torch.long, device=device)
        finished = torch.zeros(size, dtype=torch.bool, device=device)
        out: list[torch.Tensor] = []
        if size == 0 or max_len == 0:
            return torch.empty((size, 0), dtype=torch.long, device=device)
        check_every = stop_check_every or (1 if device.type == "cpu" else STOP_CHECK_EVERY)
        state = module.start_decoding(batch)
        for step in range(1, max_len + 1):
            logits, state = module.decode_step(state, previous)
            token = logits.float().argmax(dim=-1)  # exact for bf16 logits, and 3x faster there on the CPU
            token = torch.where(finished, torch.full_like(token, eos_id), token)
            out.append(token)
            finished = finished | (token == eos_id)
            previous = token
            if step % check_every == 0 and bool(finished.all()):
                break
        return torch.stack(out, dim=1)
    finally:
        module.train(was_training)
