"""The `peter` and `peter+` explainers: PETER on the shared engine (training, decoding, save/load)."""

from __future__ import annotations

from typing import ClassVar

from baselines.peter.config import PeterConfig
from baselines.peter.model import PeterModule
from explainbench.data.vocab import Vocab
from explainbench.engine.module import ExplainerModule, NeuralConfig
from explainbench.engine.neural import NeuralExplainer


class Peter(NeuralExplainer):
    """PETER (Li, Zhang and Chen, ACL 2021) with the PETER mask: explains from (user, item) only."""

    name: ClassVar[str] = "peter"
    config_class: ClassVar[type[NeuralConfig]] = PeterConfig
    takes_feature: ClassVar[bool] = False
    config: PeterConfig

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> ExplainerModule:
        return PeterModule(self.config, vocab, n_users, n_items, use_feature=self.takes_feature)


class PeterPlus(Peter):
    """PETER+: also reads the ground-truth feature of the test record. An easier task, not comparable
    with models that see only (user, item, rating); tables must label it so."""

    name: ClassVar[str] = "peter+"
    takes_feature: ClassVar[bool] = True
