"""The retrieval floor: answers worked out by hand on a tiny corpus, back-off, save/load, conformance."""

from __future__ import annotations

import datasets
import pytest

from baselines.retrieval import Retrieve, RetrieveConfig
from explainbench.api.explainer import ExplainContext, ExplainRequest, RequestError
from explainbench.data.tokenizer import ExplanationTokenizer
from explainbench.testing import check_explainer

# user, item, rating, explanation
RECORDS = [
    ("u1", "a", 5.0, "the bass is deep"),
    ("u2", "a", 4.0, "the strap is comfy"),
    ("u1", "b", 5.0, "deep bass and warm tone"),  # u1 writes about bass
    ("u2", "c", 4.0, "comfy strap for long gigs"),  # u2 about the strap
    ("u3", "d", 3.0, "the case is solid"),  # d has one sentence: it backs off at min_candidates 2
    ("u3", "e", 3.0, "solid case and tuner"),  # e is d's nearest item (shares "solid case")
    ("u4", "e", 2.0, "the tuner is noisy"),
]


def dataset(rows):
    users, items, ratings, texts = zip(*rows, strict=True) if rows else ((), (), (), ())
    return datasets.Dataset.from_dict(
        {"user_id": list(users), "item_id": list(items), "rating": list(ratings), "explanation": list(texts)}
    )


@pytest.fixture(scope="module")
def context():
    tokenizer = ExplanationTokenizer.build([r[3] for r in RECORDS], vocab_size=100)
    return ExplainContext(tokenizer=tokenizer, progress=False)


def answers(model, pairs):
    return [e.text for e in model.explain([ExplainRequest(u, i, 4.0) for u, i in pairs])]


def test_each_user_gets_the_item_sentence_nearest_to_what_they_write(context):
    model = Retrieve(RetrieveConfig(min_candidates=1)).fit(dataset(RECORDS), dataset([]), context=context)
    # on item a: u1 (bass) -> the bass sentence, u2 (strap) -> the strap sentence
    assert answers(model, [("u1", "a"), ("u2", "a")]) == ["the bass is deep", "the strap is comfy"]
    # min_candidates 1: d answers from its own single sentence whoever asks
    assert answers(model, [("u4", "d")]) == ["the case is solid"]


def test_items_with_few_sentences_back_off_to_their_nearest_items(context):
    config = RetrieveConfig(min_candidates=2, neighbours=1)
    model = Retrieve(config).fit(dataset(RECORDS), dataset([]), context=context)
    # d's candidates: its own sentence, then e's two; u4 wrote "the tuner is noisy" -> that one
    assert answers(model, [("u4", "d")]) == ["the tuner is noisy"]
    rows, n_own = model.candidates("d")
    assert n_own == 1 and [model.sentences[r] for r in rows[:1]] == ["the case is solid"]
    assert {model.sentences[r] for r in rows[1:]} == {"solid case and tuner", "the tuner is noisy"}


def test_save_load_and_unknown_ids(context, tmp_path):
    model = Retrieve().fit(dataset(RECORDS), dataset([]), context=context)
    model.save(tmp_path)
    again = Retrieve.load(tmp_path)
    pairs = [(u, i) for u, i, _, _ in RECORDS]
    assert answers(again, pairs) == answers(model, pairs)
    with pytest.raises(RequestError, match="unknown user 'zz'"):
        model.explain([ExplainRequest("zz", "a", 4.0)])
    lenient = Retrieve(RetrieveConfig(unknown_ids="fallback"))
    lenient.fit(dataset(RECORDS), dataset([]), context=context)
    # an unknown user: the item's sentence nearest the item's profile; an unknown item: the user's nearest
    assert answers(lenient, [("zz", "a")])[0] in {"the bass is deep", "the strap is comfy"}
    assert answers(lenient, [("u1", "zz")])[0] in {"the bass is deep", "deep bass and warm tone"}


def test_retrieve_passes_the_conformance_suite(home):
    report = check_explainer(Retrieve, home=home)
    assert len(report.passed) == 6 and report.explainer == "retrieve"
