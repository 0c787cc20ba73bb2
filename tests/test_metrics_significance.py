"""Paired tests on middle cases (two systems that differ, but not by much) against brute force: a python
loop bootstrap over the same resample indices, and the exact randomisation test (all 2^n swaps)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from golden.make_golden import FEATURES, _perturb, _sentence, ref_bleu, ref_feature_metrics, ref_rouge

from explainbench.api.results import Sample
from explainbench.metrics import paired_test


def _metric(name: str, rows: list[tuple[str, str, str]]) -> float:
    """One metric of (reference, generated, feature) rows, by make_golden's plain definitions."""
    refs = [r.split() for r, _, _ in rows]
    hyps = [h.split() for _, h, _ in rows]
    if name == "bleu4":
        return ref_bleu(refs, hyps, 4)
    if name == "rougeL_f":
        return ref_rouge(refs, hyps)["rouge_l/f_score"]
    return ref_feature_metrics(hyps, [f for _, _, f in rows], FEATURES)["fmr"]


METRICS = ["bleu4", "rougeL_f", "fmr"]


def _systems(n: int, n_users: int, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Both systems perturb each reference a little; b now and then says something else instead."""
    rng = random.Random(seed)
    a, b = [], []
    for k in range(n):
        feature = rng.choice(FEATURES)
        ref = _sentence(rng, feature)
        ha = _perturb(rng, ref)
        hb = _perturb(rng, ref) if rng.random() < 0.85 else _sentence(rng, rng.choice(FEATURES))
        for out, hyp in ((a, ha), (b, hb)):
            out.append(Sample(f"u{k % n_users}", f"i{k}", 4.0, ref, hyp, feature=feature))
    return a, b


def _rows(samples: list[Sample], order: list[int] | np.ndarray) -> list[tuple[str, str, str]]:
    return [(samples[i].reference, samples[i].generated, samples[i].feature) for i in order]


@pytest.mark.parametrize("by_user", [False, True])
def test_paired_bootstrap_equals_a_python_loop_over_the_same_resamples(by_user):
    a, b = _systems(24, 6, seed=4)
    n_boot, seed = 300, 11
    got = paired_test(a, b, metrics=METRICS, method="bootstrap", n=n_boot, seed=seed, by_user=by_user,
                      feature_set=FEATURES, meteor=False)  # fmt: skip
    # the resamples paired_test draws: indices of examples (or of users, whose examples move together)
    users = sorted({s.user_id for s in a})
    members = {u: [i for i, s in enumerate(a) if s.user_id == u] for u in users}
    n_units = len(users) if by_user else len(a)
    draws = np.random.default_rng(seed).integers(0, n_units, size=(n_boot, n_units))
    for name in METRICS:
        observed = _metric(name, _rows(a, range(len(a)))) - _metric(name, _rows(b, range(len(b))))
        deltas = []
        for draw in draws:
            order = [i for u in draw for i in members[users[u]]] if by_user else list(draw)
            deltas.append(_metric(name, _rows(a, order)) - _metric(name, _rows(b, order)))
        centred = np.abs(np.asarray(deltas) - np.mean(deltas))
        count = int(np.sum(centred >= abs(observed) - 1e-9 * max(1.0, abs(observed))))
        expected = (count + 1) / (n_boot + 1)
        assert 0.02 < expected < 0.98, (name, expected)  # a middle case, not an extreme
        # float32 resample weights: at most one replicate within 1e-6 of the threshold may flip
        assert got[name] == pytest.approx(expected, abs=1.01 / (n_boot + 1)), (name, by_user)


@pytest.mark.parametrize("by_user", [False, True])
def test_approximate_randomisation_approaches_the_exact_test(by_user):
    n, n_users = (10, 10) if not by_user else (18, 9)
    a, b = _systems(n, n_users, seed=9)
    trials = 20000
    got = paired_test(a, b, metrics=METRICS, method="approx", n=trials, seed=2, by_user=by_user,
                      feature_set=FEATURES, meteor=False)  # fmt: skip
    units = [[i for i in range(n) if a[i].user_id == f"u{u}"] for u in range(n_users)] if by_user else [
        [i] for i in range(n)
    ]
    for name in METRICS:
        observed = _metric(name, _rows(a, range(n))) - _metric(name, _rows(b, range(n)))
        extreme = 0
        for swap in itertools.product((False, True), repeat=len(units)):  # every assignment, exactly
            swapped = {i for s, unit in zip(swap, units, strict=True) if s for i in unit}
            ra = [(x.reference, (y if i in swapped else x).generated, x.feature)
                  for i, (x, y) in enumerate(zip(a, b, strict=True))]  # fmt: skip
            rb = [(x.reference, (x if i in swapped else y).generated, x.feature)
                  for i, (x, y) in enumerate(zip(a, b, strict=True))]  # fmt: skip
            d = _metric(name, ra) - _metric(name, rb)
            extreme += abs(d) >= abs(observed) - 1e-9 * max(1.0, abs(observed))
        exact = extreme / 2 ** len(units)
        assert 0.02 < exact < 0.9, (name, exact)  # a middle case
        sd = np.sqrt(exact * (1 - exact) / trials)
        assert got[name] == pytest.approx(exact, abs=4 * sd + 1e-3), (name, by_user, exact)
