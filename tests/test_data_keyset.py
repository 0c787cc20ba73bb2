"""The compact duplicate rule: KeySet against a Python set, and the chunked rule against the rule
applied review by review (the module docstring of explainbench.data.sources.raw)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from explainbench.data.keyset import KeySet, repeats_within
from explainbench.data.sources.raw import Duplicates


def test_keyset_answers_as_a_python_set_while_it_grows():
    rng = np.random.default_rng(3)
    keys, reference = KeySet(), set()
    for size in [1, 5, 1000, 3, 3, 3, 700, 2, 4000, 1, 1]:
        batch = rng.integers(-(2**63), 2**63 - 1, size=size, dtype=np.int64)
        batch[: size // 2] = rng.integers(0, 50, size=size // 2)  # small keys come back often
        asked = np.concatenate([batch, np.array(list(reference)[:20], dtype=np.int64)])
        assert keys.contains(asked).tolist() == [int(k) in reference for k in asked]
        new = batch[~keys.contains(batch)]
        keys.add(new)
        reference.update(int(k) for k in new)
        assert len(keys) == len(reference)
        runs = [len(r) for r in keys._runs]
        assert all(a >= 2 * b for a, b in zip(runs, runs[1:], strict=False))  # at most log2(n) runs
    assert not keys.contains(np.array([], dtype=np.int64)).size


def test_repeats_within_marks_all_but_the_first_among_the_rows_asked():
    keys = np.array([7, 7, 3, 7, 3, 9])
    among = np.array([False, True, True, True, True, True])
    assert repeats_within(keys, among).tolist() == [False, False, False, True, True, False]


def _one_by_one(reviews):
    """The rule as the docstring states it, review by review, with Python sets."""
    texts, pairs, user_texts, kept, counts = set(), set(), set(), [], [0, 0, 0]
    for user, item, text in reviews:
        if (user, item, text) in texts:
            counts[0] += 1
            kept.append(False)
            continue
        texts.add((user, item, text))
        if (user, item) in pairs:
            counts[1] += 1
            kept.append(False)
            continue
        pairs.add((user, item))
        if text is not None and (user, text) in user_texts:
            counts[2] += 1
            kept.append(False)
            continue
        if text is not None:
            user_texts.add((user, text))
        kept.append(True)
    return kept, counts


@pytest.mark.parametrize("chunk", [1, 7, 64, 5000])
def test_chunked_rule_keeps_what_the_rule_review_by_review_keeps(chunk):
    rng = random.Random(chunk)
    reviews = [
        (f"u{rng.randrange(12)}", f"i{rng.randrange(15)}", rng.choice([None, 1, 2, 3, 2**40 + 7, -5]))
        for _ in range(3000)
    ]
    expected, counts = _one_by_one(reviews)
    assert all(counts)  # every kind of repeat occurs
    dup = Duplicates("drop")
    got = []
    for start in range(0, len(reviews), chunk):
        got += dup.keep(reviews[start : start + chunk]).tolist()
    assert got == expected
    assert [dup.exact_repeats, dup.pair_repeats, dup.cross_item_repeats] == counts


def test_error_policy_keeps_every_review_for_the_later_check():
    dup = Duplicates("error")
    assert dup.keep([("u", "i", 1), ("u", "i", 1)]).tolist() == [True, True]


def test_table_digest_does_not_depend_on_how_the_records_are_chunked():
    """table_digest hashes a column chunk by chunk (no combined copy): any chunking and slicing of the
    same records gives the digest of the records in one chunk, and a table of other records another."""
    import pyarrow as pa

    from explainbench.data.fingerprint import table_digest
    from explainbench.data.schema import RECORD_SCHEMA

    rng = np.random.default_rng(0)
    n = 300
    cols = {}
    for field in RECORD_SCHEMA:
        if pa.types.is_string(field.type):
            cols[field.name] = pa.array(["é" * int(k) + str(k) for k in rng.integers(0, 9, n)], field.type)
        elif pa.types.is_list(field.type):
            cols[field.name] = pa.array([["a"] * int(k) for k in rng.integers(0, 3, n)], field.type)
        elif pa.types.is_integer(field.type):
            cols[field.name] = pa.array(rng.integers(-1, 2, n), field.type)
        else:
            cols[field.name] = pa.array(rng.random(n) * 5, field.type)
    table = pa.table(cols, schema=RECORD_SCHEMA)
    whole = table_digest(table)
    pieces = pa.concat_tables([table.slice(0, 3), table.slice(3, 0), table.slice(3, 200), table.slice(203)])
    assert pieces.column("explanation").num_chunks == 4
    assert table_digest(pieces) == whole
    part = pa.concat_tables([table.slice(7, 3), table.slice(250, 20)])
    assert table_digest(part) == table_digest(pa.concat_tables([part]).combine_chunks())
    assert table_digest(table.slice(1)) != whole
