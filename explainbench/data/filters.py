"""The MVAE paper's sparsity filter (section 4.1): keep a record when its user OR its item has fewer
than N reviews (N = 15; 20 for Amazon). Counts are taken over the records before filtering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULE = "keep a record when its user or its item has fewer than max_reviews reviews (counted before filtering)"


@dataclass(frozen=True)
class FilterResult:
    keep: np.ndarray  # bool mask over the input records
    max_reviews: int | None

    def to_dict(self) -> dict:
        return {
            "max_reviews": self.max_reviews,
            "rule": RULE if self.max_reviews is not None else "none",
            "records_before": int(self.keep.size),
            "records_after": int(self.keep.sum()),
        }


def sparsity_filter(user_index: np.ndarray, item_index: np.ndarray, max_reviews: int | None) -> FilterResult:
    """user_index / item_index: dense ints per record. max_reviews None keeps everything."""
    n = int(user_index.size)
    if max_reviews is None:
        return FilterResult(np.ones(n, dtype=bool), None)
    if max_reviews < 1:
        raise ValueError(f"max_reviews must be >= 1, got {max_reviews}")
    user_count = np.bincount(user_index)[user_index]
    item_count = np.bincount(item_index)[item_index]
    return FilterResult((user_count < max_reviews) | (item_count < max_reviews), int(max_reviews))
