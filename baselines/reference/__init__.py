"""Reference explainers: honest floors that copy a training explanation instead of generating one.

- `random-train`: a training explanation drawn at random (seeded, per request).
- `global-popular`: the most frequent training explanation among records of the request's
  sentiment (positive when rating >= positive_threshold, as the paper derives E_r from the rating).
- `item-popular`: the most frequent training explanation of the request's item, falling back to the
  user's, then to the global one.

Every copied sentence is stored in its test-reference form, `context.tokenizer.reference(text)`
(lower-cased, truncated to max_words, out-of-vocabulary words as <unk>), so that it is scored on
the same footing as a neural model's decoded words. "Most frequent" ties break to the
alphabetically first sentence, so the answer does not depend on record order.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from explainbench.api.explainer import (
    ExplainContext,
    Explainer,
    ExplainerConfig,
    ExplainRequest,
    Explanation,
    RequestError,
)
from explainbench.api.results import atomic_write_text

_STATE_FILE = "reference.json"
_FORMAT = 1


@dataclass
class ReferenceConfig(ExplainerConfig):
    """Settings shared by the three reference explainers."""

    seed: int = 1111  # random-train's draw is a hash of (seed, user, item)
    positive_threshold: float = 3.0  # rating >= threshold is positive (global-popular)
    unknown_ids: str = "error"  # error: unknown user/item -> RequestError | fallback: serve anyway

    def __post_init__(self) -> None:
        if self.unknown_ids not in ("error", "fallback"):
            raise ValueError(f"unknown_ids must be 'error' or 'fallback', not {self.unknown_ids!r}")


def most_frequent(sentences: Iterable[str]) -> str | None:
    """The most frequent non-empty sentence; ties go to the alphabetically first; None if none."""
    counts = Counter(s for s in sentences if s)
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def column(records: Any, name: str) -> list[Any]:
    """One column as a Python list (a datasets.Dataset iterated row by row is ~100x slower)."""
    if hasattr(records, "select_columns"):
        return list(records.select_columns([name])[:][name])
    return list(records[name])


def _normalised_column(train: Any, context: ExplainContext) -> list[str]:
    return [context.tokenizer.reference(text or "") for text in column(train, "explanation")]


def _check_rating(request: ExplainRequest) -> float:
    try:
        rating = float(request.rating)
    except (TypeError, ValueError):
        raise RequestError(
            f"request ({request.user_id!r}, {request.item_id!r}) has rating {request.rating!r}; "
            "give a number"
        ) from None
    if not math.isfinite(rating):
        raise RequestError(
            f"request ({request.user_id!r}, {request.item_id!r}) has rating {request.rating!r}; "
            "give a finite number"
        )
    return rating


class _ReferenceExplainer(Explainer):
    """Shared fit-state checks and request validation; each subclass keeps its own tables."""

    config_class: ClassVar[type[ExplainerConfig]] = ReferenceConfig
    config: ReferenceConfig

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self.users: set[str] = set()
        self.items: set[str] = set()
        self._fitted = False

    def _remember_ids(self, train: Any) -> None:
        self.users = {str(u) for u in column(train, "user_id")}
        self.items = {str(i) for i in column(train, "item_id")}

    def _check(self, request: ExplainRequest) -> float:
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__}.explain() called before fit() or load()")
        rating = _check_rating(request)
        if self.config.unknown_ids == "error":
            if request.user_id not in self.users:
                raise RequestError(
                    f"unknown user {request.user_id!r}: not in the training split "
                    "(set unknown_ids=fallback to serve it anyway)"
                )
            if request.item_id not in self.items:
                raise RequestError(
                    f"unknown item {request.item_id!r}: not in the training split "
                    "(set unknown_ids=fallback to serve it anyway)"
                )
        return rating

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__}.save() called before fit()")
        payload = {
            "format": _FORMAT,
            "name": self.name,
            "config": self.config.to_dict(),
            "users": sorted(self.users),
            "items": sorted(self.items),
            "state": self._state(),
        }
        atomic_write_text(Path(directory) / _STATE_FILE, json.dumps(payload, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> _ReferenceExplainer:
        path = Path(directory) / _STATE_FILE
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("name") != cls.name or payload.get("format") != _FORMAT:
            raise ValueError(
                f"{path}: written by {payload.get('name')!r} (format {payload.get('format')}), "
                f"not by {cls.name!r} (format {_FORMAT})"
            )
        model = cls(cls.config_class.from_dict(payload["config"]))
        model.users = set(payload["users"])
        model.items = set(payload["items"])
        model._set_state(payload["state"])
        model._fitted = True
        return model


class RandomTrain(_ReferenceExplainer):
    """A uniformly drawn training explanation; the draw hashes (seed, user, item), so it is
    repeatable, independent of batch order, and identical after save/load."""

    name: ClassVar[str] = "random-train"

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self.pool: list[str] = []

    def fit(self, train: Any, validation: Any, *, context: ExplainContext) -> RandomTrain:
        self._remember_ids(train)
        self.pool = [s for s in _normalised_column(train, context) if s]
        if not self.pool:
            raise ValueError("random-train: the training split has no non-empty explanation")
        self._fitted = True
        return self

    def _draw(self, request: ExplainRequest) -> int:
        key = f"{self.config.seed}\x1f{request.user_id}\x1f{request.item_id}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % len(self.pool)

    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        out = []
        for request in requests:
            self._check(request)
            out.append(Explanation(text=self.pool[self._draw(request)]))
        return out

    def _state(self) -> dict[str, Any]:
        return {"pool": self.pool}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.pool = list(state["pool"])


class GlobalPopular(_ReferenceExplainer):
    """The most frequent training explanation among records of the request's sentiment.

    A record (and a request) is positive when its rating >= positive_threshold. A sentiment with no
    training explanation falls back to the most frequent one overall.
    """

    name: ClassVar[str] = "global-popular"

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self.best: dict[str, str] = {}

    def fit(self, train: Any, validation: Any, *, context: ExplainContext) -> GlobalPopular:
        self._remember_ids(train)
        sentences = _normalised_column(train, context)
        positive = [float(r) >= self.config.positive_threshold for r in column(train, "rating")]
        overall = most_frequent(sentences)
        if overall is None:
            raise ValueError("global-popular: the training split has no non-empty explanation")
        pos = most_frequent(s for s, p in zip(sentences, positive, strict=True) if p)
        neg = most_frequent(s for s, p in zip(sentences, positive, strict=True) if not p)
        self.best = {"all": overall, "positive": pos or overall, "negative": neg or overall}
        self._fitted = True
        return self

    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        out = []
        for request in requests:
            rating = self._check(request)
            key = "positive" if rating >= self.config.positive_threshold else "negative"
            out.append(Explanation(text=self.best[key]))
        return out

    def _state(self) -> dict[str, Any]:
        return {"best": self.best}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.best = dict(state["best"])


class ItemPopular(_ReferenceExplainer):
    """The item's most frequent training explanation; else the user's; else the global one."""

    name: ClassVar[str] = "item-popular"

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self.by_item: dict[str, str] = {}
        self.by_user: dict[str, str] = {}
        self.overall: str = ""

    def fit(self, train: Any, validation: Any, *, context: ExplainContext) -> ItemPopular:
        self._remember_ids(train)
        sentences = _normalised_column(train, context)
        per_item: dict[str, list[str]] = {}
        per_user: dict[str, list[str]] = {}
        users, items = column(train, "user_id"), column(train, "item_id")
        for user, item, sentence in zip(users, items, sentences, strict=True):
            per_item.setdefault(str(item), []).append(sentence)
            per_user.setdefault(str(user), []).append(sentence)
        overall = most_frequent(sentences)
        if overall is None:
            raise ValueError("item-popular: the training split has no non-empty explanation")
        self.overall = overall
        self.by_item = {k: b for k, v in per_item.items() if (b := most_frequent(v)) is not None}
        self.by_user = {k: b for k, v in per_user.items() if (b := most_frequent(v)) is not None}
        self._fitted = True
        return self

    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        out = []
        for request in requests:
            self._check(request)
            text = self.by_item.get(request.item_id) or self.by_user.get(request.user_id) or self.overall
            out.append(Explanation(text=text))
        return out

    def _state(self) -> dict[str, Any]:
        return {"by_item": self.by_item, "by_user": self.by_user, "overall": self.overall}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.by_item = dict(state["by_item"])
        self.by_user = dict(state["by_user"])
        self.overall = str(state["overall"])
