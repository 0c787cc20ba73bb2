"""Does a trained model use who the user is and what the item is? The identity probe.

A model may beat the floors on BLEU and ROUGE with the language alone and never look at the user or
item (the finding of docs/models/peter.md and docs/models/mvae.md). This probe asks the trained network
directly, on records it was not trained on:

1. encode the split's records (validation by default) with the run's own tokenizer and id maps;
2. its validation objective (`ExplainerModule.validation_loss`, eval mode, the test architecture
   where a model has one), averaged over records, with the records' true user and item ids;
3. the same with the user ids shuffled across the records, with the item ids shuffled, and with
   both (one seeded permutation each): the same users and items, the same texts, ratings and
   features, but each text paired with somebody else's user or item;
4. the gain of the true ids = shuffled loss - true loss, for the total and for each named part.

A gain near 0 says the model ignores that identity; the gain is in the units of the model's objective
(PETER: nats per word of text and of context; MVAE: nats per sentence). Records whose user or item has
no training record are left out, as in validation during training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from explainbench.engine.batching import EncodedRecords, eval_loader
from explainbench.engine.trainer import validation_means

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from explainbench.engine.neural import NeuralExplainer

CONDITIONS = ("true", "users shuffled", "items shuffled", "both shuffled")


@dataclass
class IdentityProbeResult:
    """Mean objective (total and parts) per condition, and the gain of the true ids over each."""

    n: int  # records scored
    dropped: int  # records left out (user or item without a training record)
    losses: dict[str, dict[str, float]]  # condition -> {"total": .., part: ..}
    seed: int
    records: str = "validation"
    meta: dict[str, Any] = field(default_factory=dict)

    def gain(self, condition: str, part: str = "total") -> float:
        """Shuffled minus true: how much worse the objective gets without the real ids."""
        return self.losses[condition][part] - self.losses["true"][part]

    def to_dict(self) -> dict[str, Any]:
        gains = {
            c: {p: self.gain(c, p) for p in self.losses["true"]} for c in CONDITIONS if c != "true"
        }
        return {
            "n": self.n,
            "dropped": self.dropped,
            "records": self.records,
            "seed": self.seed,
            "losses": self.losses,
            "gains": gains,
            **self.meta,
        }


def _shuffled(records: EncodedRecords, *, users: bool, items: bool, seed: int) -> EncodedRecords:
    """A copy of the records with the user and/or item column permuted (seeded)."""
    n = len(records)
    gen = torch.Generator().manual_seed(seed)
    user_perm, item_perm = torch.randperm(n, generator=gen), torch.randperm(n, generator=gen)
    return dataclasses.replace(
        records,
        user=records.user[user_perm] if users else records.user,
        item=records.item[item_perm] if items else records.item,
    )


def mean_objective(
    explainer: NeuralExplainer, records: EncodedRecords, *, batch_size: int = 256
) -> dict[str, float]:
    """The record-weighted mean of validation_loss ("total" and its parts) over the records, eval mode
    (the engine's validation means, as the Trainer computes them)."""
    module = explainer.module
    if module is None:
        raise RuntimeError(f"{type(explainer).__name__}: call fit() or load() before probing it")
    was_training = module.training
    module.eval()
    try:
        means, _ = validation_means(
            module, eval_loader(records, batch_size=batch_size), next(module.parameters()).device
        )
    finally:
        module.train(was_training)
    return {"total": means.pop("loss"), **means}


def identity_probe(
    explainer: NeuralExplainer,
    records: datasets.Dataset,
    *,
    seed: int = 0,
    batch_size: int = 256,
    records_name: str = "validation",
) -> IdentityProbeResult:
    """The objective with true and with shuffled user / item ids (see the module docstring)."""
    encoded = explainer.encode(records)
    if len(encoded) < 2:
        raise ValueError(
            f"{records_name}: {len(encoded)} record(s) with a known user and item; the probe needs 2"
        )
    conditions = {
        "true": encoded,
        "users shuffled": _shuffled(encoded, users=True, items=False, seed=seed),
        "items shuffled": _shuffled(encoded, users=False, items=True, seed=seed),
        "both shuffled": _shuffled(encoded, users=True, items=True, seed=seed),
    }
    losses = {
        name: mean_objective(explainer, recs, batch_size=batch_size) for name, recs in conditions.items()
    }
    return IdentityProbeResult(
        n=len(encoded), dropped=encoded.dropped, losses=losses, seed=seed, records=records_name
    )
