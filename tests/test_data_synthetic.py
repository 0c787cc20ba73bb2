"""The embedded benchmark: determinism, the world's size, sparsity, and that identity predicts content."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from explainbench.data import (
    SyntheticSpec,
    ensure_dataset,
    load_manifest,
    load_records,
    load_split,
    prepare_synthetic,
)
from explainbench.data.schema import FEATURES
from explainbench.data.sources.synthetic import PRESETS, generate
from explainbench.data.sources.synthetic_world import ADJECTIVES, DOMAINS, load_domain
from explainbench.data.splits import random_split
from explainbench.data.store import dense_index


@pytest.mark.parametrize("domain", DOMAINS)
def test_world_has_the_promised_size(domain: str) -> None:
    dom = load_domain(domain)
    assert len(dom.aspects) >= 40
    assert all(len(a.terms) >= 2 and len(a.details) >= 1 for a in dom.aspects)
    assert len(dom.patterns[(False, 1)]) >= 30 and len(dom.patterns[(False, -1)]) >= 30
    for cls in {a.adjective_class for a in dom.aspects}:
        pos, neg = (set(p.split()) for p in ADJECTIVES[cls])
        assert len(pos) >= 4 and len(neg) >= 4 and not pos & neg


def test_same_seed_same_fingerprint_other_seed_other(tmp_path: Path) -> None:
    a = prepare_synthetic(SyntheticSpec("synthetic-tiny", seed=7), name="a", home=tmp_path)
    b = prepare_synthetic(SyntheticSpec("synthetic-tiny", seed=7), name="b", home=tmp_path)
    c = prepare_synthetic(SyntheticSpec("synthetic-tiny", seed=8), name="c", home=tmp_path)
    fa, fb, fc = (load_manifest(n, tmp_path)["fingerprint"] for n in "abc")
    assert fa == fb != fc
    assert (a / "records.parquet").read_bytes() == (b / "records.parquet").read_bytes()
    assert c.is_dir()


def test_records_are_consistent_with_their_ground_truth(tiny_home: Path) -> None:
    records = load_records("synthetic-tiny", tiny_home)
    assert records.schema.names == list(FEATURES)
    rows = records.to_pylist()
    assert 1800 <= len(rows) <= 2000
    classes = {a.name: a.adjective_class for a in load_domain("restaurant").aspects}
    n_detail = 0
    for r in rows:
        words = r["explanation"].split()
        assert r["feature"] in words and r["adjective"] in words
        assert r["feature"] in r["aspect_terms"]
        pos, neg = (p.split() for p in ADJECTIVES[classes[r["aspect"]]])
        assert r["adjective"] in (pos if r["sentiment"] == 1 else neg)
        assert 1.0 <= r["rating"] <= 5.0 and float(r["rating"]).is_integer()
        if r["detail"]:
            n_detail += 1
            assert r["detail"] in r["explanation"]
    assert 0.05 < n_detail / len(rows) < 0.5  # "sometimes" names the item's detail phrase
    assert len({(r["user_id"], r["item_id"]) for r in rows}) == len(rows)


def test_activity_is_a_long_tail_as_sparse_as_table_1() -> None:
    records, _ = generate("synthetic", "hotel", seed=0)
    users = Counter(records.column("user_id").to_pylist())
    items = Counter(records.column("item_id").to_pylist())
    counts = np.array(list(users.values()))
    assert np.mean(counts < 15) > 0.9  # most users have fewer than 15 reviews
    assert 3.0 <= len(records) / len(users) <= 6.0 and 3.0 <= len(records) / len(items) <= 6.5
    assert counts.max() >= 20  # ... and a few have many


@pytest.mark.parametrize("domain", DOMAINS)
def test_identity_predicts_the_aspect_three_times_better_than_popularity(domain: str) -> None:
    """argmax_a pref_u[a] * salience_i[a] on each test record vs. the most frequent train aspect."""
    records, world = generate("synthetic", domain, seed=3)
    users = np.array([world.user_index(u) for u in records.column("user_id").to_pylist()])
    items = np.array([world.item_index(i) for i in records.column("item_id").to_pylist()])
    names = world.aspect_names()
    aspect = np.array([names.index(a) for a in records.column("aspect").to_pylist()])
    dense_users, dense_items = dense_index(records.column("user_id")), dense_index(records.column("item_id"))
    split = random_split(dense_users, dense_items, seed=1)
    test = split.test
    by_identity = np.mean(world.predict_aspect(users[test], items[test]) == aspect[test])
    most_frequent = np.bincount(aspect[split.train]).argmax()
    by_popularity = np.mean(aspect[test] == most_frequent)
    assert by_identity >= 3 * by_popularity, (by_identity, by_popularity)


@pytest.mark.parametrize("domain", DOMAINS)
def test_training_split_alone_teaches_the_aspect(domain: str) -> None:
    """What a model can learn: the item's most frequent training aspect (else the global one) predicts
    the test record's aspect at least 3x as often as the global most frequent aspect, and the item's
    most frequent training feature word predicts the test feature at least 5x as often."""
    records, _ = generate("synthetic", domain, seed=3)
    dense_items = dense_index(records.column("item_id"))
    split = random_split(dense_index(records.column("user_id")), dense_items, seed=1)
    for column, factor in (("aspect", 3), ("feature", 5)):
        values = np.unique(np.asarray(records.column(column).to_pylist()), return_inverse=True)[1]
        train, test = split.train, split.test
        counts = np.zeros((dense_items.max() + 1, values.max() + 1), np.int64)
        np.add.at(counts, (dense_items[train], values[train]), 1)
        most_frequent = np.bincount(values[train]).argmax()
        seen = counts[dense_items[test]].sum(axis=1) > 0
        by_item = np.where(seen, counts[dense_items[test]].argmax(axis=1), most_frequent)
        by_item_acc = np.mean(by_item == values[test])
        by_popularity = np.mean(values[test] == most_frequent)
        assert by_item_acc >= factor * by_popularity, (column, by_item_acc, by_popularity)


def test_presets_on_demand_and_split_columns(tiny_home: Path) -> None:
    assert set(PRESETS) == {"synthetic-tiny", "synthetic", "synthetic-dense", "synthetic-xl"}
    assert ensure_dataset("synthetic-tiny", tiny_home) == tiny_home / "datasets" / "synthetic-tiny"
    dd = load_split("synthetic-tiny", 3, home=tiny_home)
    assert set(dd) == {"train", "validation", "test"}
    n = sum(len(ds) for ds in dd.values())
    assert abs(len(dd["train"]) - 0.8 * n) <= 1 and abs(len(dd["test"]) - 0.1 * n) <= 1
    assert dd["test"].features["user_train_count"].dtype == "int32"
    m = load_manifest("synthetic-tiny", tiny_home)
    assert m["splits"]["seeds"] == [1, 2, 3, 4, 5]
    assert m["rating_range"] == [1.0, 5.0]
    assert m["source"]["domain"] == "restaurant" and m["source"]["seed"] == 0


def test_domain_suffix_names_prepare_that_domain(tmp_path: Path) -> None:
    ensure_dataset("synthetic-tiny-movie", tmp_path)
    m = load_manifest("synthetic-tiny-movie", tmp_path)
    assert m["source"]["domain"] == "movie"
    movie_aspects = {a.name for a in load_domain("movie").aspects}
    assert set(load_records("synthetic-tiny-movie", tmp_path).column("aspect").to_pylist()) <= movie_aspects
