"""Per-example sufficient statistics and their aggregation under example weights (sacreBLEU's design).

A StatTable holds, for every example (row), the numbers each metric sums (n-gram matches, sentence
ROUGE, METEOR, ...) plus "memberships": which rows contain which type (a distinct sentence for USR, a
feature word for FCR/DIV, an n-gram for distinct-n). Every score -- the corpus value, each bootstrap
resample, each bucket, each paired-test trial -- is `compute_metrics(table, W)` for a matrix of
non-negative integer example weights W (replicates x rows): the corpus value is W = ones, a
bootstrap resample is the count of each example in the resample. No text is scored twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from explainbench.metrics.registry import FAMILIES


class Interner:
    """Maps hashable keys (token tuples, words) to dense ids; shared by tables that are compared."""

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}

    def __call__(self, key: Hashable) -> int:
        ids = self.ids
        out = ids.get(key)
        if out is None:
            out = ids[key] = len(ids)
        return out


class Weights:
    """Example weights of a batch of replicates (c x rows) and the views every aggregation shares."""

    def __init__(self, W: np.ndarray) -> None:
        self.W = W
        self._positive: np.ndarray | None = None
        self._positive_f: np.ndarray | None = None
        self._masks: np.ndarray | None = None

    @property
    def positive(self) -> np.ndarray:
        """Bool (c x rows): the example is in the replicate."""
        if self._positive is None:
            self._positive = self.W > 0
        return self._positive

    @property
    def positive_f(self) -> np.ndarray:
        """The same as 0/1 in W's dtype (for matrix products)."""
        if self._positive_f is None:
            self._positive_f = self.positive.astype(self.W.dtype)
        return self._positive_f

    @property
    def row_masks(self) -> np.ndarray:
        """uint64 (rows x k): bit b of word b // 64 is set where replicate b holds the row."""
        if self._masks is None:
            c, n = self.W.shape
            padded = np.zeros((-(-c // 64) * 64, n), dtype=bool)
            padded[:c] = self.positive
            packed = np.packbits(padded, axis=0, bitorder="little")  # (bytes, rows)
            self._masks = np.ascontiguousarray(packed.T).view(np.uint64)
        return self._masks

    def count_bits(self, masks: np.ndarray) -> np.ndarray:
        """Per replicate, how many of the given (types x k) masks have its bit set."""
        bits = np.unpackbits(masks.view(np.uint8), axis=1, bitorder="little")
        return bits.sum(axis=0, dtype=np.int64)[: self.W.shape[0]].astype(np.float64)


@dataclass
class Membership:
    """Rows holding each type, entries grouped by type: rows[starts[t]:starts[t+1]] hold type t."""

    rows: np.ndarray  # int64 (E,)
    starts: np.ndarray  # int64 (T,)
    keys: np.ndarray  # int64 (T,): the interned (global) id of each type
    n_rows: int
    _plan: tuple | None = field(default=None, repr=False)
    _tids: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_rows(cls, row_types: Sequence[Iterable[int]]) -> Membership:
        """Build from, per row, the (distinct) type ids it holds."""
        sizes = np.fromiter(map(len, row_types), dtype=np.int64, count=len(row_types))
        types = np.fromiter(chain.from_iterable(row_types), dtype=np.int64, count=int(sizes.sum()))
        rows = np.repeat(np.arange(len(row_types), dtype=np.int64), sizes)
        return cls._from_pairs(types, rows, len(row_types))

    @classmethod
    def _from_pairs(cls, types: np.ndarray, rows: np.ndarray, n_rows: int) -> Membership:
        order = np.lexsort((rows, types))
        types, rows = types[order], rows[order]
        if len(types) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(rows=rows, starts=empty, keys=empty, n_rows=n_rows)
        starts = np.flatnonzero(np.r_[True, types[1:] != types[:-1]]).astype(np.int64)
        return cls(rows=rows, starts=starts, keys=types[starts], n_rows=n_rows)

    @property
    def n_types(self) -> int:
        return len(self.starts)

    def _df(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, len(self.rows)])

    def type_ids(self) -> np.ndarray:
        """Type index of each entry (0..T-1)."""
        if self._tids is None:
            self._tids = np.repeat(np.arange(self.n_types), self._df())
        return self._tids

    def subset(self, keep: np.ndarray, new_index: np.ndarray | None = None) -> Membership:
        """Restrict to rows `keep` (sorted row indices) renumbered 0..len(keep)-1.

        Filtering keeps entries grouped by type and, within a type, in row order: no re-sorting.
        """
        if new_index is None:
            new_index = np.full(self.n_rows, -1, dtype=np.int64)
            new_index[keep] = np.arange(len(keep))
        mapped = new_index[self.rows]
        sel = mapped >= 0
        rows = mapped[sel]
        types = self.type_ids()[sel]
        if len(types) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Membership(rows=rows, starts=empty, keys=empty, n_rows=len(keep))
        starts = np.flatnonzero(np.r_[True, types[1:] != types[:-1]]).astype(np.int64)
        return Membership(rows=rows, starts=starts, keys=self.keys[types[starts]], n_rows=len(keep))

    @staticmethod
    def stack(a: Membership, b: Membership) -> Membership:
        """b's rows under a's (b's rows shifted by a.n_rows); types matched by their interned keys."""
        types = np.r_[a.keys[a.type_ids()], b.keys[b.type_ids()]]
        return Membership._from_pairs(types, np.r_[a.rows, b.rows + a.n_rows], a.n_rows + b.n_rows)

    def _get_plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Types held by one row only are counted by a matrix-vector product; the others by OR-ing
        the bit masks of their rows (one bit per replicate)."""
        if self._plan is None:
            df = self._df()
            single = df == 1
            singles_per_row = np.bincount(self.rows[self.starts[single]], minlength=self.n_rows)
            multi_entries = np.repeat(~single, df)
            multi_rows = self.rows[multi_entries]
            multi_starts = np.r_[0, np.cumsum(df[~single])[:-1]].astype(np.int64)
            self._plan = (singles_per_row.astype(np.float64), multi_rows, multi_starts)
        return self._plan

    def present(self, wt: Weights) -> np.ndarray:
        """Number of types with positive total weight, per replicate (exact)."""
        c = wt.W.shape[0]
        if self.n_types == 0:
            return np.zeros(c)
        singles, multi_rows, multi_starts = self._get_plan()
        out = (wt.positive_f @ singles.astype(wt.W.dtype)).astype(np.float64)
        if len(multi_rows):
            masks = np.bitwise_or.reduceat(wt.row_masks[multi_rows], multi_starts, axis=0)
            out += wt.count_bits(masks)
        return out

    def counts(self, wt: Weights) -> np.ndarray:
        """Total weight of each type's rows, per replicate: float64 (replicates x types)."""
        if self.n_types == 0:
            return np.zeros((wt.W.shape[0], 0))
        gathered = np.take(wt.W, self.rows, axis=1)
        return np.add.reduceat(gathered, self.starts, axis=1).astype(np.float64)


@dataclass
class StatTable:
    """Per-example statistics of one system's outputs (see module docstring)."""

    columns: tuple[str, ...]
    dense: np.ndarray  # float64 (rows, len(columns))
    memberships: dict[str, Membership]
    n_feature_set: int = 0  # FCR denominator (0: feature metrics not computed)
    unit: np.ndarray | None = None  # int64 (rows,): user index of each row (by-user tests)
    flags: frozenset[str] = frozenset()  # which optional metric groups the table carries
    families: frozenset[str] = frozenset(FAMILIES)  # the metric families scored (registry.FAMILIES)
    signatures: dict[str, str] = field(default_factory=dict)  # run-time signatures (BERTScore's model)
    unavailable: dict[str, str] = field(default_factory=dict)  # metrics asked for that could not be computed

    @property
    def n(self) -> int:
        return self.dense.shape[0]

    def dense_as(self, dtype: np.dtype) -> np.ndarray:
        """The dense statistics in the weights' dtype (float32 copy cached for bootstrap replicates)."""
        if np.dtype(dtype) == self.dense.dtype:
            return self.dense
        cached = self.__dict__.get("_dense32")
        if cached is None:
            cached = self.__dict__["_dense32"] = self.dense.astype(np.float32)
        return cached

    def col(self, name: str) -> int:
        return self.columns.index(name)

    def subset(self, keep: np.ndarray) -> StatTable:
        """The statistics of rows `keep` (sorted), as their own table."""
        keep = np.asarray(keep, dtype=np.int64)
        new_index = np.full(self.n, -1, dtype=np.int64)
        new_index[keep] = np.arange(len(keep))
        return StatTable(
            columns=self.columns,
            dense=self.dense[keep],
            memberships={k: m.subset(keep, new_index) for k, m in self.memberships.items()},
            n_feature_set=self.n_feature_set,
            unit=None if self.unit is None else self.unit[keep],
            flags=self.flags,
            families=self.families,
            signatures=self.signatures,
        )


def stack_tables(a: StatTable, b: StatTable) -> StatTable:
    """Rows of a, then rows of b (approximate randomisation); both must share their interners."""
    if a.columns != b.columns or a.memberships.keys() != b.memberships.keys():
        raise ValueError("cannot stack statistics of different metric sets")
    return StatTable(
        columns=a.columns,
        dense=np.vstack([a.dense, b.dense]),
        memberships={k: Membership.stack(a.memberships[k], b.memberships[k]) for k in a.memberships},
        n_feature_set=a.n_feature_set,
        unit=None if a.unit is None or b.unit is None else np.r_[a.unit, b.unit],
        flags=a.flags & b.flags,
        families=a.families & b.families,
        signatures={**b.signatures, **a.signatures},
    )


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval (linear interpolation between order statistics)."""
    lo, hi = np.percentile(values, [50 * (1 - level), 100 - 50 * (1 - level)])
    return float(lo), float(hi)


def bootstrap_weights(
    n: int,
    n_boot: int,
    rng: np.random.Generator,
    chunk: int,
    units: np.ndarray | None = None,
    dtype: type = np.float32,
) -> Iterable[np.ndarray]:
    """Yield (chunk x n) example-weight matrices: counts of each example in n_boot resamples.

    With `units` (a unit index per example, e.g. its user) whole units are resampled (cluster
    bootstrap). Counts are exact in float32; replicate sums then carry float32 rounding (about 1e-7
    relative), which is far below any interval's width.
    """
    n_units = n if units is None else int(units.max()) + 1
    done = 0
    while done < n_boot:
        c = min(chunk, n_boot - done)
        idx = rng.integers(0, n_units, size=(c, n_units))
        idx += (np.arange(c) * n_units)[:, None]
        counts = np.bincount(idx.ravel(), minlength=c * n_units).reshape(c, n_units).astype(dtype)
        yield counts if units is None else counts[:, units]
        done += c


def chunk_size(n: int, budget: int = 4_000_000) -> int:
    """Replicates per chunk so that a chunk's weight matrix stays near `budget` entries."""
    return max(1, min(1000, budget // max(n, 1)))


def group_indices(keys: Sequence[Hashable]) -> dict[Hashable, np.ndarray]:
    """Row indices of each distinct key, keys in first-seen order."""
    out: dict[Hashable, list[int]] = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}
