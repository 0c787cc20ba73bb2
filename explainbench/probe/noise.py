"""The initial-noise probe of the MVAE paper, section 4.5 (Figure 4).

The paper: "we randomly sample half of all examples, then duplicate them and all involved input
embeddings to build a new dataset. In this dataset, there are two different instances of each user
with their corresponding respective examples. Subsequently, we train a naive VAE model on the dataset.
We sorted the user embeddings based on the number of their relevant training examples and calculate
normalized cosine similarity between the two instances of the same user. We cluster them into 80 bins."

What this module does, step by step:
1. draw `fraction` (0.5) of the training records of a split without replacement (seeded);
2. the new training set is those records plus a copy of each in which the user id becomes
   "<user>#copy" and the item id "<item>#copy": both instances of a user see exactly the same
   examples, so what still differs between their embeddings after training is the initial noise;
3. train the plain VAE (probe/vae.py) with the shared engine's Trainer;
4. for each sampled user, the cosine similarity of its two embeddings (the dot product of the two
   L2-normalised vectors: our reading of "normalized cosine similarity"), before and after training;
5. sort users by their number of training examples (per instance), cut the sorted list into `bins`
   groups of (nearly) equal size (numpy.array_split), and report each bin's mean count, mean
   similarity and the 95% normal-approximation CI of that mean.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explainbench.probe.vae import PlainVAE, PlainVAEConfig
from explainbench.report.tables import ReportError

COPY_SUFFIX = "#copy"
RECORD_COLUMNS = ("user_id", "item_id", "rating", "explanation", "feature", "sentiment")


@dataclass
class DuplicatedData:
    """The probe's training records (columns as lists) and the users that were duplicated."""

    columns: dict[str, list[Any]]
    sampled: list[int]  # indices of the sampled training records
    counts: dict[str, int]  # user -> records per instance


