"""Five seeded random 8:1:1 splits in which every user and every item occurs in train.

The routine follows NETE's (REFERENCE-NOTES section 1): one random record of every user and one of
every item go to train first; the remaining records are shuffled and cut so that the split sizes are
as close to 8:1:1 as the forced training records allow. Vectorised with numpy (TripAdvisor scale in
well under a second per split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explainbench.data.errors import DataError
from explainbench.data.schema import SPLIT_NAMES

RATIO = (0.8, 0.1, 0.1)
METHOD = "one random record of every user and of every item into train, then the rest shuffled and cut 8:1:1"


@dataclass(frozen=True)
class Split:
    """Record positions per part, in their stored order."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def parts(self) -> dict[str, np.ndarray]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def sizes(self) -> dict[str, int]:
        return {k: int(v.size) for k, v in self.parts().items()}


def split_seeds(base: int, n_splits: int = 5) -> list[int]:
    """The seed of split k (1-based) is base + k - 1."""
    return [int(base) + k for k in range(n_splits)]


def random_split(user_index: np.ndarray, item_index: np.ndarray, seed: int) -> Split:
    """One 8:1:1 split of the records (dense user/item ints per record), seeded."""
    n = int(user_index.size)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    # The first record of every user / item in a random order = one random record of each.
    _, first_user = np.unique(user_index[order], return_index=True)
    _, first_item = np.unique(item_index[order], return_index=True)
    forced = np.zeros(n, dtype=bool)
    forced[order[first_user]] = True
    forced[order[first_item]] = True
    rest = order[~forced[order]]  # still in random order
    n_forced = int(forced.sum())
    target = int(round(RATIO[0] * n))
    if n_forced >= target:  # very sparse data: train holds just the forced records
        n_train, n_val = n_forced, (n - n_forced) // 2
    else:
        n_train, n_val = target, int(round(RATIO[1] * n))
    fill = n_train - n_forced
    train = np.concatenate([order[forced[order]], rest[:fill]])
    validation = rest[fill : fill + n_val]
    test = rest[fill + n_val :]
    return Split(train.astype(np.int64), validation.astype(np.int64), test.astype(np.int64))


def train_counts(user_index: np.ndarray, item_index: np.ndarray, split: Split) -> dict[str, tuple]:
    """Per part: (user_train_count, item_train_count) arrays aligned with that part's positions."""
    users = np.bincount(user_index[split.train], minlength=int(user_index.max(initial=-1)) + 1)
    items = np.bincount(item_index[split.train], minlength=int(item_index.max(initial=-1)) + 1)
    return {
        part: (users[user_index[pos]].astype(np.int32), items[item_index[pos]].astype(np.int32))
        for part, pos in split.parts().items()
    }


def check_split(split: Split, n_records: int, where: str) -> None:
    """Refuse positions outside 0..n_records-1, repeats, and overlaps between parts (DataError)."""
    seen = np.zeros(n_records, dtype=np.int8)
    for part in SPLIT_NAMES:
        pos = split.parts()[part]
        if pos.size and (pos.min() < 0 or pos.max() >= n_records):
            bad = int(pos[(pos < 0) | (pos >= n_records)][0])
            raise DataError(
                f"{where}/{part}.index: position {bad} is outside the {n_records} records "
                f"(0..{n_records - 1}); "
                "the index files do not belong to this reviews file"
            )
        counts = np.bincount(pos, minlength=n_records)
        if (counts > 1).any():
            bad = int(np.flatnonzero(counts > 1)[0])
            raise DataError(
                f"{where}/{part}.index: position {bad} is listed twice; fix or re-create the index file"
            )
        if (seen[pos] > 0).any():
            bad = int(pos[seen[pos] > 0][0])
            raise DataError(
                f"{where}/{part}.index: position {bad} is also in another part of the same split; "
                "train, validation and test must not overlap"
            )
        seen[pos] = 1
