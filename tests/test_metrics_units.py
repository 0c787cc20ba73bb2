"""Hand-computed tiny cases for every metric, the documented values for empty text, and bad input."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from explainbench.api.results import Sample
from explainbench.metrics import IMPL_VERSIONS, METRICS, MetricsError, metrics_of, paired_test, score_samples
from explainbench.metrics.stats import Membership, Weights
from explainbench.metrics.text_ref import (
    bleu_from_sums,
    bleu_from_sums_batch,
    bleu_stats,
    lcs_length,
    rouge_stats,
)
from explainbench.metrics.text_std import sacrebleu_from_sums, sacrebleu_from_sums_batch


def _s(ref: str, hyp: str, **kw) -> Sample:
    uid = kw.pop("uid", "u")
    return Sample(
        user_id=uid,
        item_id=kw.pop("iid", "i"),
        rating=kw.pop("rating", 3.0),
        reference=ref,
        generated=hyp,
        **kw,
    )


def _score(samples, feature_set=None, **kw):
    kw.setdefault("n_boot", 0)
    kw.setdefault("meteor", False)
    kw.setdefault("per_count", False)
    return score_samples(samples, feature_set=feature_set, **kw)


def test_bleu1_is_max_order_1_and_both_take_the_brevity_penalty():
    # hyp "a b x d" vs ref "a b c d e f": p1 = 3/4, p2 = 1/3, p3 = p4 = 0; c = 4, r = 6 -> BP = e^(1 - 6/4)
    r = _score([_s("a b c d e f", "a b x d")])
    assert r.value("bleu1") == pytest.approx(100 * 0.75 * math.exp(1 - 1.5), abs=1e-9)
    assert r.value("bleu4") == 0.0
    # every order matches: BLEU-1 = BLEU-4 = 100 * BP, BP = e^(1 - 6/5)
    r = _score([_s("the cat sat on the mat", "the cat sat on the")])
    assert r.value("bleu1") == pytest.approx(100 * math.exp(-0.2), abs=1e-9)
    assert r.value("bleu4") == pytest.approx(100 * math.exp(-0.2), abs=1e-9)
    # corpus level: counts are summed before dividing (not a mean of sentence BLEU)
    m = bleu_stats("a b".split(), "a c".split(), 1)
    n = bleu_stats("x y z".split(), "x y z".split(), 1)
    assert bleu_from_sums([m[0] + n[0]], [m[1] + n[1]], m[2] + n[2], m[3] + n[3], 1) == pytest.approx(80.0)


def test_rouge_l_uses_beta_p_over_r_not_f1():
    # LCS 3 of hyp (3 words) and ref (6 words): R = 1/2, P = 1, beta = P/R = 2
    p, r, f = rouge_stats("a b c d e f".split(), "a b c".split())[6:]
    assert (p, r) == (1.0, 0.5)
    assert f == pytest.approx((1 + 4) * 0.5 * 1 / (0.5 + 4 * 1), abs=1e-9)  # 0.5556, where F1 would be 0.6667
    assert _score([_s("a b c d e f", "a b c")]).value("rougeL_f") == pytest.approx(100 * 2.5 / 4.5, abs=1e-6)


def test_reference_rouge_n_uses_sets_and_rouge_score_uses_counts():
    r = _score([_s("the cat", "the the the")])
    # sets: hyp {the}, ref {the, cat}: P = 1, R = 1/2, F = 2PR / (P + R + 1e-8)
    assert r.value("rouge1_p") == pytest.approx(100.0)
    assert r.value("rouge1_r") == pytest.approx(50.0)
    assert r.value("rouge1_f") == pytest.approx(100 * 2 * 0.5 / (1.5 + 1e-8), abs=1e-9)
    # rouge-score clips counts: overlap 1, P = 1/3, R = 1/2, F = 0.4
    assert r.value("rs_rouge1") == pytest.approx(40.0, abs=1e-9)
    assert r.value("rouge2_f") == 0.0  # no common bigram


def test_usr_fmr_fcr_div_by_hand():
    fs = {"room", "staff", "food", "bed"}
    samples = [
        _s("x", "the room was clean", feature="room"),
        _s("x", "room and staff", feature="food"),
        _s("x", "the room was clean", feature="staff"),
    ]
    r = _score(samples, feature_set=fs)
    assert r.value("usr") == pytest.approx(2 / 3)
    assert r.value("fmr") == pytest.approx(1 / 3)  # only the first names its feature
    assert r.value("fcr") == pytest.approx(2 / 4)  # room and staff of 4 features
    # pairs: (1,2) share {room}, (1,3) share {room}, (2,3) share {room} -> 3 / C(3,2)
    assert r.value("div") == pytest.approx(1.0)
    assert _score(samples[:2], feature_set=fs).value("div") == pytest.approx(1.0)
    assert _score([samples[0], _s("x", "nothing here")], feature_set=fs).value("div") == 0.0


def test_rmse_mae_clip_predictions_to_the_rating_range():
    samples = [_s("a", "a", rating=5.0, predicted_rating=6.5), _s("a", "a", rating=1.0, predicted_rating=2.0)]
    r = _score(samples, rating_range=(1.0, 5.0))
    assert r.value("mae") == pytest.approx(0.5)  # errors 0 (6.5 clipped to 5) and 1
    assert r.value("rmse") == pytest.approx(math.sqrt(0.5))
    assert "rmse" not in _score([_s("a", "a")]).metrics  # no predictions, no rating metrics


def test_distinct_n_by_hand():
    r = _score([_s("x", "a b a"), _s("x", "a c")])
    assert r.value("distinct1") == pytest.approx(3 / 5)  # a, b, c of 5 unigrams
    assert r.value("distinct2") == pytest.approx(3 / 3)  # (a b) (b a) (a c)


def test_specificity_by_hand():
    samples = [
        _s("x", "the front desk was rude", aspect_terms=["reception", "front desk"], detail="rooftop pool"),
        _s("x", "the desk was fine", aspect_terms=["reception", "front desk"], detail="rooftop pool"),
        _s("x", "loved the rooftop pool", aspect_terms=["pool"], detail="rooftop pool"),
    ]
    r = _score(samples)
    assert r.value("spec_aspect") == pytest.approx(2 / 3)  # "front desk" as a phrase, "pool"; not "desk"
    assert r.value("spec_detail") == pytest.approx(1 / 3)
    assert METRICS["spec_aspect"].family == "synthetic"
    assert "spec_aspect" not in _score([_s("x", "y")]).metrics  # real data: no ground-truth aspects


def test_meteor_by_hand():
    from explainbench.metrics.table import meteor_scorer

    scorer = meteor_scorer()
    assert scorer.unavailable is None, scorer.unavailable
    # all 3 words match in one chunk: P = R = 1, Fmean = 1, penalty = 0.5 (1/3)^3
    assert scorer.score("the cat sat".split(), "the cat sat".split()) == pytest.approx(
        1 - 0.5 / 27, abs=1e-12
    )
    # stem match (sounds / sound) and WordNet synonym (car / auto): 2 matches, 2 chunks, P = R = 1
    from nltk.translate.meteor_score import meteor_score

    assert scorer.score("auto sound".split(), "sounds car".split()) == pytest.approx(
        1 - 0.5 * 1.0**3, abs=1e-12
    )
    assert meteor_score([["auto", "sound"]], ["sounds", "car"]) == pytest.approx(0.5, abs=1e-12)
    # NLTK looks synonyms up on the STEMS left after the stem stage: inexpensive -> "inexpens" finds none
    assert scorer.score("cheap sound".split(), "sounds inexpensive".split()) == pytest.approx(0.25, abs=1e-12)
    assert scorer.score([], ["a"]) == 0.0 and scorer.score(["a"], ["b"]) == 0.0


def test_empty_texts_have_defined_scores_and_no_nan():
    samples = [_s("", ""), _s("a b", ""), _s("", "a b"), _s("a b", "a b")]
    r = score_samples(samples, feature_set={"a"}, n_boot=20, meteor=True)
    values = [m["value"] for m in r.to_dict()["metrics"].values()]
    assert values and all(np.isfinite(v) for v in values)
    json.dumps(r.to_dict(), allow_nan=False)  # raises on NaN / inf anywhere (intervals, buckets)
    # the reference re-splits "" into [""]: two empty texts match on the empty token (documented quirk)
    assert rouge_stats([], [])[:3] == pytest.approx([1.0, 1.0, 1.0], abs=1e-7)
    assert rouge_stats(["a"], []) == [0.0] * 9
    all_empty = _score([_s("a", ""), _s("b", "")])
    assert (
        all_empty.value("bleu1") == 0.0
        and all_empty.value("bleu4") == 0.0
        and all_empty.value("sacrebleu") == 0.0
    )
    assert all_empty.value("distinct2") == 0.0


def test_bad_input_is_a_clear_error():
    with pytest.raises(MetricsError, match="empty"):
        score_samples([], feature_set=None)
    with pytest.raises(MetricsError, match="empty feature set"):
        score_samples([_s("a", "a")], feature_set=set())
    with pytest.raises(MetricsError, match="predicted_rating"):
        score_samples([_s("a", "a", predicted_rating=3.0), _s("a", "a")], feature_set=None, n_boot=0)
    with pytest.raises(MetricsError, match="rating_range"):
        score_samples([_s("a", "a")], feature_set=None, rating_range=(5.0, 1.0))
    with pytest.raises(MetricsError, match="strings"):
        score_samples([_s("a", None)], feature_set=None)  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match="same examples"):
        paired_test([_s("a", "a")], [_s("a", "a"), _s("b", "b")])
    with pytest.raises(MetricsError, match="example 0 differs"):
        paired_test([_s("a", "a", uid="u1")], [_s("a", "a", uid="u2")])
    with pytest.raises(MetricsError, match="did you mean 'bleu4'"):
        paired_test([_s("a", "a")], [_s("a", "a")], metrics=["bleu5"], meteor=False)


def test_registry_families_and_signatures():
    assert set(metrics_of("reference")) == {
        "bleu1",
        "bleu4",
        "rouge1_p",
        "rouge1_r",
        "rouge1_f",
        "rouge2_p",
        "rouge2_r",
        "rouge2_f",
        "rougeL_p",
        "rougeL_r",
        "rougeL_f",
        "usr",
        "fmr",
        "fcr",
        "div",
        "rmse",
        "mae",
    }
    assert set(metrics_of("standard")) == {
        "sacrebleu",
        "rs_rouge1",
        "rs_rouge2",
        "rs_rougeL",
        "meteor",
        "distinct1",
        "distinct2",
    }
    assert set(metrics_of("synthetic")) == {"spec_aspect", "spec_detail"}
    for name, spec in METRICS.items():
        assert spec.signature.startswith(f"{name}|impl:"), spec.signature
        assert spec.signature.endswith(f"|impl_v:{IMPL_VERSIONS[name]}"), spec.signature
    assert set(IMPL_VERSIONS) == set(METRICS)
    from sacrebleu.metrics import BLEU

    bleu = BLEU()
    bleu.corpus_score(["a b"], [["a b"]])
    assert METRICS["sacrebleu"].signature.endswith(f"|{bleu.get_signature().format()}|impl_v:1")
    assert METRICS["div"].higher_is_better is False


def _lcs_dp(a, b):
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
    return t[-1][-1]


def test_bit_parallel_lcs_equals_dynamic_programming():
    rng = random.Random(0)
    for _ in range(2000):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 20))]
        b = [rng.choice("abcde") for _ in range(rng.randint(0, 20))]
        assert lcs_length(a, b) == _lcs_dp(a, b)


def test_vectorised_bleu_equals_scalar_and_sacrebleu():
    from sacrebleu.metrics import BLEU

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(3000):
        hyp, ref = int(rng.integers(0, 30)), int(rng.integers(0, 30))
        total = [max(hyp - k, 0) for k in range(4)]
        correct = [int(rng.integers(0, t + 1)) if rng.random() < 0.7 else 0 for t in total]
        rows.append([hyp, ref, *correct, *total])
    S = np.array(rows, dtype=float)
    np.testing.assert_allclose(sacrebleu_from_sums_batch(S), [sacrebleu_from_sums(r) for r in S], atol=1e-9)
    for k in range(0, 3000, 97):
        direct = BLEU.compute_bleu(
            correct=list(map(int, S[k, 2:6])),
            total=list(map(int, S[k, 6:10])),
            sys_len=int(S[k, 0]),
            ref_len=int(S[k, 1]),
            smooth_method="exp",
        ).score
        assert sacrebleu_from_sums(S[k]) == pytest.approx(direct, abs=1e-12)
    for order in (1, 4):
        m, p = S[:, 2 : 2 + order], S[:, 6 : 6 + order]
        batch = bleu_from_sums_batch(m, p, S[:, 0], S[:, 1])
        scalar = [bleu_from_sums(m[k], p[k], S[k, 0], S[k, 1], order) for k in range(len(S))]
        np.testing.assert_allclose(batch, scalar, atol=1e-9)


def test_membership_presence_and_counts_equal_brute_force():
    rng = np.random.default_rng(1)
    n = 300
    row_types = [set(rng.integers(0, 40, size=rng.integers(0, 5)).tolist()) for _ in range(n)]
    m = Membership.from_rows(row_types)
    W = rng.integers(0, 3, size=(70, n)).astype(np.float32)  # 70 replicates: masks span two 64-bit words
    wt = Weights(W)
    present, counts = m.present(wt), m.counts(wt)
    for b in range(70):
        chosen = [row_types[i] for i in range(n) if W[b, i] > 0]
        assert present[b] == len(set().union(*chosen)) if chosen else present[b] == 0
        for t_index, key in enumerate(m.keys):
            assert counts[b, t_index] == sum(W[b, i] for i in range(n) if key in row_types[i])
    sub = m.subset(np.arange(0, n, 3))
    assert sub.n_rows == 100
    assert set(sub.keys.tolist()) == set().union(*[row_types[i] for i in range(0, n, 3)])


def _family_samples() -> list[Sample]:
    rng = random.Random(5)
    words = "the sound is great good cheap strings guitar tone amp works fine, !".split()
    out = []
    for k in range(60):
        ref = " ".join(rng.choice(words) for _ in range(rng.randint(0, 9)))
        hyp = " ".join(rng.choice(words) for _ in range(rng.randint(0, 9)))
        out.append(
            _s(
                ref,
                hyp,
                uid=f"u{k % 7}",
                feature=rng.choice(["sound", "strings", "tone"]),
                predicted_rating=rng.uniform(0, 6),
                user_train_count=k % 7 + 1,
                item_train_count=k % 4 + 1,
                aspect_terms=["sound"] if k % 3 == 0 else [],
            )
        )
    return out


def test_one_family_equals_its_part_of_all_families():
    samples = _family_samples()
    kw = dict(feature_set={"sound", "strings", "tone", "amp"}, n_boot=50, seed=3, meteor=True)
    whole = score_samples(samples, **kw).to_dict()
    for family in ("reference", "standard", "synthetic"):
        part = score_samples(samples, families=[family], **kw).to_dict()
        expected = {k: v for k, v in whole["metrics"].items() if v["family"] == family}
        assert expected and part["metrics"] == expected  # values, intervals and signatures
        for dim in ("user", "item"):  # buckets and per-count groups too
            for where in ("buckets", "per_count"):
                for label, group in whole[where][dim].items():
                    got = part[where][dim][label]
                    assert got["n"] == group["n"]
                    assert got["metrics"] == {k: v for k, v in group["metrics"].items() if k in expected}


def test_family_names_are_checked():
    with pytest.raises(MetricsError, match="did you mean 'reference'"):
        _score([_s("a", "a")], families=["referenc"])
    with pytest.raises(MetricsError, match="no metric family"):
        _score([_s("a", "a")], families=[])


@pytest.mark.parametrize("chunk_cells", [4_000_000, 300])
def test_pair_stats_equal_the_per_pair_functions(monkeypatch, chunk_cells):
    """All pairs at once (token-equality matrices, vectorised LCS) against bleu_stats / rouge_stats one
    pair at a time: the same numbers to the last bit, with empty texts, repeated words, texts longer
    than 63 tokens (the LCS falls back to lcs_length) and small chunks."""
    from explainbench.metrics import text_ref

    monkeypatch.setattr(text_ref, "_CHUNK_CELLS", chunk_cells)
    rng = random.Random(11)
    words = "a b c the sound is great , . strings".split()
    refs, hyps = [], []
    for k in range(1500):
        n_ref = rng.randint(64, 90) if k % 37 == 0 else rng.randint(0, 18)
        n_hyp = rng.randint(64, 90) if k % 41 == 0 else rng.randint(0, 18)
        refs.append([rng.choice(words) for _ in range(n_ref)])
        hyps.append([rng.choice(words) for _ in range(n_hyp)])
    refs += [[], ["a"], [], ["a", "a", "a"]]
    hyps += [[], [], ["a"], ["a", "a"]]
    bleu, rouge = text_ref.pair_stats(refs, hyps)
    pairs = list(zip(refs, hyps, strict=True))
    np.testing.assert_array_equal(bleu, np.array([bleu_stats(r, h) for r, h in pairs]))
    np.testing.assert_array_equal(rouge, np.array([rouge_stats(r, h) for r, h in pairs]))
    bleu_only, no_rouge = text_ref.pair_stats(refs, hyps, with_rouge=False)
    np.testing.assert_array_equal(bleu_only, bleu)
    assert not no_rouge.any()
    assert text_ref.pair_stats([], [])[0].shape == (0, len(text_ref.BLEU_COLUMNS))
