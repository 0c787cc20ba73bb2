"""The explain family (feature precision/recall, hallucination, sentiment alignment, repetition),
against values computed by hand for three records."""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from explainbench.api.results import Sample
from explainbench.data import item_features
from explainbench.metrics import METRICS, score_samples
from explainbench.metrics.explain import polarity, rating_polarity, repetition_stats
from explainbench.metrics.significance import paired_test

FEATURES = {"sound", "price", "strings"}
ITEMS = {"i1": frozenset({"sound"}), "i2": frozenset({"price"})}


def _samples() -> list[Sample]:
    return [
        Sample("u1", "i1", 5.0, "the sound is great", "great sound great sound", feature="sound"),
        Sample("u2", "i2", 1.0, "the price is terrible", "the price and the strings", feature="price"),
        Sample("u3", "i1", 3.0, "it works", "great sound great sound", feature=""),
    ]


def test_vader_polarities_the_hand_values_rest_on() -> None:
    # VADER's compound scores: 0.8481, 0.0, 0.6249, -0.4767, 0.0
    assert [polarity(t) for t in ("great sound great sound", "the price and the strings")] == [1, 0]
    assert [polarity(t) for t in ("the sound is great", "the price is terrible", "it works")] == [1, -1, 0]
    assert [rating_polarity(r, (1.0, 5.0)) for r in (1, 2, 3, 4, 5)] == [-1, -1, 0, 1, 1]


def test_explain_metrics_by_hand() -> None:
    report = score_samples(
        _samples(), feature_set=FEATURES, item_features=ITEMS, n_boot=0, meteor=False, per_count=False
    )
    got = {k: v.value for k, v in report.metrics.items()}
    # mentioned: {sound}, {price, strings}, {sound}; truths: sound, price, none
    assert got["feat_p"] == pytest.approx((1 + 1 / 2) / 2)
    assert got["feat_r"] == pytest.approx(1.0)
    assert got["feat_f"] == pytest.approx((1 + 2 / 3) / 2)
    # "strings" is not among i2's training features: 1 of 4 mentions, 1 of 3 sentences, mean (0 + 1/2 + 0) / 3
    assert got["hal_feat"] == pytest.approx(1 / 4)
    assert got["hal_sent"] == pytest.approx(1 / 3)
    assert got["hal_mean"] == pytest.approx(1 / 6)
    # rating polarities +, -, (3: left out); sentence polarities +, 0, +; references +, -, 0
    assert got["sent_rating"] == pytest.approx(1 / 2)
    assert got["sent_ref"] == pytest.approx(1 / 3)
    # repeated tokens 2 + 1 + 2 of 4 + 5 + 4; seq-rep-2 1/3, 0, 1/3; one sentence twice in three
    assert got["rep_l"] == pytest.approx(5 / 13)
    assert got["seq_rep_2"] == pytest.approx(2 / 9)
    assert got["top_share"] == pytest.approx(2 / 3)
    for name in ("feat_p", "hal_feat", "sent_ref", "rep_l", "top_share"):
        assert METRICS[name].family == "explain"
        assert METRICS[name].signature.endswith("|impl_v:1")


def test_repetition_of_edge_sentences() -> None:
    assert repetition_stats([]) == (0.0, 0.0, 0.0)
    assert repetition_stats(["a"]) == (0.0, 0.0, 0.0)
    assert repetition_stats(["a", "a", "a"]) == (2.0, 0.5, 1.0)


def test_hallucination_needs_item_features_and_family_selection_holds() -> None:
    report = score_samples(_samples(), feature_set=FEATURES, n_boot=0, meteor=False, per_count=False)
    assert "feat_p" in report.metrics and "hal_feat" not in report.metrics
    only = score_samples(
        _samples(),
        feature_set=FEATURES,
        item_features=ITEMS,
        n_boot=0,
        meteor=False,
        per_count=False,
        families=("explain",),
    )
    assert {METRICS[k].family for k in only.metrics} == {"explain"}
    assert "bleu1" not in only.metrics and "hal_sent" in only.metrics


def test_intervals_and_paired_tests_come_for_free() -> None:
    samples = _samples() * 20
    report = score_samples(
        samples, feature_set=FEATURES, item_features=ITEMS, n_boot=200, meteor=False, per_count=False
    )
    for name in ("feat_p", "hal_sent", "sent_rating", "rep_l", "top_share"):
        mv = report.metrics[name]
        assert mv.ci_low is not None and mv.ci_low <= mv.value <= mv.ci_high
    worse = [Sample(s.user_id, s.item_id, s.rating, s.reference, "strings strings strings", s.feature)
             for s in samples]
    p = paired_test(samples, worse, metrics=["rep_l", "hal_sent"], n=200, feature_set=FEATURES,
                    item_features=ITEMS, meteor=False)
    assert p["rep_l"] < 0.05 and p["hal_sent"] < 0.05


def test_item_features_from_training_records() -> None:
    def split(rows: list[tuple[str, str, str]]) -> datasets.Dataset:
        columns = ("item_id", "feature", "explanation")
        return datasets.Dataset.from_dict({c: [r[k] for r in rows] for k, c in enumerate(columns)})

    dd = datasets.DatasetDict(
        train=split([("i1", "sound", "The Strings buzz."), ("i1", "", "nice price"), ("i2", "", "ok")]),
        test=split([("i2", "price", "the price")]),
    )
    got = item_features(dd, FEATURES)
    assert got == {"i1": frozenset({"sound", "strings", "price"}), "i2": frozenset()}
    assert np.all([isinstance(v, frozenset) for v in got.values()])
