"""NeuralExplainer: the Explainer every neural model subclasses; a model supplies only its network.

A subclass sets `name`, `config_class` (a NeuralConfig dataclass with the reference defaults) and
implements build_module(vocab, n_users, n_items). This base does the rest: id maps from the training
split, encoding records with the shared tokenizer, training with the Trainer, batched greedy decoding,
and save/load (config.json, idmaps.json, tokenizer.json, weights.pt; weights loaded with weights_only=True).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from explainbench.api.explainer import (
    ExplainContext,
    Explainer,
    ExplainRequest,
    Explanation,
)
from explainbench.api.results import atomic_write_text
from explainbench.data.vocab import Vocab
from explainbench.engine.batching import (
    BatchLoader,
    EncodedRecords,
    IdMaps,
    encode_records,
    encode_requests,
    eval_loader,
    train_loader,
)
from explainbench.engine.checkpoint import CheckpointError, atomic_torch_save
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.distributed import rank_device
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig
from explainbench.engine.precision import autocast, resolve_precision
from explainbench.engine.seed import resolve_device, seed_everything
from explainbench.engine.trainer import Trainer, TrainResult

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from explainbench.data.tokenizer import ExplanationTokenizer

CONFIG_FILE = "config.json"
IDMAPS_FILE = "idmaps.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "weights.pt"


class NeuralExplainer(Explainer):
    """Base of every neural explainer: fit / explain / save / load around an ExplainerModule."""

    config_class: ClassVar[type[NeuralConfig]] = NeuralConfig
    config: NeuralConfig

    def __init__(self, config: NeuralConfig | None = None) -> None:
        super().__init__(config)
        self.module: ExplainerModule | None = None
        self.tokenizer: ExplanationTokenizer | None = None
        self.idmaps: IdMaps | None = None
        self.rating_range: tuple[float, float] = (1.0, 5.0)
        self.device: torch.device = torch.device("cpu")
        self.train_result: TrainResult | None = None
        self.validation_dropped: int = 0  # validation records skipped: user or item unseen in train

    # ------------------------------------------------------------------ what a model implements
    @abstractmethod
    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> ExplainerModule:
        """The network, built from self.config (called after seeding, so initial weights are repeatable)."""

    # ------------------------------------------------------------------ helpers a model may reuse
    def encode(self, records: datasets.Dataset) -> EncodedRecords:
        """Canonical records -> tensors with this explainer's tokenizer and id maps."""
        assert self.tokenizer is not None and self.idmaps is not None, "call fit() or load() first"
        return encode_records(records, self.tokenizer, self.idmaps, max_words=self.config.max_words)

    def train_batches(self, records: EncodedRecords) -> Callable[[int], BatchLoader]:
        """epoch -> shuffled loader (seeded with config.seed + epoch)."""
        cfg = self.config
        return lambda epoch: train_loader(records, batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch)

    def val_batches(self, records: EncodedRecords) -> Callable[[], BatchLoader]:
        return lambda: eval_loader(records, batch_size=self.config.eval_batch_size)

    def make_trainer(
        self,
        context: ExplainContext,
        *,
        log_name: str = "train",
        epoch_callback: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> Trainer:
        """A Trainer for self.module wired to the context (run_dir, device, progress, resume)."""
        assert self.module is not None
        return Trainer(
            self.module,
            self.config,
            run_dir=context.run_dir,
            device=self.device,
            progress=context.progress,
            log_name=log_name,
            resume=context.resume,
            epoch_callback=epoch_callback,
        )

    def prepare(self, train: datasets.Dataset, context: ExplainContext) -> None:
        """Seed, take the tokenizer and rating range, build id maps and the network."""
        seed_everything(self.config.seed)
        self.tokenizer = context.tokenizer
        self.rating_range = (float(context.rating_range[0]), float(context.rating_range[1]))
        self.device = rank_device(resolve_device(self.config.device or context.device))
        if self.config.precision == "auto":  # the runner resolves it first; a direct fit() does it here
            self.config = dataclasses.replace(self.config, precision=resolve_precision("auto", self.device))
        self.idmaps = IdMaps.from_dataset(train)
        self.module = self.build_module(self.tokenizer.vocab, self.idmaps.n_users, self.idmaps.n_items)
        self.module.to(self.device)

    # ------------------------------------------------------------------ Explainer
    def fit(
        self,
        train: datasets.Dataset,
        validation: datasets.Dataset,
        *,
        context: ExplainContext,
    ) -> NeuralExplainer:
        """Train on `train`; `validation` drives decay, early stopping and the restored best weights.

        Validation records whose user or item never occurs in train are skipped (a model has no
        embedding for them); the count is in self.validation_dropped.
        """
        self.prepare(train, context)
        train_records = self.encode(train)
        val_records = self.encode(validation)
        self.validation_dropped = val_records.dropped
        trainer = self.make_trainer(context)
        self.train_result = trainer.fit(self.train_batches(train_records), self.val_batches(val_records))
        return self

    def _require_fitted(self) -> tuple[ExplainerModule, ExplanationTokenizer, IdMaps]:
        if self.module is None or self.tokenizer is None or self.idmaps is None:
            raise RuntimeError(f"{type(self).__name__}: call fit() or load() before explain() or save()")
        return self.module, self.tokenizer, self.idmaps

    def request_batch(self, requests: Sequence[ExplainRequest], first_index: int = 0) -> Batch:
        """Requests -> Batch on self.device (raises RequestError for unservable requests)."""
        _, tokenizer, idmaps = self._require_fitted()
        return encode_requests(
            requests,
            tokenizer,
            idmaps,
            rating_range=self.rating_range,
            takes_feature=self.takes_feature,
            first_index=first_index,
        ).to(self.device)

    @torch.no_grad()
    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        """Greedy explanations, a predicted rating clipped to the rating range and a feature where made."""
        module, tokenizer, _ = self._require_fitted()
        requests = list(requests)
        size = max(1, self.config.eval_batch_size)
        # Validate every request before generating anything: a bad request fails the whole call cleanly.
        batches = [
            self.request_batch(requests[s : s + size], first_index=s)
            for s in range(0, len(requests), size)
        ]
        was_training = module.training
        module.eval()
        lo, hi = self.rating_range
        out: list[Explanation] = []
        try:
            for batch in batches:
                with autocast(self.config.precision, self.device):
                    tokens = greedy_decode(
                        module,
                        batch,
                        max_len=self.config.gen_max_len,
                        bos_id=tokenizer.bos_id,
                        eos_id=tokenizer.eos_id,
                    )
                    ratings = module.predict_rating(batch)
                    features = module.predict_feature(batch)
                token_rows = tokens.tolist()
                rating_rows = ratings.float().clamp(lo, hi).tolist() if ratings is not None else None
                feature_rows = features.tolist() if features is not None else None
                for b, row in enumerate(token_rows):
                    out.append(
                        Explanation(
                            text=tokenizer.decode(row),
                            rating=float(rating_rows[b]) if rating_rows is not None else None,
                            feature=tokenizer.id_to_token(int(feature_rows[b]))
                            if feature_rows is not None
                            else None,
                        )
                    )
        finally:
            module.train(was_training)
        return out

    def save(self, directory: Path) -> None:
        """config.json, idmaps.json, tokenizer.json and weights.pt (each written atomically)."""
        module, tokenizer, idmaps = self._require_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tok_cls = type(tokenizer)
        meta = {
            "explainer": self.name,
            "config": self.config.to_dict(),
            "rating_range": list(self.rating_range),
            "n_users": idmaps.n_users,
            "n_items": idmaps.n_items,
            "tokenizer_class": f"{tok_cls.__module__}:{tok_cls.__qualname__}",
        }
        atomic_write_text(directory / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")
        atomic_write_text(directory / IDMAPS_FILE, json.dumps(idmaps.to_dict()) + "\n")
        tmp_tok = directory / f".{TOKENIZER_FILE}.tmp"
        tokenizer.save(tmp_tok)
        tmp_tok.replace(directory / TOKENIZER_FILE)
        atomic_torch_save(
            {k: v.detach().cpu() for k, v in module.state_dict().items()}, directory / WEIGHTS_FILE
        )

    @classmethod
    def load(cls, directory: Path, *, device: str = "auto") -> NeuralExplainer:
        """Rebuild from save(); the weights load with torch.load(weights_only=True)."""
        directory = Path(directory)
        for name in (CONFIG_FILE, IDMAPS_FILE, TOKENIZER_FILE, WEIGHTS_FILE):
            if not (directory / name).exists():
                raise CheckpointError(
                    f"{directory / name}: missing; is {directory} a saved {cls.name} explainer?"
                )
        meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        if meta.get("explainer") != cls.name:
            raise CheckpointError(
                f"{directory / CONFIG_FILE}: holds explainer {meta.get('explainer')!r}, not {cls.name!r}"
            )
        explainer = cls(cls.config_class.from_dict(meta["config"]))
        explainer.rating_range = (float(meta["rating_range"][0]), float(meta["rating_range"][1]))
        explainer.idmaps = IdMaps.from_dict(
            json.loads((directory / IDMAPS_FILE).read_text(encoding="utf-8"))
        )
        explainer.tokenizer = _tokenizer_class(meta["tokenizer_class"]).load(directory / TOKENIZER_FILE)
        explainer.device = resolve_device(explainer.config.device or device)
        explainer.module = explainer.build_module(
            explainer.tokenizer.vocab, explainer.idmaps.n_users, explainer.idmaps.n_items
        )
        try:
            state = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
            explainer.module.load_state_dict(state)
        except Exception as exc:  # noqa: BLE001 - report any unreadable or mismatched weights the same way
            raise CheckpointError(
                f"{directory / WEIGHTS_FILE}: cannot be loaded ({type(exc).__name__}: {exc})"
            ) from None
        explainer.module.to(explainer.device).eval()
        return explainer


def _tokenizer_class(path: str) -> Any:
    """Import "module:QualName" recorded by save() (the project tokenizer, or a test's stand-in)."""
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
