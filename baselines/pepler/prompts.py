"""PEPLER-D's discrete prompt: the features of a user's and an item's training records, as GPT-2 tokens.

For (u, i) the reference (discrete.py with utils.Batchify2) writes the features both share first, then
the others, space-joined, and keeps the first --words GPT-2 tokens. Its sets are ordered by Python's
hash; here each part is sorted, so the prompt does not depend on the process. GPT-2's byte-level BPE
tokenises every space-led word on its own, so a prompt is the concatenation of its features' tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class PromptTable:
    """Features (their GPT-2 ids) and, per dense user and item index, the features of its training records."""

    features: list[str]
    feature_tokens: list[list[int]]
    user_features: list[list[int]]  # sorted feature indices per user index
    item_features: list[list[int]]
    max_tokens: int

    @classmethod
    def build(
        cls,
        records: Iterable[tuple[int, int, str]],
        n_users: int,
        n_items: int,
        encode: Callable[[str], list[int]],
        max_tokens: int,
    ) -> PromptTable:
        """From (user index, item index, feature) of the training records (empty features skipped)."""
        users: list[set[str]] = [set() for _ in range(n_users)]
        items: list[set[str]] = [set() for _ in range(n_items)]
        for u, i, feature in records:
            if feature:
                users[u].add(feature)
                items[i].add(feature)
        features = sorted(set().union(*users, *items))
        index = {f: k for k, f in enumerate(features)}
        return cls(
            features=features,
            feature_tokens=[encode(f) for f in features],
            user_features=[sorted(index[f] for f in s) for s in users],
            item_features=[sorted(index[f] for f in s) for s in items],
            max_tokens=max_tokens,
        )

    def prompt(self, user: int, item: int) -> list[int]:
        """GPT-2 ids of (user, item)'s prompt: shared features, then the others; at most max_tokens."""
        u, i = self.user_features[user], self.item_features[item]
        shared = sorted(set(u) & set(i))
        rest = sorted(set(u) ^ set(i))
        out: list[int] = []
        for k in shared + rest:
            out += self.feature_tokens[k]
            if len(out) >= self.max_tokens:
                break
        return out[: self.max_tokens]

    def batch(
        self, users: torch.Tensor, items: torch.Tensor, pad_id: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded prompt ids [B, P] and their mask [B, P] (1 on prompt tokens), P >= 1. A pair with no
        feature at all gets one `<pad>` that is attended (as the reference attends its prompts' pads), so
        every row has a position to predict `<bos>` from."""
        rows = [self.prompt(int(u), int(i)) for u, i in zip(users.tolist(), items.tolist(), strict=True)]
        width = max(1, max((len(r) for r in rows), default=0))
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for b, row in enumerate(rows):
            if row:
                ids[b, width - len(row) :] = torch.tensor(row, dtype=torch.long)
                mask[b, width - len(row) :] = 1
            else:
                mask[b, width - 1] = 1
        return ids.to(users.device), mask.to(users.device)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "feature_tokens": self.feature_tokens,
            "user_features": self.user_features,
            "item_features": self.item_features,
            "max_tokens": self.max_tokens,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PromptTable:
        return cls(
            features=list(d["features"]),
            feature_tokens=[list(map(int, t)) for t in d["feature_tokens"]],
            user_features=[list(map(int, t)) for t in d["user_features"]],
            item_features=[list(map(int, t)) for t in d["item_features"]],
            max_tokens=int(d["max_tokens"]),
        )
