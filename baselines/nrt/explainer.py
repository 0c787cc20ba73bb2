"""NRT as an explainbench explainer: the shared engine trains NRTModule and decodes it greedily."""

from __future__ import annotations

from typing import ClassVar

from baselines.nrt.config import NRTConfig
from baselines.nrt.model import NRTModule
from explainbench.data.vocab import Vocab
from explainbench.engine.module import NeuralConfig
from explainbench.engine.neural import NeuralExplainer


class NRTExplainer(NeuralExplainer):
    """NRT (Li et al., SIGIR 2017): rating regression and GRU tip generation, trained jointly.

    The request's rating is not read: NRT explains with its own predicted rating (as the reference).
    """

    name: ClassVar[str] = "nrt"
    config_class: ClassVar[type[NeuralConfig]] = NRTConfig
    config: NRTConfig

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> NRTModule:
        return NRTModule(self.config, vocab, n_users, n_items, self.rating_range)
