"""Golden vectors: tests/golden/metrics_golden.json (written by tests/golden/make_golden.py, a plain
statement of the reference code's definitions plus sacrebleu / rouge-score / nltk) must be reproduced
case by case. Where ../shared/golden/metrics_golden.json (computed with the reference code itself) is
present, make_golden's definitions must reproduce it too. Plus second-implementation checks of the fast
paths against the packages themselves on random text."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from golden.make_golden import FEATURES, expected_values, make_cases
from shared_paths import SHARED_GOLDEN, require_shared

from explainbench.api.results import Sample
from explainbench.metrics import score_samples
from explainbench.metrics.wordnet import wordnet_available

GOLDEN = Path(__file__).resolve().parent / "golden" / "metrics_golden.json"

REFERENCE_KEYS = {
    "bleu1": "bleu1",
    "bleu4": "bleu4",
    "usr": "usr",
    "fmr": "fmr",
    "fcr": "fcr",
    "div": "div",
    **{f"rouge{n}_{p}": f"rouge_{n}/{p}_score" for n in ("1", "2") for p in "prf"},
    **{f"rougeL_{p}": f"rouge_l/{p}_score" for p in "prf"},
}
STANDARD_KEYS = {
    "sacrebleu": "sacrebleu",
    "rs_rouge1": "rouge_score_rouge1_f",
    "rs_rouge2": "rouge_score_rouge2_f",
    "rs_rougeL": "rouge_score_rougeL_f",
    "meteor": "meteor_nltk",
}


def _golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def _samples(case: dict) -> list[Sample]:
    return [
        Sample(user_id=f"u{i}", item_id=f"i{i}", rating=3.0, reference=r, generated=h, feature=f)
        for i, (r, h, f) in enumerate(
            zip(case["references"], case["hypotheses"], case["features_gt"], strict=True)
        )
    ]


@pytest.fixture(scope="module")
def reports() -> dict:
    g = _golden()
    return {
        c["name"]: score_samples(_samples(c), feature_set=g["feature_set"], n_boot=0, per_count=False)
        for c in g["cases"]
    }


@pytest.mark.parametrize("case", _golden()["cases"], ids=lambda c: c["name"])
def test_reference_family_reproduces_golden_to_1e6(case, reports):
    report = reports[case["name"]]
    for ours, theirs in REFERENCE_KEYS.items():
        assert report.value(ours) == pytest.approx(case["expected"][theirs], abs=1e-6), ours


@pytest.mark.parametrize("case", _golden()["cases"], ids=lambda c: c["name"])
def test_standard_family_reproduces_golden_to_1e4(case, reports):
    assert wordnet_available() is None, "WordNet missing: run `make setup`"
    report = reports[case["name"]]
    for ours, theirs in STANDARD_KEYS.items():
        assert report.value(ours) == pytest.approx(case["expected"][theirs], abs=1e-4), ours


def _random_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    g = _golden()
    words = sorted({w for c in g["cases"] for s in c["references"] for w in s.split()})
    rich = [
        "good",
        "great",
        "nice",
        "fine",
        "sound",
        "sounds",
        "play",
        "played",
        "strings",
        "string",
        "Great",
        "cheap",
        "inexpensive",
        "buy",
        "bought",
        ",",
        "'s",
        "n't",
        "works",
        "working",
    ]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = rich if rng.random() < 0.5 else words
        ref = [rng.choice(pool) for _ in range(rng.randint(0, 14))]
        hyp = (
            [rng.choice(pool) for _ in range(rng.randint(0, 14))]
            if rng.random() < 0.7
            else rng.sample(ref, len(ref))
        )
        out.append((" ".join(ref), " ".join(hyp)))
    return out


def test_fast_meteor_equals_nltk_meteor_score():
    from nltk.translate.meteor_score import meteor_score

    from explainbench.metrics.table import meteor_scorer

    scorer = meteor_scorer()
    assert scorer.unavailable is None, scorer.unavailable
    for ref, hyp in _random_pairs(1500, seed=3):
        r, h = ref.split(), hyp.split()
        expected = meteor_score([r], h) if r and h else 0.0  # NLTK answers 0 (ZeroDivision) for an empty side
        assert scorer.score(r, h) == pytest.approx(expected, abs=1e-12), (ref, hyp)


def test_rouge_score_port_equals_the_package():
    from rouge_score import rouge_scorer

    from explainbench.metrics.text_std import RougeScoreTokenizer, rs_rouge_stats

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    tok = RougeScoreTokenizer()
    for ref, hyp in _random_pairs(800, seed=4) + [("Hello, World!!", "hello world"), ("", "a")]:
        s = scorer.score(ref, hyp)
        ours = rs_rouge_stats(tok, ref, hyp)
        assert ours == pytest.approx(
            [s["rouge1"].fmeasure, s["rouge2"].fmeasure, s["rougeL"].fmeasure], abs=1e-12
        )


def test_sacrebleu_statistics_equal_sacrebleus_own():
    import sacrebleu

    from explainbench.metrics.table import TextColumns, _text_block
    from explainbench.metrics.text_std import SACREBLEU_COLUMNS, sacrebleu_from_sums, sacrebleu_stats

    tricky = [
        ("it's $5 -- ok.", "it 's $ 5 -- ok ."),
        ("a&amp;b", "a & b"),
        ("a.b 5.5 x-y 3-4", "a . b 5.5 x - y"),
        ("<skipped> (x) don't", "( x ) don ' t"),
        ("ok , fine . 5,000", "ok, fine. 5,000 !"),
        ("é ü 1²", "é ü"),
    ]
    pairs = _random_pairs(600, seed=5) + tricky
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    ours = _text_block((refs, hyps, TextColumns(meteor=False)))[:, -len(SACREBLEU_COLUMNS) :]
    np.testing.assert_array_equal(ours, sacrebleu_stats(refs, hyps))
    std_only = _text_block((refs, hyps, TextColumns(reference=False, meteor=False)))  # no BLEU/ROUGE columns
    np.testing.assert_array_equal(std_only[:, -len(SACREBLEU_COLUMNS) :], ours)
    expected = sacrebleu.corpus_bleu(hyps, [refs]).score
    assert sacrebleu_from_sums(ours.sum(axis=0)) == pytest.approx(expected, abs=1e-9)


def test_committed_golden_file_is_what_make_golden_writes():
    """Inputs and reference-family values as the generator states them (no hand edits, no drift)."""
    g = _golden()
    fresh = make_cases()
    assert g["feature_set"] == FEATURES
    assert [c["name"] for c in g["cases"]] == [c["name"] for c in fresh]
    for case, new in zip(g["cases"], fresh, strict=True):
        for key in ("references", "hypotheses", "features_gt"):
            assert case[key] == new[key], (case["name"], key)
        again = expected_values(new, FEATURES, standard=False)
        for key, value in again.items():
            assert case["expected"][key] == pytest.approx(value, abs=1e-9), (case["name"], key)


def test_make_golden_reproduces_the_reference_codes_vectors_in_shared():
    """The brute-force definitions against ../shared's vectors, computed with the reference code."""
    shared = json.loads(require_shared(SHARED_GOLDEN).read_text(encoding="utf-8"))
    for case in shared["cases"]:
        ours = expected_values(case, shared["feature_set"])
        for key, value in case["expected"].items():
            tol = 1e-4 if key in STANDARD_KEYS.values() else 1e-6
            assert ours[key] == pytest.approx(value, abs=tol), (case["name"], key)


@pytest.mark.parametrize("ci", ["true", "TRUE", "", "false"])
def test_a_missing_shared_path_skips_except_on_ci(tmp_path, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    missing = tmp_path / "no-such-dir"
    expected = pytest.fail.Exception if ci.lower() == "true" else pytest.skip.Exception
    with pytest.raises(expected, match="no-such-dir"):
        require_shared(missing)
    (tmp_path / "here").mkdir()
    assert require_shared(tmp_path / "here") == tmp_path / "here"
