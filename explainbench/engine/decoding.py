"""The one decoding routine every neural explainer shares: batched greedy argmax, as all references do.

Every reference (PETER, NRT, Att2Seq, NETE, PEPLER) decodes greedily for a fixed number of steps and
cuts each sentence at its first `<eos>` (REFERENCE-NOTES section 2); no beam search. Here the loop also
stops as soon as every row has produced `<eos>`, which changes no output.
"""

from __future__ import annotations

import torch

from explainbench.engine.module import Batch, ExplainerModule


@torch.no_grad()
def greedy_decode(
    module: ExplainerModule, batch: Batch, *, max_len: int, bos_id: int, eos_id: int
) -> torch.Tensor:
    """Generate up to max_len tokens per row; returns long [B, T] with T <= max_len.

    Row b holds the argmax tokens; from its first `<eos>` on every position is `<eos>`, so any
    decoder that stops at `<eos>` reads the sentence. Ties in argmax go to the lowest id (torch.argmax).
    The module runs in eval mode (no dropout) and is returned to its previous mode afterwards.
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
        state = module.start_decoding(batch)
        for _ in range(max_len):
            logits, state = module.decode_step(state, previous)
            token = logits.argmax(dim=-1)
            token = torch.where(finished, torch.full_like(token, eos_id), token)
            out.append(token)
            finished = finished | (token == eos_id)
            previous = token
            if bool(finished.all()):
                break
        return torch.stack(out, dim=1)
    finally:
        module.train(was_training)
