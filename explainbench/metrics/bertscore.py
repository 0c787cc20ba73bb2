"""BERTScore (Zhang et al., ICLR 2020) through the `bert-score` package, per record.

Off unless asked for (`--bertscore`, `score_samples(bertscore=MODEL)`): it runs a Transformer over
every reference and generated sentence, which on a CPU costs more than every other metric together.
MODEL is a Hub id (default `roberta-large`, the package's default for English, at its layer 17) or a
local folder holding a model and tokenizer saved with `save_pretrained` (all its layers are used
unless `layers` says otherwise). F1 per record, without idf weighting or baseline rescaling (the
package's defaults); the corpus value is the mean, so it gets intervals, buckets and paired tests.

Where the weights are not on the machine and cannot be fetched (offline, `HF_HUB_OFFLINE=1`), the
metric is reported as unavailable with one line, as METEOR is without WordNet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from explainbench.api.hub import hub_offline

DEFAULT_MODEL = "roberta-large"  # bert-score's default model for lang="en"


class BertScorer:
    """One loaded BERTScore model; `unavailable` says why it could not be loaded (then nothing scores)."""

    def __init__(
        self, model: str = DEFAULT_MODEL, *, layers: int | None = None, batch_size: int = 64
    ) -> None:
        self.model = model
        self.layers = layers
        self.batch_size = batch_size
        self.unavailable: str | None = None
        self._scorer = None
        try:
            package = version("bert-score")
        except PackageNotFoundError:
            self.unavailable = "the bert-score package is not installed (pip install bert-score)"
            return
        self.package = package
        folder = Path(model).expanduser()
        if folder.is_dir() and layers is None:
            try:
                self.layers = int(json.loads((folder / "config.json").read_text())["num_hidden_layers"])
            except (OSError, ValueError, KeyError):
                self.unavailable = f"{folder}: no config.json with num_hidden_layers; save the model there"
                return
        try:
            from bert_score import BERTScorer

            kwargs = {"num_layers": self.layers} if self.layers is not None else {}
            self._scorer = BERTScorer(
                model_type=model, lang="en", batch_size=batch_size, device="cpu", **kwargs
            )
            self.layers = self._scorer.num_layers
            tokenizer = self._scorer._tokenizer
            if tokenizer.model_max_length > 100_000:  # a saved tokenizer without a length: the model's
                positions = getattr(self._scorer._model.config, "max_position_embeddings", 512)
                tokenizer.model_max_length = int(positions)
        except Exception as exc:  # noqa: BLE001 - offline, unknown model: one line, the metric is left out
            why = "the Hub is offline (HF_HUB_OFFLINE=1)" if hub_offline() else f"{type(exc).__name__}: {exc}"
            self.unavailable = (
                f"BERTScore model {model!r} is not available here ({str(why).splitlines()[0]}); fetch it on "
                "a machine with a network or pass --bertscore DIR (a save_pretrained folder)"
            )

    @property
    def signature(self) -> str:
        return (f"bertscore|impl:bert-score|model:{self.model}|layers:{self.layers}|idf:no|rescale:no|"
                f"stat:f|avg:record|v:{getattr(self, 'package', '?')}")

    def f1(self, refs: Sequence[str], hyps: Sequence[str]) -> np.ndarray:
        """BERTScore F1 of each (reference, hypothesis) pair; an empty text scores 0."""
        if self._scorer is None:
            raise RuntimeError(self.unavailable or "BERTScore is not loaded")
        out = np.zeros(len(refs))
        keep = [k for k, (r, h) in enumerate(zip(refs, hyps, strict=True)) if r.strip() and h.strip()]
        if keep:
            import torch

            with torch.no_grad():
                _, _, f = self._scorer.score([hyps[k] for k in keep], [refs[k] for k in keep])
            out[keep] = f.double().numpy()
        return out