def duplicate_half(train: Any, *, fraction: float = 0.5, seed: int = 0) -> DuplicatedData:
    """Sample `fraction` of the records and append a copy of each with "#copy" user and item ids."""
    n = len(train)
    if not 0 < fraction <= 1:
        raise ReportError(f"fraction {fraction}: must be in (0, 1]")
    size = max(1, round(fraction * n))
    rng = np.random.default_rng(seed)
    sampled = sorted(int(i) for i in rng.choice(n, size=size, replace=False))
    sub = train.select(sampled)
    columns: dict[str, list[Any]] = {}
    for name in RECORD_COLUMNS:
        values = list(sub[name]) if name in sub.column_names else [None] * len(sub)
        if name in ("user_id", "item_id"):
            values = [str(v) for v in values]
            columns[name] = values + [f"{v}{COPY_SUFFIX}" for v in values]
        else:
            columns[name] = values + values
    counts = dict(Counter(columns["user_id"][:size]))
    return DuplicatedData(columns, sampled, counts)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two [N, d] arrays (0 where a row is all zeros)."""
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    denom = na * nb
    dots = (a * b).sum(axis=1)
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def bin_users(counts: Sequence[int], similarities: Sequence[float], bins: int) -> list[dict[str, float]]:
    """Sort users by count (stable), cut into min(bins, users) nearly equal groups, summarise each."""
    order = np.argsort(np.asarray(counts), kind="stable")
    c = np.asarray(counts, dtype=float)[order]
    s = np.asarray(similarities, dtype=float)[order]
    out = []
    for idx in np.array_split(np.arange(len(order)), min(bins, len(order))):
        sc = s[idx]
        ci = 1.96 * float(sc.std(ddof=1)) / math.sqrt(len(sc)) if len(sc) > 1 else 0.0
        out.append(
            {
                "n_users": int(len(idx)),
                "count_mean": float(c[idx].mean()),
                "count_min": float(c[idx].min()),
                "count_max": float(c[idx].max()),
                "similarity_mean": float(sc.mean()),
                "similarity_ci": ci,
            }
        )
    return out


@dataclass
class NoiseProbeResult:
    data: str
    split: int
    config: dict[str, Any]
    users: list[dict[str, Any]]
    bins: list[dict[str, float]]
    initial_similarity: float
    spearman: float | None  # rank correlation of count and similarity over users
    paths: list[Path]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["paths"] = [str(p) for p in self.paths]
        return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None when either side is constant."""

    def ranks(v: Sequence[float]) -> np.ndarray:
        a = np.asarray(v, dtype=float)
        order = np.argsort(a, kind="stable")
        r = np.empty(len(a))
        r[order] = np.arange(len(a), dtype=float)
        for value in np.unique(a):  # average the ranks of ties
            mask = a == value
            r[mask] = r[mask].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def run_noise_probe(
    data: str,
    out: Path,
    *,
    split: int = 1,
    config: PlainVAEConfig | None = None,
    fraction: float = 0.5,
    bins: int = 80,
    home: Path | None = None,
    device: str | None = None,
    progress: bool = False,
) -> NoiseProbeResult:
    """Run the probe on a prepared dataset and write <out>.png/.svg/.json and <out>.train_log.jsonl."""
    import datasets
    import torch

    from explainbench.api.results import atomic_write_json
    from explainbench.data import load_split, load_tokenizer
    from explainbench.engine.batching import IdMaps, encode_records, eval_loader, train_loader
    from explainbench.engine.seed import resolve_device, seed_everything
    from explainbench.engine.trainer import Trainer
    from explainbench.report.figures import data_path
    from explainbench.report.plots import figure_paths, plot_noise

    config = config or PlainVAEConfig()
    seed_everything(config.seed)
    dd = load_split(data, split, home)
    tokenizer = load_tokenizer(data, split, home)
    dup = duplicate_half(dd["train"], fraction=fraction, seed=config.seed)
    train = datasets.Dataset.from_dict(dup.columns)
    idmaps = IdMaps.from_dataset(train)
    encoded = encode_records(train, tokenizer, idmaps, max_words=config.max_words)
    validation = encode_records(dd["validation"], tokenizer, idmaps, max_words=config.max_words)
    if len(validation) == 0:  # no validation record has a sampled user and item: watch the training data
        validation = encoded
    module = PlainVAE(config, tokenizer.vocab, idmaps.n_users, idmaps.n_items)
    users = sorted(dup.counts)
    first = [idmaps.user(u) for u in users]
    second = [idmaps.user(f"{u}{COPY_SUFFIX}") for u in users]
    before = module.user_emb.weight.detach().cpu().numpy()
    initial = cosine(before[first], before[second])
    run_dir = Path(tempfile.mkdtemp(prefix="noise-probe-"))
    try:
        trainer = Trainer(
            module,
            config,
            run_dir=run_dir,
            device=resolve_device(device or config.device or None),
            progress=progress,
            log_name="train",
        )
        trainer.fit(
            lambda epoch: train_loader(encoded, batch_size=config.batch_size, seed=config.seed, epoch=epoch),
            lambda: eval_loader(validation, batch_size=config.eval_batch_size),
        )
        log = run_dir / "train_log.jsonl"
        png, _ = figure_paths(out)
        log_out = png.with_suffix(".train_log.jsonl")
        if log.is_file():
            log_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, log_out)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    with torch.no_grad():
        after = module.user_emb.weight.detach().cpu().numpy()
    final = cosine(after[first], after[second])
    counts = [dup.counts[u] for u in users]
    binned = bin_users(counts, final.tolist(), bins)
    rho = spearman(counts, final.tolist())
    title = f"Figure 4: initial noise in user embeddings ({data}, split {split}, plain VAE)"
    paths = plot_noise(binned, out, title=title, initial=float(initial.mean()))
    result = NoiseProbeResult(
        data,
        split,
        {**dataclasses.asdict(config), "fraction": fraction, "bins": bins},
        [
            {"user_id": u, "count": c, "similarity": float(s), "initial_similarity": float(i)}
            for u, c, s, i in zip(users, counts, final, initial, strict=True)
        ],
        binned,
        float(initial.mean()),
        rho,
        [*paths, data_path(out)],
    )
    if log_out.is_file():
        result.paths.append(log_out)
    atomic_write_json(data_path(out), {"figure": "fig4-noise", **result.to_dict()})
    return result
