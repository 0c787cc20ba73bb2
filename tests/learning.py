"""Shared checks for the neural baselines' tests: conformance and "it learned more than word frequencies"."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import datasets

from explainbench.api.explainer import ExplainContext, Explainer, ExplainerConfig
from explainbench.data import load_split, load_tokenizer
from explainbench.testing import check_explainer


def unigram_cross_entropy(train: Any, validation: Any, tokenizer: Any) -> float:
    """Validation NLL per target word of the add-one train unigram model: what ignoring context gives."""

    def targets(texts: list[str]) -> list[int]:
        return [t for text in texts for t in [*tokenizer.encode(text)[:15], tokenizer.eos_id]]

    counts = Counter(targets(train["explanation"]))
    total = sum(counts.values()) + tokenizer.vocab_size
    val = targets(validation["explanation"])
    return -sum(math.log((counts[t] + 1) / total) for t in val) / len(val)


def assert_conforms(cls: type[Explainer], config: ExplainerConfig, home: Path) -> None:
    """check_explainer raises on the first broken promise; the report must name the key checks."""
    report = check_explainer(cls, config=config, home=home)
    passed = " | ".join(report.passed)
    assert "save/load round trip" in passed and "two fresh fits" in passed, str(report)


def fit_on_tiny(cls: type[Explainer], config: ExplainerConfig, home: Path) -> tuple[Any, float]:
    """Fit on synthetic-tiny split 1; returns the explainer and the unigram cross-entropy to beat."""
    dd = load_split("synthetic-tiny", 1, home=home)
    tokenizer = load_tokenizer("synthetic-tiny", 1, home=home)
    context = ExplainContext(tokenizer=tokenizer, progress=False)
    explainer = cls(config).fit(dd["train"], dd["validation"], context=context)
    return explainer, unigram_cross_entropy(dd["train"], dd["validation"], tokenizer)


def toy_text(vocab: Any, gen: Any, n: int, length: int) -> Any:
    """Random `<bos> w .. <eos> <pad>` rows for module-level tests; row 0 is a short one (eos at 3)."""
    import torch

    text = torch.randint(4, vocab.size, (n, length), generator=gen)
    text[:, 0] = vocab.bos_id
    text[:, -1] = vocab.pad_id
    text[0, 3], text[0, 4:] = vocab.eos_id, vocab.pad_id
    text[1:, -2] = vocab.eos_id
    return text


def stepwise_nll(module: Any, batch: Any, vocab: Any) -> float:
    """Mean per-token NLL of batch.text under step-by-step decoding (start_decoding, decode_step), the
    reference that a module's teacher-forced loss must equal; checks each step's logits shape."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        state = module.start_decoding(batch)
        nll, count = 0.0, 0
        for t in range(batch.text.shape[1] - 1):
            logits, state = module.decode_step(state, batch.text[:, t])
            assert logits.shape == (len(batch), vocab.size)
            target = batch.text[:, t + 1]
            keep = target != vocab.pad_id
            nll += float(-F.log_softmax(logits, -1)[keep, target[keep]].sum())
            count += int(keep.sum())
    return nll / count


NOUNS = ["soup", "staff", "view", "room", "price", "music"]
ADJECTIVES = ["salty", "rude", "grand", "tiny", "fair", "loud"]


def item_fixes_text(n: int, seed: int) -> datasets.Dataset:
    """Item k writes "the NOUN_k was ADJ_k ."; the user (one of 6) and the rating carry nothing."""
    rng = random.Random(seed)
    rows: dict[str, list] = {c: [] for c in ("user_id", "item_id", "rating", "explanation", "feature")}
    for _ in range(n):
        k = rng.randrange(len(NOUNS))
        rows["user_id"].append(f"u{rng.randrange(6)}")
        rows["item_id"].append(f"i{k}")
        rows["rating"].append(float(rng.randint(1, 5)))
        rows["explanation"].append(f"the {NOUNS[k]} was {ADJECTIVES[k]} .")
        rows["feature"].append(NOUNS[k])
    return datasets.Dataset.from_dict(rows)
