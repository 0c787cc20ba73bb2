"""Splits, train counts and the sparsity filter, checked against hand-made cases and brute force."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from explainbench.data import DataError, load_manifest, load_split
from explainbench.data.filters import sparsity_filter
from explainbench.data.splits import Split, check_split, random_split, train_counts


def _dense(n: int, n_users: int, n_items: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_users, n), rng.integers(0, n_items, n)


def test_split_is_8_1_1_disjoint_complete_and_covers_every_user_and_item() -> None:
    users, items = _dense(1000, 50, 40)
    s = random_split(users, items, seed=11)
    assert s.sizes() == {"train": 800, "validation": 100, "test": 100}
    everything = np.concatenate([s.train, s.validation, s.test])
    assert sorted(everything.tolist()) == list(range(1000))
    assert set(users[s.train]) == set(users) and set(items[s.train]) == set(items)


def test_sparse_data_puts_one_record_of_each_user_and_item_in_train() -> None:
    # 30 records, every user but one unique: train must hold all users, so more than 80%.
    users = np.arange(30)
    users[1] = 0
    items = np.zeros(30, dtype=np.int64)
    s = random_split(users, items, seed=0)
    assert set(users[s.train]) == set(users.tolist())
    assert s.train.size == 29 and s.validation.size + s.test.size == 1


def test_seeds_change_splits_and_repeat_them() -> None:
    users, items = _dense(500, 30, 30)
    a, b, c = (random_split(users, items, seed) for seed in (1, 1, 2))
    assert np.array_equal(a.test, b.test) and not np.array_equal(a.test, c.test)


def test_train_counts_match_brute_force() -> None:
    users, items = _dense(300, 25, 20, seed=5)
    s = random_split(users, items, seed=3)
    counts = train_counts(users, items, s)
    per_user = Counter(users[s.train].tolist())
    per_item = Counter(items[s.train].tolist())
    for part, pos in s.parts().items():
        assert counts[part][0].tolist() == [per_user[u] for u in users[pos].tolist()]
        assert counts[part][1].tolist() == [per_item[i] for i in items[pos].tolist()]


def test_sparsity_filter_hand_case() -> None:
    # user 0 has 3 reviews, user 1 has 1; item 0 has 3, item 1 has 1. N = 3: keep when user < 3 or item < 3.
    users = np.array([0, 0, 0, 1])
    items = np.array([0, 0, 1, 0])
    assert sparsity_filter(users, items, 3).keep.tolist() == [False, False, True, True]
    assert sparsity_filter(users, items, None).keep.all()
    assert sparsity_filter(users, items, 3).to_dict()["records_after"] == 2


def test_check_split_refuses_out_of_range_repeats_and_overlap() -> None:
    ok = Split(np.array([0, 1, 2]), np.array([3]), np.array([4]))
    check_split(ok, 5, "d/1")
    with pytest.raises(DataError, match=r"d/1/test.index: position 7 is outside the 5 records"):
        check_split(Split(np.array([0, 1]), np.array([2]), np.array([7])), 5, "d/1")
    with pytest.raises(DataError, match=r"validation.index: position 1 is also in another part"):
        check_split(Split(np.array([0, 1]), np.array([1]), np.array([4])), 5, "d/1")
    with pytest.raises(DataError, match=r"train.index: position 0 is listed twice"):
        check_split(Split(np.array([0, 0]), np.array([1]), np.array([4])), 5, "d/1")


def test_loaded_counts_and_buckets_agree_with_the_records(tiny_home: Path) -> None:
    m = load_manifest("synthetic-tiny", tiny_home)
    assert [b["label"] for b in m["buckets"]] == ["1", "2", "3", "4", "5-9", "10-14", "15+"]
    for k in (1, 5):
        dd = load_split("synthetic-tiny", k, home=tiny_home)
        train_users = Counter(dd["train"]["user_id"])
        train_items = Counter(dd["train"]["item_id"])
        test = dd["test"]
        assert test["user_train_count"] == [train_users[u] for u in test["user_id"]]
        assert test["item_train_count"] == [train_items[i] for i in test["item_id"]]
        assert min(test["user_train_count"]) >= 1 and min(test["item_train_count"]) >= 1
        assert m["counts"]["splits"][str(k)] == {p: len(ds) for p, ds in dd.items()}
