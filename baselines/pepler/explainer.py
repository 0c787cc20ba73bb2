"""The `pepler`, `pepler-mf`, `pepler-mlp` and `pepler-d` explainers on the shared engine."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from baselines.pepler.config import (
    TINY_LOCAL,
    TINY_LOCAL_SIZES,
    PeplerConfig,
    PeplerDConfig,
    PeplerMFConfig,
    PeplerMLPConfig,
)
from baselines.pepler.gpt2 import GPT2Words, folder_digest, gpt2_tokenizer, locate
from baselines.pepler.model import PeplerModule
from baselines.pepler.prompts import PromptTable
from explainbench.api.explainer import ExplainContext, ExplainerConfig
from explainbench.data.vocab import Vocab
from explainbench.engine.batching import IdMaps
from explainbench.engine.module import ExplainerModule, NeuralConfig
from explainbench.engine.neural import NeuralExplainer

if TYPE_CHECKING:  # pragma: no cover
    import datasets


class Pepler(NeuralExplainer):
    """PEPLER with continuous prompts (main.py): two stages, the prompt alone and then with GPT-2."""

    name: ClassVar[str] = "pepler"
    config_class: ClassVar[type[NeuralConfig]] = PeplerConfig
    takes_feature: ClassVar[bool] = False
    config: PeplerConfig

    def __init__(self, config: NeuralConfig | None = None) -> None:
        super().__init__(config)
        self._pretrained_folder: Path | None = None  # set while fitting: build_module loads the weights

    @classmethod
    def check_ready(cls, config: ExplainerConfig) -> None:
        pretrained = str(getattr(config, "pretrained", "gpt2"))
        if pretrained != TINY_LOCAL:
            locate(pretrained)

    @classmethod
    def identity_inputs(cls, config: ExplainerConfig) -> dict[str, str]:
        """The digest of the pretrained model and tokenizer files: other weights, another run. A
        tiny-local GPT-2 is made from what the identity already holds (the training split, the seed,
        and baselines/pepler's code), so its name is its identity."""
        pretrained = str(getattr(config, "pretrained", "gpt2"))
        if pretrained == TINY_LOCAL:
            return {"pretrained": TINY_LOCAL}
        return {"pretrained": folder_digest(locate(pretrained))}

    # -- building -----------------------------------------------------------------------------------
    def prompt_table(
        self, train: datasets.Dataset, tokenizer: GPT2Words, idmaps: IdMaps
    ) -> PromptTable | None:
        """The discrete prompts (pepler-d); None for continuous prompts."""
        return None

    def prepare(self, train: datasets.Dataset, context: ExplainContext) -> None:
        from transformers import GPT2Config

        if self.config.pretrained == TINY_LOCAL:  # built from the training text, seeded by the run's seed
            # imported here, not at the top: `python -m baselines.pepler.tiny` must find it unimported
            from baselines.pepler.tiny import save_tiny_gpt2

            self._tiny = tempfile.TemporaryDirectory(prefix="pepler-tiny-gpt2-")
            folder = save_tiny_gpt2(Path(self._tiny.name), train["explanation"], seed=self.config.seed,
                                    **TINY_LOCAL_SIZES)
        else:
            folder = locate(self.config.pretrained)
        self._pretrained_folder = folder
        model_config = GPT2Config.from_pretrained(str(folder)).to_dict()
        words = GPT2Words(gpt2_tokenizer(folder), context.tokenizer, model_config)
        # pepler-d's prompts, in the ids super().prepare gives the network (the same IdMaps of train)
        words.prompts = self.prompt_table(train, words, IdMaps.from_dataset(train))
        super().prepare(train, dataclasses.replace(context, tokenizer=words))

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> ExplainerModule:
        """GPT-2 (pretrained while fitting; its saved architecture when loading) and the prompt table
        (pepler-d's, made by prepare() while fitting and restored with the tokenizer when loading)."""
        from transformers import GPT2Config, GPT2LMHeadModel

        words = self.tokenizer
        assert isinstance(words, GPT2Words)
        if self._pretrained_folder is not None:  # fit: the pretrained weights, three tokens added
            gpt = GPT2LMHeadModel.from_pretrained(str(self._pretrained_folder))
            gpt.resize_token_embeddings(len(words.gpt2))
            words.model_config = gpt.config.to_dict()
        else:  # load: the architecture only; weights.pt holds every weight
            gpt = GPT2LMHeadModel(GPT2Config.from_dict(words.model_config))
        return PeplerModule(self.config, gpt, vocab, n_users, n_items, prompts=words.prompts)

    # -- training: main.py's two stages, or one --------------------------------------------------------
    def fit(
        self, train: datasets.Dataset, validation: datasets.Dataset, *, context: ExplainContext
    ) -> Pepler:
        self.prepare(train, context)
        module = self.module
        assert isinstance(module, PeplerModule)
        train_records, val_records = self.encode(train), self.encode(validation)
        self.validation_dropped = val_records.dropped
        if self.config.prompt_stage and module.prompts is None:
            module.freeze_language_model(True)  # "Tuning Prompt Only"
            self.prompt_result = self.make_trainer(context, log_name="prompt").fit(
                self.train_batches(train_records), self.val_batches(val_records)
            )
            module.freeze_language_model(False)  # "Tuning both Prompt and LM", a fresh optimiser
        self.train_result = self.make_trainer(context).fit(
            self.train_batches(train_records), self.val_batches(val_records)
        )
        self._pretrained_folder = None
        if self._tiny is not None:
            self._tiny.cleanup()
            self._tiny = None
        return self

    _tiny: Any = None  # the temporary folder of a tiny-local GPT-2 while fitting
    prompt_result: Any = None


class PeplerMF(Pepler):
    """PEPLER with reg.py's matrix-factorisation rating head (r = e_u . e_i), one stage."""

    name: ClassVar[str] = "pepler-mf"
    config_class: ClassVar[type[NeuralConfig]] = PeplerMFConfig


class PeplerMLP(Pepler):
    """PEPLER with reg.py's MLP rating head (its default), one stage."""

    name: ClassVar[str] = "pepler-mlp"
    config_class: ClassVar[type[NeuralConfig]] = PeplerMLPConfig


class PeplerD(Pepler):
    """PEPLER-D (discrete.py): the pair's training features as the prompt; GPT-2 trained in one stage."""

    name: ClassVar[str] = "pepler-d"
    config_class: ClassVar[type[NeuralConfig]] = PeplerDConfig
    config: PeplerDConfig

    def prompt_table(self, train: datasets.Dataset, tokenizer: GPT2Words, idmaps: IdMaps) -> PromptTable:
        cols = train.select_columns(["user_id", "item_id", "feature"])[:]
        records = (
            (idmaps.user(str(u)), idmaps.item(str(i)), f or "")
            for u, i, f in zip(cols["user_id"], cols["item_id"], cols["feature"], strict=True)
        )
        return PromptTable.build(
            ((u, i, f) for u, i, f in records if u is not None and i is not None),
            idmaps.n_users,
            idmaps.n_items,
            tokenizer.encode,
            self.config.prompt_words,
        )
