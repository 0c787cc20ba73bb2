"""Bootstrap intervals, paired tests, buckets and per-count series."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explainbench.api.results import Sample
from explainbench.data.buckets import Bucket
from explainbench.metrics import paired_test, score_samples
from explainbench.metrics.aggregate import compute_metrics
from explainbench.metrics.table import build_table


def _examples(n: int = 300) -> list[Sample]:
    """n examples from a small world: references name an aspect, users and items repeat."""
    rng = np.random.default_rng(7)
    aspects = ["room", "staff", "breakfast", "location", "pool", "bed", "view", "price"]
    adjectives = ["clean", "friendly", "tasty", "perfect", "small", "comfortable", "great", "fair"]
    out = []
    for _ in range(n):
        a, adj = aspects[rng.integers(len(aspects))], adjectives[rng.integers(len(adjectives))]
        ref = f"the {a} was {adj} and we would come back"
        u, i = int(rng.integers(40)), int(rng.integers(30))
        out.append(
            Sample(
                user_id=f"u{u}",
                item_id=f"i{i}",
                rating=float(rng.integers(1, 6)),
                reference=ref,
                generated=ref,
                feature=a,
                user_train_count=1 + u % 7,
                item_train_count=1 + i % 12,
            )
        )
    return out


def _with_generated(samples: list[Sample], texts: list[str]) -> list[Sample]:
    return [Sample(**{**s.__dict__, "generated": t}) for s, t in zip(samples, texts, strict=True)]


@pytest.fixture(scope="module")
def systems():
    base = _examples()
    perfect = base
    generic = _with_generated(base, ["the hotel was great"] * len(base))
    return perfect, generic


def test_bootstrap_is_reproducible_with_its_seed_and_brackets_the_value(systems):
    perfect, generic = systems
    mixed = _with_generated(
        perfect, [s.generated if k % 2 else "the hotel was great" for k, s in enumerate(perfect)]
    )
    fs = {"room", "staff", "breakfast", "location", "pool", "bed", "view", "price"}
    a = score_samples(mixed, feature_set=fs, n_boot=300, seed=5, meteor=False).to_dict()
    b = score_samples(mixed, feature_set=fs, n_boot=300, seed=5, meteor=False).to_dict()
    c = score_samples(mixed, feature_set=fs, n_boot=300, seed=6, meteor=False).to_dict()
    assert a == b
    assert a["metrics"]["bleu4"]["ci_low"] != c["metrics"]["bleu4"]["ci_low"]
    assert a["bootstrap"] == {"n": 300, "seed": 5, "ci": 0.95, "method": "percentile"}
    for name, m in a["metrics"].items():
        if m["ci_low"] is None:  # counts of distinct items: no interval (documented)
            assert name in {"usr", "fcr", "distinct1", "distinct2"}
            continue
        assert m["ci_low"] <= m["value"] <= m["ci_high"], name
    json.dumps(a, allow_nan=False)


def test_bootstrap_interval_of_a_mean_matches_the_textbook_one():
    # a sentence-mean metric: the 95% percentile interval of a mean of 0/1 scores ~ p +- 1.96 sqrt(p(1-p)/n)
    base = _examples(400)
    texts = [s.reference if k % 4 else "nothing alike" for k, s in enumerate(base)]  # 3/4 exact copies
    r = score_samples(
        _with_generated(base, texts), feature_set=None, n_boot=2000, seed=1, meteor=False, per_count=False
    ).metrics["rougeL_p"]
    half = 1.96 * np.sqrt(0.75 * 0.25 / 400) * 100
    assert r.value == pytest.approx(75.0)
    assert r.ci_low == pytest.approx(75.0 - half, abs=1.2)
    assert r.ci_high == pytest.approx(75.0 + half, abs=1.2)


@pytest.mark.parametrize("method", ["bootstrap", "approx"])
@pytest.mark.parametrize("by_user", [False, True])
def test_a_system_against_itself_has_p_1(systems, method, by_user):
    perfect, _ = systems
    p = paired_test(perfect, perfect, method=method, n=200, seed=0, by_user=by_user, meteor=False)
    assert p and all(v == 1.0 for v in p.values()), p


@pytest.mark.parametrize("method", ["bootstrap", "approx"])
def test_perfect_beats_generic_on_300_examples(systems, method):
    perfect, generic = systems
    assert len(perfect) == 300
    p = paired_test(perfect, generic, method=method, n=1000, seed=0, meteor=True)
    for name in ("bleu1", "bleu4", "rouge1_f", "rougeL_f", "sacrebleu", "rs_rougeL", "meteor", "fmr", "usr"):
        assert p[name] < 0.01, (name, p[name])


def test_paired_test_is_seeded(systems):
    perfect, generic = systems
    mixed = _with_generated(
        perfect, [s.generated if k % 3 else "the hotel was great" for k, s in enumerate(perfect)]
    )
    one = paired_test(mixed, generic, method="approx", n=300, seed=3, meteor=False)
    assert one == paired_test(mixed, generic, method="approx", n=300, seed=3, meteor=False)


def test_buckets_and_per_count_partition_the_examples(systems):
    perfect, _ = systems
    buckets = (Bucket("1-2", 1, 2), Bucket("3-5", 3, 5), Bucket("6+", 6, None))
    r = score_samples(perfect, feature_set=None, buckets=buckets, n_boot=50, meteor=False).to_dict()
    users = [s.user_train_count for s in perfect]
    assert {k: v["n"] for k, v in r["buckets"]["user"].items()} == {
        "1-2": sum(1 <= c <= 2 for c in users),
        "3-5": sum(3 <= c <= 5 for c in users),
        "6+": sum(c >= 6 for c in users),
    }
    counts = r["per_count"]["user"]
    assert sum(g["n"] for g in counts.values()) == len(perfect)
    assert set(counts) == {str(c) for c in set(users)}
    # a bucket's value is the metric of exactly its examples
    rows = [s for s in perfect if 3 <= s.user_train_count <= 5]
    sub = score_samples(rows, feature_set=None, n_boot=0, meteor=False, per_count=False)
    assert r["buckets"]["user"]["3-5"]["metrics"]["bleu4"]["value"] == pytest.approx(sub.value("bleu4"))
    assert r["per_count"]["item"]  # item series too


def test_div_bootstrap_leaves_out_self_pairs():
    # two examples sharing one feature: DIV = 1. A resample drawing the first twice must not call the
    # copy a "pair sharing a feature" with itself: weights (2, 0) leave no pair -> 0 by definition.
    samples = [
        Sample("u", "i", 3.0, "x", "room ok", feature="room"),
        Sample("u", "i", 3.0, "x", "room", feature="room"),
    ]
    table, _ = build_table(samples, feature_set={"room"}, rating_range=(1.0, 5.0), meteor=False)
    W = np.array([[1.0, 1.0], [2.0, 0.0], [2.0, 1.0]], dtype=np.float32)
    div = compute_metrics(table, W, ["div"])["div"]
    assert div[1] == 0.0
    assert div[2] == pytest.approx(1.0)  # copies a, a and b: pairs (a,b) twice share room; (a,a) left out


def test_two_worker_processes_give_the_same_report(systems, monkeypatch):
    from explainbench.metrics import table

    perfect, generic = systems
    mixed = _with_generated(perfect, [s.generated if k % 2 else g.generated for k, (s, g) in
                                      enumerate(zip(perfect, generic, strict=True))])  # fmt: skip
    monkeypatch.setattr(table, "_BLOCK_ROWS", 70)  # several blocks, so the forked pool is used
    fs = {"room", "staff", "pool"}
    one = score_samples(mixed, feature_set=fs, n_boot=40, meteor=True, workers=1)
    two = score_samples(mixed, feature_set=fs, n_boot=40, meteor=True, workers=2)
    assert one.to_dict() == two.to_dict()


def test_threads_scoring_at_once_do_not_share_state(systems):
    """Two threads scoring different systems at once get exactly their sequential reports."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = systems
    kwargs = dict(feature_set=None, n_boot=50, seed=3, meteor=False, workers=1)
    expected = [score_samples(s, **kwargs).to_dict() for s in (a, b)]
    with ThreadPoolExecutor(2) as pool:
        got = [f.result() for f in [pool.submit(score_samples, s, **kwargs) for s in (a, b) * 2]]
    assert [g.to_dict() for g in got] == expected * 2


def test_every_ratio_metric_is_registered_and_is_its_columns_divided(systems):
    """RATIOS is the table of one-column-over-another metrics: each is a registered metric, and on a
    table that computes it, its value is its columns' sums divided by hand."""
    from explainbench.metrics.aggregate import RATIOS, available_metrics
    from explainbench.metrics.registry import METRICS

    assert set(RATIOS) <= set(METRICS)
    _, generic = systems
    items = {s.item_id: {"room", "staff"} for s in generic}
    table, _ = build_table(generic, feature_set={"room", "staff", "pool"}, rating_range=(1.0, 5.0),
                           meteor=False, item_features=items)
    names = [m for m in available_metrics(table) if m in RATIOS]
    assert {"rougeL_f", "fmr", "feat_p", "hal_feat", "rep_l"} <= set(names)
    values = compute_metrics(table, np.ones((1, table.n), dtype=np.float32), names)
    sums = table.dense.sum(axis=0)
    for name in names:
        numerator, denominator, scale = RATIOS[name]
        den = table.n if denominator is None else sums[table.col(denominator)]
        expected = sums[table.col(numerator)] / den * scale if den else 0.0
        assert values[name][0] == pytest.approx(expected), name
