"""NETE as an explainbench explainer: two Trainer runs (rating model, then text), greedy decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from baselines.nete.config import NETEConfig
from baselines.nete.model import NETEModule
from explainbench.api.explainer import ExplainContext
from explainbench.data.vocab import Vocab
from explainbench.engine.module import NeuralConfig
from explainbench.engine.neural import NeuralExplainer
from explainbench.engine.trainer import TrainResult

if TYPE_CHECKING:  # pragma: no cover
    import datasets


class NETEExplainer(NeuralExplainer):
    """NETE (Li, Zhang and Chen, CIKM 2020): rating MLP, then a GFRU generator steered by a feature.

    takes_feature: every request must carry the feature to talk about; the benchmark passes the test
    record's ground-truth feature, as the reference does (an easier task: tables label it).
    """

    name: ClassVar[str] = "nete"
    config_class: ClassVar[type[NeuralConfig]] = NETEConfig
    takes_feature: ClassVar[bool] = True
    config: NETEConfig

    def __init__(self, config: NETEConfig | None = None) -> None:
        super().__init__(config)
        self.rating_result: TrainResult | None = None

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> NETEModule:
        return NETEModule(self.config, vocab, n_users, n_items, self.rating_range)

    def fit(
        self, train: datasets.Dataset, validation: datasets.Dataset, *, context: ExplainContext
    ) -> NETEExplainer:
        """Stage "rating" (MSE + L2), then stage "text" (NLL), each a Trainer run of up to max_epochs.

        Each stage stops at its first non-improving validation epoch and keeps its best weights, as
        run.py does; the text stage's validation sentiment comes from the trained rating model.
        """
        self.prepare(train, context)
        module = self.module
        assert isinstance(module, NETEModule)
        train_records = self.encode(train)
        val_records = self.encode(validation)
        self.validation_dropped = val_records.dropped
        module.set_stage("rating")
        self.rating_result = self.make_trainer(context, log_name="rating").fit(
            self.train_batches(train_records), self.val_batches(val_records)
        )
        module.set_stage("text")
        self.train_result = self.make_trainer(context, log_name="text").fit(
            self.train_batches(train_records), self.val_batches(val_records)
        )
        return self
