"""Encoding records and requests into Batches; seeded epoch order."""

from __future__ import annotations

import math

import datasets
import pytest
import torch
from toy import toy_records, toy_tokenizer

from explainbench.api.explainer import ExplainRequest, RequestError
from explainbench.engine.batching import (
    EncodedRecords,
    IdMaps,
    encode_records,
    encode_requests,
    epoch_permutation,
    format_text,
    train_loader,
)


def test_format_text_matches_peter_layout() -> None:
    # PETER's sentence_format with bos=0, eos=1, pad=2, max_len=4
    assert format_text([7, 8], max_words=4, bos_id=0, eos_id=1, pad_id=2) == [0, 7, 8, 1, 2, 2]
    assert format_text([7, 8, 9, 10, 11], max_words=4, bos_id=0, eos_id=1, pad_id=2) == [
        0,
        7,
        8,
        9,
        10,
        1,
    ]


def _records() -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {
            "user_id": ["a", "b", "a", "z"],
            "item_id": ["x", "x", "y", "x"],
            "rating": [5.0, 2.0, 3.0, 4.0],
            "explanation": ["Great sound!", "bad", "the tone is nice and warm today", "ok"],
            "feature": ["sound", "", "tone", "zzz"],
            "sentiment": [1, -1, 0, 1],
        }
    )


def test_encode_records_ids_text_sentiment_and_unknowns() -> None:
    recs = _records()
    tok = toy_tokenizer(toy_records(50, seed=0))
    maps = IdMaps.from_dataset(recs.select([0, 1, 2]))
    assert maps.users == ["a", "b"] and maps.items == ["x", "y"]
    enc = encode_records(recs, tok, maps, max_words=3)
    assert enc.dropped == 1 and len(enc) == 3  # user "z" is unknown
    assert enc.user.tolist() == [0, 1, 0] and enc.item.tolist() == [0, 0, 1]
    assert enc.sentiment.tolist() == [1, 0, 1]  # label 0 falls back to rating >= 3
    t = tok.token_to_id
    assert enc.feature.tolist() == [t("sound"), tok.unk_id, t("tone")]
    bos, eos, pad, unk = tok.bos_id, tok.eos_id, tok.pad_id, tok.unk_id
    assert enc.text.tolist() == [
        [bos, t("great"), t("sound"), unk, eos],  # "!" is out of the toy vocabulary
        [bos, t("bad"), eos, pad, pad],
        [bos, t("the"), t("tone"), t("is"), eos],
    ]
    # a batch is trimmed to its longest row
    assert enc.batch(torch.tensor([1])).text.tolist() == [[bos, t("bad"), eos]]


def test_batch_width_is_the_longest_rows_last_token() -> None:
    """Trailing columns that are <pad> in every row of the batch are dropped; at least one column stays
    (an all-pad row, which encode_records never makes, counts as width 0)."""
    pad = 2
    text = torch.tensor([[0, 5, 1, pad, pad, pad], [0, 5, 6, 7, 1, pad], [pad] * 6, [0, 1, pad, 9, pad, pad]])
    n = len(text)
    zeros = torch.zeros(n, dtype=torch.long)
    enc = EncodedRecords(zeros, zeros, zeros.float(), zeros, zeros, text, pad_id=pad)
    for rows, width in (([0], 3), ([1], 5), ([2], 1), ([0, 2], 3), ([3], 4), ([2, 0, 1], 5), ([], 1)):
        batch = enc.batch(torch.tensor(rows, dtype=torch.long))
        assert batch.text.shape == (len(rows), width)
        assert batch.text.tolist() == text[rows, :width].tolist()


def test_requests_are_checked() -> None:
    tok = toy_tokenizer(toy_records(50, seed=0))
    maps = IdMaps(users=["a"], items=["x"])
    b = encode_requests(
        [ExplainRequest("a", "x", 2.0, "tone")], tok, maps, rating_range=(1, 5), takes_feature=True
    )
    assert (
        b.text.tolist() == [[tok.bos_id]]
        and b.sentiment.tolist() == [0]
        and b.feature.tolist() == [tok.token_to_id("tone")]
    )
    two_words = encode_requests(
        [ExplainRequest("a", "x", 2.0, "warm tone")], tok, maps, rating_range=(1, 5), takes_feature=True
    )
    assert two_words.feature.tolist() == [tok.token_to_id("tone")]  # the compound's head word
    cases = [
        (ExplainRequest("q", "x", 3.0), "request 0: unknown user_id 'q'"),
        (ExplainRequest("a", "q", 3.0), "request 0: unknown item_id 'q'"),
        (ExplainRequest("a", "x", 7.0), r"rating 7.0 is outside the rating range \[1, 5\]"),
        (ExplainRequest("a", "x", math.nan), "rating nan is outside"),
    ]
    for req, msg in cases:
        with pytest.raises(RequestError, match=msg):
            encode_requests([req], tok, maps, rating_range=(1, 5), takes_feature=False)
    with pytest.raises(RequestError, match="request 3: this explainer takes the ground-truth feature"):
        encode_requests(
            [ExplainRequest("a", "x", 3.0)],
            tok,
            maps,
            rating_range=(1, 5),
            takes_feature=True,
            first_index=3,
        )


def test_epoch_order_is_a_function_of_seed_and_epoch() -> None:
    a = epoch_permutation(50, seed=7, epoch=2)
    gen = torch.Generator()
    gen.manual_seed(9)
    assert torch.equal(a, torch.randperm(50, generator=gen))  # seed + epoch
    assert not torch.equal(a, epoch_permutation(50, seed=7, epoch=3))
    tok = toy_tokenizer(toy_records(50, seed=0))
    recs = toy_records(50, seed=0)
    enc = encode_records(recs, tok, IdMaps.from_dataset(recs), max_words=15)
    loader = train_loader(enc, batch_size=16, seed=7, epoch=2)
    assert len(loader) == 4
    users = torch.cat([b.user for b in loader])
    assert torch.equal(users, enc.user[a])
