"""The one interface every explainer implements (built-in, baseline or plugin).

An explainer maps (user, item, rating) to one sentence that says why the user will like the item.
Metrics only ever see the strings it returns, so every model is scored by the same code.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from explainbench.data.tokenizer import ExplanationTokenizer


class NotReadyError(RuntimeError):
    """An explainer cannot run on this machine as configured (pretrained weights missing, ...); the
    message says what to do. Raised by Explainer.check_ready before any work or file is written."""


class RequestError(ValueError):
    """A request an explainer cannot serve (unknown user, item, bad rating, missing feature)."""


@dataclass(frozen=True)
class ExplainRequest:
    """What a recommender hands the explainer: who, what, and the rating it predicted."""

    user_id: str
    item_id: str
    rating: float
    feature: str | None = None  # only models that take a feature (PETER+, NETE) read it


@dataclass(frozen=True)
class Explanation:
    """The explainer's answer: the sentence and, where the model makes them, a rating and a feature."""

    text: str
    rating: float | None = None
    feature: str | None = None


@dataclass
class ExplainerConfig:
    """Base of every explainer's config dataclass; defaults are the reference defaults."""

    seed: int = 1111

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ExplainerConfig:
        """Build a config, refusing unknown keys with the list of known ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown config key(s) {unknown} for {cls.__name__}; known keys: {sorted(known)}"
            )
        return cls(**values)


@dataclass
class ExplainContext:
    """Everything fit() may need beyond the data: the shared tokenizer, where to write, which device."""

    tokenizer: ExplanationTokenizer
    run_dir: Path | None = None  # checkpoints and train_log.jsonl go here; None: keep nothing on disk
    device: str = "cpu"
    resume: bool = False
    progress: bool = True
    rating_range: tuple[float, float] = (1.0, 5.0)
    dataset_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Explainer(ABC):
    """Thin contract: config_class; fit(train, validation, context); explain(requests); save/load."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[ExplainerConfig]] = ExplainerConfig
    takes_feature: ClassVar[bool] = False  # True: the model reads the ground-truth feature (an easier task)

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        self.config = config if config is not None else self.config_class()

    @classmethod
    def check_ready(cls, config: ExplainerConfig) -> None:
        """Raise NotReadyError when this explainer cannot run here with config (e.g. pretrained weights
        that are not on the machine and cannot be fetched). The runner calls it before it writes
        anything; the default has nothing to check."""
        return None

    @classmethod
    def identity_inputs(cls, config: ExplainerConfig) -> dict[str, str]:
        """What besides config, code and data fixes this explainer's output: files it reads that the
        config only names (pretrained weights in a folder or a Hub snapshot), as name -> digest. It goes
        into the run's identity, so that other weights under the same name make another run. Called
        after check_ready; the default reads nothing."""
        return {}

    @abstractmethod
    def fit(
        self,
        train: datasets.Dataset,
        validation: datasets.Dataset,
        *,
        context: ExplainContext,
    ) -> Explainer:
        """Learn from the canonical records of the train split; validation drives early stopping."""

    @abstractmethod
    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        """One Explanation per request, in order. Unservable requests raise RequestError."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write everything explain() needs into directory (torch tensors, JSON; never pickles)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Explainer:
        """Rebuild an explainer written by save(); explain() must give identical outputs."""
