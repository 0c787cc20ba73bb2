"""A hand-built, deterministic toy corpus in the canonical schema, for the engine tests (tests/toy.py).

Each (user, item) pair has one feature ((u + i) mod 5) and one polarity; the explanation is
"the <feature> is <adjective>" (+ "and i love it" when positive), so a model that learns the pair's
feature and polarity from its embeddings can drive the text loss far below the unigram entropy.
Seconds to build; no files, no network. The real test corpus is the data layer's `synthetic-tiny`.
"""

from __future__ import annotations

import random

import datasets

from explainbench.data.tokenizer import ExplanationTokenizer

FEATURES = ("sound", "price", "strings", "tone", "case")
ADJECTIVES = {1: ("great", "nice", "good"), 0: ("bad", "poor", "cheap")}


def toy_records(n: int, *, seed: int, n_users: int = 20, n_items: int = 15) -> datasets.Dataset:
    """n records with the canonical explanation columns (user_id .. sentiment) from random.Random(seed)."""
    rng = random.Random(seed)
    cols: dict[str, list] = {
        k: [] for k in ("user_id", "item_id", "rating", "explanation", "feature", "sentiment")
    }
    for _ in range(n):
        u, i = rng.randrange(n_users), rng.randrange(n_items)
        feature = FEATURES[(u + i) % len(FEATURES)]
        positive = (7 * u + i) % 3 != 0
        rating = float(rng.choice((4, 5)) if positive else rng.choice((1, 2)))
        text = f"the {feature} is {rng.choice(ADJECTIVES[int(positive)])}" + (
            " and i love it" if positive else ""
        )
        cols["user_id"].append(f"u{u}")
        cols["item_id"].append(f"i{i}")
        cols["rating"].append(rating)
        cols["explanation"].append(text)
        cols["feature"].append(feature)
        cols["sentiment"].append(1 if positive else -1)
    return datasets.Dataset.from_dict(cols)


def toy_tokenizer(train: datasets.Dataset, max_words: int = 15) -> ExplanationTokenizer:
    """The shared tokenizer built on the toy train split (feature words added, as PETER does)."""
    return ExplanationTokenizer.build(
        train["explanation"], max_words=max_words, extra_words=train["feature"]
    )
