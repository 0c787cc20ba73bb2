"""Sets of 64-bit keys for the importers' duplicate rule, 8 bytes a key, asked a chunk at a time.

A Python set of ints costs about 70 bytes a key: three of them (the duplicate rule's keys) over Yelp's 7
million reviews would be 1.5 GB. Here the keys live in sorted int64 arrays ("runs"), each at least
twice the size of the next: a new run is merged into the last while it is more than half that run's
size. So there are at most log2(n) runs, every key is merged O(log n) times, and a lookup is one binary
search per run.
"""

from __future__ import annotations

import numpy as np


class KeySet:
    """A growing set of int64 keys with vectorised membership (`contains`) and insertion (`add`)."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted, disjoint; each at least twice the next

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is in the set (bool array of keys' shape)."""
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, keys)
            inside = at < len(run)
            found[inside] |= run[at[inside]] == keys[inside]
        return found

    def add(self, keys: np.ndarray) -> None:
        """Add keys that are not in the set (duplicates among them are fine)."""
        run = np.unique(np.asarray(keys, dtype=np.int64))
        if run.size == 0:
            return
        while self._runs and len(self._runs[-1]) < 2 * len(run):
            run = np.sort(np.concatenate([self._runs.pop(), run]), kind="stable")
        self._runs.append(run)


def repeats_within(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """For each row: whether it is among `among` (a bool mask) and an earlier row among them has the
    same key. The rows' order is the file's, so the first of equal keys is the one kept."""
    rows = np.flatnonzero(among)
    repeated = np.ones(len(rows), dtype=bool)
    _, first = np.unique(keys[rows], return_index=True)  # index of each key's first occurrence
    repeated[first] = False
    out = np.zeros(len(keys), dtype=bool)
    out[rows] = repeated
    return out
