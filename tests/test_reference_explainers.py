"""The reference explainers on hand-built data (expected answers counted by hand), then conformance."""

from __future__ import annotations

from collections import Counter

import datasets
import pytest

from baselines.reference import GlobalPopular, ItemPopular, RandomTrain, ReferenceConfig, most_frequent
from explainbench.api.explainer import ExplainContext, ExplainRequest, RequestError
from explainbench.data.tokenizer import ExplanationTokenizer

# user, item, rating, explanation
RECORDS = [
    ("u1", "i1", 5.0, "Great sound!"),  # -> "great sound !"
    ("u1", "i2", 4.0, "great  sound !"),  # same sentence after the tokenizer
    ("u2", "i1", 2.0, "bad strings"),
    ("u2", "i2", 1.0, "bad strings"),
    ("u2", "i3", 1.0, "awful tuner"),
    ("u3", "i1", 4.0, "nice case"),
    ("u3", "i3", 5.0, "nice case"),
    ("u3", "i2", 3.0, "solid build"),
    ("u4", "i4", 4.0, ""),  # i4 has no explanation at all: item-popular falls back to u4's
    ("u4", "i6", 4.0, "warm tone"),
    ("u5", "i5", 4.0, ""),  # u5 and i5 have none: global
    ("u6", "i1", 4.0, "nice case"),
]
# Hand counts after normalisation:
#   all:       nice case 3, great sound ! 2, bad strings 2, 1 each: awful tuner, solid build, warm tone
#              -> "nice case"
#   rating>=3: nice case 3, great sound ! 2, solid build 1, warm tone 1                   -> "nice case"
#   rating<3:  bad strings 2, awful tuner 1                                                -> "bad strings"
#   i1: great sound ! 1, bad strings 1, nice case 2 -> "nice case"
#   i2: great sound ! 1, bad strings 1, solid build 1 -> tie, alphabetically first "bad strings"
#   i3: awful tuner 1, nice case 1 -> "awful tuner"
#   u4 (for i4): warm tone 1 -> "warm tone";  u1: great sound ! 2 -> "great sound !"


def dataset(rows):
    users, items, ratings, texts = zip(*rows, strict=True) if rows else ((), (), (), ())
    return datasets.Dataset.from_dict(
        {"user_id": list(users), "item_id": list(items), "rating": list(ratings), "explanation": list(texts)}
    )


@pytest.fixture(scope="module")
def context():
    tokenizer = ExplanationTokenizer.build([r[3] for r in RECORDS], vocab_size=100)
    return ExplainContext(tokenizer=tokenizer, progress=False)


def fit(cls, context, config=None, rows=RECORDS):
    return cls(config).fit(dataset(rows), dataset([]), context=context)


def texts(model, pairs):
    return [e.text for e in model.explain([ExplainRequest(u, i, r) for u, i, r in pairs])]


def test_most_frequent_ties_go_alphabetically():
    assert most_frequent(["b", "a", "b", "a", "c"]) == "a"
    assert most_frequent(["", ""]) is None
    assert most_frequent(["z", "y", "z"]) == "z"


def test_global_popular_follows_the_request_sentiment(context):
    model = fit(GlobalPopular, context)
    assert texts(model, [("u1", "i1", 5.0), ("u2", "i2", 1.0), ("u3", "i3", 3.0), ("u3", "i3", 2.99)]) == [
        "nice case",
        "bad strings",
        "nice case",
        "bad strings",
    ]
    stricter = fit(GlobalPopular, context, ReferenceConfig(positive_threshold=4.5))
    # rating >= 4.5: only the two 5.0 records: "great sound !" and "nice case" -> tie -> "great sound !"
    assert texts(stricter, [("u1", "i1", 5.0)]) == ["great sound !"]


def test_global_popular_falls_back_when_a_sentiment_has_no_record(context):
    only_positive = [r for r in RECORDS if r[2] >= 3]
    model = fit(GlobalPopular, context, rows=only_positive)
    assert texts(model, [("u1", "i1", 1.0)]) == ["nice case"]


