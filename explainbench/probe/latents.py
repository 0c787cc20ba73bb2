"""The latent probe: what MVAE's recognition network encodes, and whether its prior can predict it.

At test time MVAE decodes from the prior means mu_p (Fig. 2b), which are trained to track the
recognition network's distributions (the KL of eq. 6). The prior sees only the user, the item and the
sentiment, so it can only learn the part of the recognition means mu_q that is organised by them. Per
scale in use, over the run's training records:

- posterior_sd / prior_sd: the spread of mu_q and of mu_p across records (mean over latent dimensions);
- item_share / user_share: the share of mu_q's variance explained by the per-item (per-user) means,
  next to item_chance / user_chance, the share that many group means explain in expectation when the
  codes do not depend on the group at all ((groups - 1) / (records - 1));
- prior_share: 1 - sum ||mu_q - mu_p||^2 / sum ||mu_q - mean mu_q||^2 (negative: mu_p is worse than the
  constant mean), on the training records and (probed_prior_share) on the probed records: a prior that
  memorised its training pairs explains much of the first and little of the second.

Then the reconstruction NLL per sentence on the probed records (validation by default), decoding from
z = mu_p (the test architecture), from z = the item's mean training mu_q (an oracle prior that knows
the item part of the codes exactly) and from z = the record's own mu_q (the training architecture
without noise). When the oracle is no better than mu_p, nothing item-shaped was there to learn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from explainbench.engine.batching import EncodedRecords, eval_loader

if TYPE_CHECKING:
    import datasets

    from explainbench.engine.neural import NeuralExplainer

NLL_CONDITIONS = ("prior mean (test)", "item mean of mu_q (oracle)", "own mu_q")


@dataclass(frozen=True)
class ScaleStats:
    scale: int  # 0 = the finest, as in the train log's kl_*_s0
    dim: int
    posterior_sd: float
    prior_sd: float
    item_share: float
    item_chance: float
    user_share: float
    user_chance: float
    prior_share: float
    probed_prior_share: float


@dataclass
class LatentProbeResult:
    n_train: int
    n_probed: int
    records: str
    scales: list[ScaleStats]
    nll: dict[str, float]  # NLL_CONDITIONS -> nats per sentence on the probed records
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": "latents",
            "n_train": self.n_train,
            "n_probed": self.n_probed,
            "records": self.records,
            "scales": [asdict(s) for s in self.scales],
            "nll_per_sentence": self.nll,
            **self.meta,
        }


def explained_share(codes: torch.Tensor, groups: torch.Tensor) -> tuple[float, float]:
    """(share of the codes' total variance explained by their group means, its chance level
    (G - 1) / (N - 1) for G non-empty groups among N codes)."""
    n = codes.shape[0]
    ids, inverse = torch.unique(groups, return_inverse=True)
    codes = codes.double()
    means = _group_means(codes, inverse, len(ids))
    total = float(((codes - codes.mean(0)) ** 2).sum())
    within = float(((codes - means[inverse]) ** 2).sum())
    share = 1.0 - within / total if total > 0 else 0.0
    return share, (len(ids) - 1) / max(n - 1, 1)


def _check_module(explainer: NeuralExplainer) -> Any:
    module = explainer.module
    if module is None:
        raise RuntimeError(f"{type(explainer).__name__}: call fit() or load() before probing it")
    if not all(hasattr(module, a) for a in ("prior_distributions", "recognition_distributions")):
        raise ValueError(f"{type(explainer).__name__}: not an MVAE; the latent probe reads MVAE's networks")
    if getattr(module, "recognition", None) is None:
        raise ValueError(
            f"{type(explainer).__name__}: no recognition network (mvae-norn, or removed), so no codes "
            "for the prior to track; use the identity probe"
        )
    return module


@torch.no_grad()
def _pass(
    module: Any, records: EncodedRecords, batch_size: int, item_means: list[torch.Tensor | None] | None = None
) -> tuple[dict[str, Any], dict[str, float] | None]:
    """One pass over the records: per scale (finest first), mu_q and mu_p of every record (on CPU), with
    the users and items; given the items' mean training codes (None on unused scales), also the mean
    reconstruction NLL per sentence under each of NLL_CONDITIONS."""
    device = next(module.parameters()).device
    used = module.used_scales()
    out: dict[str, Any] = {"user": [], "item": [], "mu_q": [[] for _ in used], "mu_p": [[] for _ in used]}
    sums = dict.fromkeys(NLL_CONDITIONS, 0.0)
    for batch in eval_loader(records, batch_size=batch_size):
        batch = batch.to(device)
        prior, h_0 = module.prior_distributions(batch)
        posterior = module.recognition_distributions(batch)
        out["user"].append(batch.user.cpu())
        out["item"].append(batch.item.cpu())
        for s in range(len(used)):
            out["mu_q"][s].append(posterior[s].mu.cpu())
            out["mu_p"][s].append(prior[s].mu.cpu())
        if item_means is None:
            continue
        latents = {
            NLL_CONDITIONS[0]: module.test_latents(prior),
            NLL_CONDITIONS[1]: [
                None if m is None else m[batch.item.cpu()].to(device) for m in item_means
            ],
            NLL_CONDITIONS[2]: [q.mu if u else None for q, u in zip(posterior, used, strict=True)],
        }
        for name, z in latents.items():
            sums[name] += float(module.reconstruction_nll(batch, h_0, z)[0]) * len(batch)
    out["user"], out["item"] = torch.cat(out["user"]), torch.cat(out["item"])
    out["mu_q"] = [torch.cat(x) for x in out["mu_q"]]
    out["mu_p"] = [torch.cat(x) for x in out["mu_p"]]
    n = len(out["item"])
    return out, ({k: v / n for k, v in sums.items()} if item_means is not None else None)


def _prior_share(q: torch.Tensor, p: torch.Tensor) -> float:
    total = float(((q - q.mean(0)) ** 2).sum())
    return 1.0 - float(((q - p) ** 2).sum()) / total if total > 0 else 0.0


def _group_means(codes: torch.Tensor, groups: torch.Tensor, n_groups: int) -> torch.Tensor:
    """[n_groups, dim]: the mean code of each group id 0..n_groups-1 (zeros for an empty group)."""
    sums = torch.zeros(n_groups, codes.shape[1], dtype=codes.dtype).index_add_(0, groups, codes)
    counts = torch.bincount(groups, minlength=n_groups).clamp(min=1).to(codes.dtype)
    return sums / counts[:, None]


def latent_probe(
    explainer: NeuralExplainer,
    train: datasets.Dataset,
    records: datasets.Dataset,
    *,
    batch_size: int = 256,
    records_name: str = "validation",
) -> LatentProbeResult:
    """The statistics of the module docstring; eval mode, trains nothing."""
    module = _check_module(explainer)
    encoded_train, encoded = explainer.encode(train), explainer.encode(records)
    if len(encoded_train) < 2 or len(encoded) < 1:
        raise ValueError(f"{records_name}: too few records with a known user and item to probe")
    was_training = module.training
    module.eval()
    try:
        codes, _ = _pass(module, encoded_train, batch_size)
        n_items = int(torch.cat([encoded_train.item, encoded.item]).max()) + 1
        used = module.used_scales()
        means = [
            _group_means(q, codes["item"], n_items) if u else None
            for q, u in zip(codes["mu_q"], used, strict=True)
        ]
        probed, nll = _pass(module, encoded, batch_size, item_means=means)
        scales = []
        for s in (s for s, u in enumerate(used) if u):
            q, p = codes["mu_q"][s], codes["mu_p"][s]
            item_share, item_chance = explained_share(q, codes["item"])
            user_share, user_chance = explained_share(q, codes["user"])
            scales.append(
                ScaleStats(
                    scale=s,
                    dim=q.shape[1],
                    posterior_sd=float(q.std(0).mean()),
                    prior_sd=float(p.std(0).mean()),
                    item_share=item_share,
                    item_chance=item_chance,
                    user_share=user_share,
                    user_chance=user_chance,
                    prior_share=_prior_share(q, p),
                    probed_prior_share=_prior_share(probed["mu_q"][s], probed["mu_p"][s]),
                )
            )
    finally:
        module.train(was_training)
    return LatentProbeResult(
        n_train=len(encoded_train), n_probed=len(encoded), records=records_name, scales=scales, nll=nll
    )
