"""Att2Seq as an explainbench explainer: the shared engine trains Att2SeqModule and decodes it greedily."""

from __future__ import annotations

from typing import ClassVar

from baselines.att2seq.config import Att2SeqConfig
from baselines.att2seq.model import Att2SeqModule
from explainbench.data.vocab import Vocab
from explainbench.engine.module import NeuralConfig
from explainbench.engine.neural import NeuralExplainer


class Att2SeqExplainer(NeuralExplainer):
    """Att2Seq (Dong et al., EACL 2017): user, item and rating attributes -> LSTM with attention.

    The rating attribute is the request's rating (the recommender's), rounded to a rating class.
    """

    name: ClassVar[str] = "att2seq"
    config_class: ClassVar[type[NeuralConfig]] = Att2SeqConfig
    config: Att2SeqConfig

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> Att2SeqModule:
        return Att2SeqModule(self.config, vocab, n_users, n_items, self.rating_range)
