"""Write tests/golden/metrics_golden.json: golden metric vectors that every clone can test against.

    python -m tests.golden.make_golden          # from the repository root; rewrites the JSON

The inputs are made here from hand-written review sentences and a seeded generator (no outside data).
The expected values are computed by a second, deliberately plain statement of each definition, not by
explainbench:
- the reference family (BLEU-1/4, ROUGE-1/2/L P/R/F, USR, FMR, FCR, DIV) as the reference code
  (PETER's bleu.py / rouge.py / utils.py) defines them, written as direct loops over n-grams, LCS
  tables and all pairs i < j (see ../shared/guide/REFERENCE-NOTES.md, section 4);
- the standard family by the packages themselves: sacrebleu.corpus_bleu, rouge_score.RougeScorer
  (stemmed F, sentence mean), nltk's meteor_score (sentence mean; 0 where NLTK fails on an empty side).
The keys of `expected` are the ones of ../shared/golden/metrics_golden.json, so one test can check
that these functions reproduce that file (computed with the reference code itself) where it is present.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "metrics_golden.json"
MAX_WORDS = 15  # the reference pipeline truncates references to 15 words

# ---------------------------------------------------------------------------------------------------
# the reference family, brute force


def _ngram_counts(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def ref_bleu(references: list[list[str]], hypotheses: list[list[str]], max_order: int) -> float:
    """Corpus BLEU: clipped matches and candidate n-grams summed over the corpus per order, no
    smoothing, geometric mean (0 if any precision is 0), BP = exp(1 - r/c) when c <= r; x100."""
    matches = [0] * max_order
    possible = [0] * max_order
    ref_len = hyp_len = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        ref_len += len(ref)
        hyp_len += len(hyp)
        for n in range(1, max_order + 1):
            h, r = _ngram_counts(hyp, n), _ngram_counts(ref, n)
            matches[n - 1] += sum(min(c, r[g]) for g, c in h.items())
            possible[n - 1] += max(0, len(hyp) - n + 1)
    precisions = [m / p if p > 0 else 0.0 for m, p in zip(matches, possible, strict=True)]
    if min(precisions) <= 0:
        return 0.0
    geo = math.exp(sum(math.log(p) for p in precisions) / max_order)
    ratio = hyp_len / ref_len
    bp = 1.0 if ratio > 1.0 else math.exp(1 - 1 / ratio)
    return 100 * geo * bp


def _words(tokens: list[str]) -> list[str]:
    """The reference joins tokens with spaces and splits again: an empty text is one empty word."""
    return " ".join(tokens).split(" ")


def _rouge_n(ref: list[str], hyp: list[str], n: int) -> tuple[float, float, float]:
    r = {tuple(ref[i : i + n]) for i in range(len(ref) - n + 1)}
    h = {tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1)}
    common = len(r & h)
    p = common / len(h) if h else 0.0
    rec = common / len(r) if r else 0.0
    return 2.0 * p * rec / (p + rec + 1e-8), p, rec


def _lcs(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[len(a)][len(b)]


def _rouge_l(ref: list[str], hyp: list[str]) -> tuple[float, float, float]:
    lcs = _lcs(hyp, ref)
    rec, p = lcs / len(ref), lcs / len(hyp)
    beta = p / (rec + 1e-12)
    f = (1 + beta**2) * rec * p / (rec + beta**2 * p + 1e-12)
    return f, p, rec


def ref_rouge(references: list[list[str]], hypotheses: list[list[str]]) -> dict[str, float]:
    """Sentence-level ROUGE-1/2 over n-gram sets and ROUGE-L (beta = P/R), means x100."""
    rows: dict[str, list[tuple[float, float, float]]] = {"rouge_1": [], "rouge_2": [], "rouge_l": []}
    for ref, hyp in zip(references, hypotheses, strict=True):
        r, h = _words(ref), _words(hyp)
        rows["rouge_1"].append(_rouge_n(r, h, 1))
        rows["rouge_2"].append(_rouge_n(r, h, 2))
        rows["rouge_l"].append(_rouge_l(r, h))
    out = {}
    for key, triples in rows.items():
        for k, part in enumerate(("f", "p", "r")):
            out[f"{key}/{part}_score"] = 100 * sum(t[k] for t in triples) / len(triples)
    return out


def ref_feature_metrics(
    hypotheses: list[list[str]], features_gt: list[str], feature_set: list[str]
) -> dict[str, float]:
    """USR (distinct sentences, by linear search), FMR, FCR and DIV (every pair i < j)."""
    unique: list[list[str]] = []
    for hyp in hypotheses:
        if all(hyp != u for u in unique):
            unique.append(hyp)
    fs = set(feature_set)
    found = [{w for w in hyp if w in fs} for hyp in hypotheses]
    n = len(hypotheses)
    pairs = sum(len(found[i] & found[j]) for i in range(n) for j in range(i + 1, n))
    return {
        "usr": len(unique) / n,
        "usn": len(unique),
        "fmr": sum(f in s for f, s in zip(features_gt, found, strict=True)) / n,
        "fcr": len(set().union(*found)) / len(fs),
        "div": pairs / (n * (n - 1) / 2),
    }


# ---------------------------------------------------------------------------------------------------
# the standard family, by the packages


def std_metrics(references: list[list[str]], hypotheses: list[list[str]]) -> dict[str, float]:
    """sacreBLEU corpus BLEU, rouge-score stemmed F (sentence mean), NLTK METEOR (sentence mean), x100."""
    import sacrebleu
    from nltk.translate.meteor_score import meteor_score
    from rouge_score import rouge_scorer

    refs = [" ".join(r) for r in references]
    hyps = [" ".join(h) for h in hypotheses]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scores = [scorer.score(r, h) for r, h in zip(refs, hyps, strict=True)]
    meteor = [meteor_score([r], h) if r and h else 0.0 for r, h in zip(references, hypotheses, strict=True)]
    n = len(refs)
    return {
        "meteor_nltk": 100 * sum(meteor) / n,
        "sacrebleu": sacrebleu.corpus_bleu(hyps, [refs]).score,
        **{
            f"rouge_score_{k}_f": 100 * sum(s[k].fmeasure for s in scores) / n
            for k in ("rouge1", "rouge2", "rougeL")
        },
    }


def expected_values(case: dict[str, Any], feature_set: list[str], standard: bool = True) -> dict[str, float]:
    """Every expected value of one case (keys as in ../shared/golden/metrics_golden.json)."""
    refs = [s.split() for s in case["references"]]
    hyps = [s.split() for s in case["hypotheses"]]
    out = {"bleu1": ref_bleu(refs, hyps, 1), "bleu4": ref_bleu(refs, hyps, 4)}
    out.update(ref_rouge(refs, hyps))
    out.update(ref_feature_metrics(hyps, case["features_gt"], feature_set))
    if standard:
        out.update(std_metrics(refs, hyps))
    return out


# ---------------------------------------------------------------------------------------------------
# the inputs: hand-written sentences and seeded variations of them

FEATURES = [
    "strings", "tuner", "pedal", "cable", "sound", "price", "case", "strap", "neck", "pickups",
    "amp", "mic", "stand", "capo", "picks", "knobs", "battery", "volume", "tone", "frets",
    "bridge", "jack", "quality", "screen", "clip", "bag", "drum", "keyboard", "speaker", "headphones",
]  # fmt: skip

# fmt: off
HAND = [
    # (reference, hypothesis, ground-truth feature): near misses, reorderings, synonyms, punctuation
    ("these strings sound bright and stay in tune for weeks",
     "these strings sound great and stay in tune", "strings"),
    ("the tuner is accurate even on a noisy stage", "the tuner is very accurate on stage", "tuner"),
    ("for the price you ca n't beat this pedal", "you ca n't beat the price of this pedal", "price"),
    ("the cable is thick , quiet and well made", "a quiet cable , well made and thick", "cable"),
    ("it 's cheap but the case feels sturdy", "it is inexpensive and the case is sturdy", "case"),
    ("my old strap broke so i bought this one", "i bought this strap because my old one broke", "strap"),
]
# fmt: on

OPENERS = ["the", "this", "my", "a", "that"]
VERBS = ["is", "feels", "sounds", "looks", "works", "seems", "was", "stays"]
ADJS = [
    "great", "good", "cheap", "inexpensive", "solid", "sturdy", "bright", "warm", "noisy", "quiet",
    "accurate", "heavy", "light", "fine", "loud", "clear", "flimsy", "perfect",
]  # fmt: skip
TAILS = [
    "for the money", "on stage", "at home", "after a month", "out of the box", ", highly recommended",
    "and i love it", "but it broke", "for a beginner", "with my amp", "compared to the old one",
    ", would buy again", "and the sound is great", "but the price is high", "so far",
]  # fmt: skip
GENERIC = ["this is a great product", "i love it"]


def _sentence(rng: random.Random, feature: str) -> str:
    words = [rng.choice(OPENERS), feature, rng.choice(VERBS)]
    if rng.random() < 0.4:
        words.append(rng.choice(["very", "really", "pretty", "not"]))
    words.append(rng.choice(ADJS))
    if rng.random() < 0.3:
        words += ["and", rng.choice(ADJS)]
    words += rng.choice(TAILS).split()
    if rng.random() < 0.5:
        words.append(rng.choice([".", "!", "."]))
    return " ".join(words[:MAX_WORDS])


def _perturb(rng: random.Random, sentence: str) -> str:
    """Drop, substitute, duplicate or swap a few words (never to an empty text)."""
    words = sentence.split()
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(words))
        op = rng.random()
        if op < 0.3 and len(words) > 2:
            del words[k]
        elif op < 0.6:
            words[k] = rng.choice(ADJS + FEATURES + ["it", "the", ","])
        elif op < 0.8:
            words.insert(k, words[k])
        else:
            j = rng.randrange(len(words))
            words[k], words[j] = words[j], words[k]
    return " ".join(words)


def _case(name: str, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "references": [r for r, _, _ in rows],
        "hypotheses": [h for _, h, _ in rows],
        "features_gt": [f for _, _, f in rows],
    }


def make_cases(seed: int = 13) -> list[dict[str, Any]]:
    """The golden inputs: a hand case and four seeded cases of different character."""
    rng = random.Random(seed)

    def refs(n: int) -> list[tuple[str, str]]:
        out = []
        for _ in range(n):
            f = rng.choice(FEATURES)
            out.append((_sentence(rng, f), f))
        return out

    cases = [_case("hand-6", HAND)]
    cases.append(_case("perturbed-120", [(r, _perturb(rng, r), f) for r, f in refs(120)]))
    cases.append(_case("generic-60", [(r, GENERIC[k % 7 == 0], f) for k, (r, f) in enumerate(refs(60))]))
    mixed = []
    pool = refs(150)
    for r, f in pool:
        u = rng.random()
        if u < 0.25:
            h = r
        elif u < 0.55:
            h = _perturb(rng, r)
        elif u < 0.8:
            h = rng.choice(pool)[0]  # another example's sentence (repeats lower USR)
        else:
            h = _sentence(rng, rng.choice(FEATURES))
        mixed.append((r, h, f))
    cases.append(_case("mixed-150", mixed))
    cases.append(_case("short-30", [(" ".join(r.split()[:4]), " ".join(_perturb(rng, r).split()[:3]), f)
                                    for r, f in refs(30)]))  # fmt: skip
    return cases


def build() -> dict[str, Any]:
    """The whole golden file: inputs and expected values."""
    cases = make_cases()
    for case in cases:
        case["expected"] = expected_values(case, FEATURES)
    return {
        "about": {
            "generator": "tests/golden/make_golden.py (python -m tests.golden.make_golden)",
            "reference": "reference-code definitions (PETER bleu.py / rouge.py / utils.py) as plain loops",
            "standard": (
                f"sacrebleu {version('sacrebleu')} corpus_bleu defaults; rouge-score "
                f"{version('rouge-score')} RougeScorer(use_stemmer=True) F mean x100; nltk {version('nltk')} "
                "meteor_score mean x100"
            ),
            "inputs": "token lists joined by spaces; references at most 15 words; feature_set: FCR "
            "denominator",
        },
        "feature_set": FEATURES,
        "cases": cases,
    }


def main() -> None:
    data = build()
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(OUT)
    print(f"wrote {OUT} ({len(data['cases'])} cases)")


if __name__ == "__main__":
    main()