def test_item_popular_item_then_user_then_global(context):
    model = fit(ItemPopular, context)
    pairs = [("u1", "i1", 1.0), ("u1", "i2", 5.0), ("u1", "i3", 5.0), ("u4", "i4", 5.0), ("u5", "i5", 5.0)]
    assert texts(model, pairs) == ["nice case", "bad strings", "awful tuner", "warm tone", "nice case"]
    fallback = fit(ItemPopular, context, ReferenceConfig(unknown_ids="fallback"))
    # unknown item -> the user's favourite; unknown user and item -> global
    assert texts(fallback, [("u1", "new-item", 5.0), ("new-user", "new-item", 5.0)]) == [
        "great sound !",
        "nice case",
    ]


def test_outputs_are_in_the_tokenizer_reference_form(context):
    small = ExplainContext(tokenizer=ExplanationTokenizer.build([r[3] for r in RECORDS], vocab_size=3),
                           progress=False)
    model = fit(ItemPopular, small)
    # vocabulary of 3 words: nice, case, ... ; "great sound !" maps partly to <unk>
    out = texts(model, [("u1", "i1", 5.0), ("u1", "i2", 5.0)])
    assert out[0] == small.tokenizer.reference("nice case")
    assert "<unk>" in out[1]


def test_random_train_is_uniform_over_training_records_and_repeatable(context):
    model = fit(RandomTrain, context, ReferenceConfig(unknown_ids="fallback"))
    pairs = [(f"user{k}", f"item{k % 7}", 4.0) for k in range(4000)]
    first = texts(model, pairs)
    assert first == texts(model, pairs)
    assert first[:100] == texts(model, pairs[:100])  # independent of batch composition
    counts = Counter(first)
    # 10 non-empty training sentences: nice case 3, great sound ! 2, bad strings 2, three others 1 each
    expected = {"nice case": 0.3, "great sound !": 0.2, "bad strings": 0.2, "awful tuner": 0.1,
                "solid build": 0.1, "warm tone": 0.1}
    assert set(counts) == set(expected)
    for sentence, share in expected.items():
        assert abs(counts[sentence] / len(first) - share) < 0.03, (sentence, counts[sentence])
    other_seed = fit(RandomTrain, context, ReferenceConfig(seed=2, unknown_ids="fallback"))
    agree = sum(a == b for a, b in zip(first, texts(other_seed, pairs), strict=True)) / len(first)
    # two independent draws agree with probability sum(p^2) = (9 + 4 + 4 + 1 + 1 + 1) / 100
    assert abs(agree - 0.20) < 0.04


@pytest.mark.parametrize("cls", [RandomTrain, GlobalPopular, ItemPopular])
def test_bad_requests_raise_request_error(cls, context):
    model = fit(cls, context)
    for request, message in (
        (ExplainRequest("nobody", "i1", 4.0), "unknown user 'nobody'"),
        (ExplainRequest("u1", "nothing", 4.0), "unknown item 'nothing'"),
        (ExplainRequest("u1", "i1", float("nan")), "finite number"),
        (ExplainRequest("u1", "i1", "four"), "give a number"),  # type: ignore[arg-type]
    ):
        with pytest.raises(RequestError, match=message):
            model.explain([request])


@pytest.mark.parametrize("cls", [RandomTrain, GlobalPopular, ItemPopular])
def test_save_load_round_trip(cls, context, tmp_path):
    model = fit(cls, context)
    pairs = [(u, i, r) for u, i, r, _ in RECORDS]
    model.save(tmp_path)
    again = cls.load(tmp_path)
    assert texts(again, pairs) == texts(model, pairs)
    assert again.config == model.config
    other = {RandomTrain: GlobalPopular, GlobalPopular: ItemPopular, ItemPopular: RandomTrain}[cls]
    with pytest.raises(ValueError, match=f"written by '{cls.name}'"):
        other.load(tmp_path)


def test_no_explanations_is_an_error(context):
    with pytest.raises(ValueError, match="no non-empty explanation"):
        fit(GlobalPopular, context, rows=[("u1", "i1", 4.0, "")])
