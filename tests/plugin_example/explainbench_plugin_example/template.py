"""`feature-template`: "the <feature> is <adjective>" from the item's most frequent training feature.

A plugin only needs the public contract: subclass explainbench.api.Explainer, give it a config
dataclass, implement fit / explain / save / load, and declare it in pyproject.toml under
[project.entry-points."explainbench.explainers"].
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from explainbench.api import (
    ExplainContext,
    Explainer,
    ExplainerConfig,
    ExplainRequest,
    Explanation,
    RequestError,
)


@dataclass
class FeatureTemplateConfig(ExplainerConfig):
    positive_word: str = "great"  # adjective for ratings >= threshold
    negative_word: str = "poor"
    threshold: float = 3.0


def _top(counter: Counter) -> str:
    """Most frequent key; ties go to the alphabetically first (independent of record order)."""
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


class FeatureTemplate(Explainer):
    """Fills "the <feature> is <word>" with the item's most frequent training feature."""

    name: ClassVar[str] = "feature-template"
    config_class: ClassVar[type[ExplainerConfig]] = FeatureTemplateConfig
    config: FeatureTemplateConfig

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self.item_feature: dict[str, str] = {}
        self.users: list[str] = []

    def fit(self, train: Any, validation: Any, *, context: ExplainContext) -> FeatureTemplate:
        rows = train.select_columns(["user_id", "item_id", "feature"])[:]  # columns as lists: fast
        per_item: dict[str, Counter] = {}
        overall: Counter = Counter()
        for item, feature in zip(rows["item_id"], rows["feature"], strict=True):
            if feature:
                per_item.setdefault(item, Counter())[feature] += 1
                overall[feature] += 1
        fallback = _top(overall) if overall else "item"
        self.item_feature = {item: fallback for item in set(rows["item_id"])}
        self.item_feature.update({item: _top(c) for item, c in per_item.items()})
        self.users = sorted(set(rows["user_id"]))
        return self

    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        users = set(self.users)
        out = []
        for r in requests:
            if r.user_id not in users:
                raise RequestError(f"unknown user {r.user_id!r}")
            if r.item_id not in self.item_feature:
                raise RequestError(f"unknown item {r.item_id!r}")
            if not isinstance(r.rating, (int, float)) or not math.isfinite(r.rating):
                raise RequestError(f"rating {r.rating!r} of ({r.user_id!r}, {r.item_id!r}) is not a number")
            feature = self.item_feature[r.item_id]
            positive = r.rating >= self.config.threshold
            word = self.config.positive_word if positive else self.config.negative_word
            out.append(Explanation(text=f"the {feature} is {word}", feature=feature))
        return out

    def save(self, directory: Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        state = {"config": self.config.to_dict(), "item_feature": self.item_feature, "users": self.users}
        (Path(directory) / "feature_template.json").write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> FeatureTemplate:
        state = json.loads((Path(directory) / "feature_template.json").read_text(encoding="utf-8"))
        model = cls(cls.config_class.from_dict(state["config"]))
        model.item_feature = dict(state["item_feature"])
        model.users = list(state["users"])
        return model
