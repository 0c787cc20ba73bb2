"""A PORT FOR TIMING ONLY: the reference-family metrics written the straightforward way the reference code
(PETER's bleu.py / rouge.py / utils.py) defines them, loop by loop: per-call n-gram Counters for BLEU, a
dictionary DP table for LCS, USR by comparing each sentence with every unique one so far (O(N x U)), DIV
over all pairs (O(N^2)). explainbench does not use this module; metrics_bench.py times it on 10,000 pairs
and checks that explainbench's fast implementation gives the same numbers.
"""

from __future__ import annotations

import math
import time
from collections import Counter


def _ngrams_upto(tokens: list[str], max_order: int) -> Counter:
    counts: Counter = Counter()
    for order in range(1, max_order + 1):
        for start in range(len(tokens) - order + 1):
            counts[tuple(tokens[start : start + order])] += 1
    return counts


def bleu(refs: list[list[str]], hyps: list[list[str]], max_order: int) -> float:
    matches = [0] * max_order
    possible = [0] * max_order
    ref_len = hyp_len = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        ref_len += len(ref)
        hyp_len += len(hyp)
        overlap = _ngrams_upto(hyp, max_order) & _ngrams_upto(ref, max_order)
        for gram, count in overlap.items():
            matches[len(gram) - 1] += count
        for order in range(1, max_order + 1):
            if len(hyp) - order + 1 > 0:
                possible[order - 1] += len(hyp) - order + 1
    precisions = [matches[i] / possible[i] if possible[i] > 0 else 0.0 for i in range(max_order)]
    geo = math.exp(sum(math.log(p) / max_order for p in precisions)) if min(precisions) > 0 else 0.0
    ratio = hyp_len / ref_len
    return 100 * geo * (1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio))


def _lcs_table_length(x: list[str], y: list[str]) -> int:
    table: dict[tuple[int, int], int] = {}
    for i in range(len(x) + 1):
        for j in range(len(y) + 1):
            if i == 0 or j == 0:
                table[i, j] = 0
            elif x[i - 1] == y[j - 1]:
                table[i, j] = table[i - 1, j - 1] + 1
            else:
                table[i, j] = max(table[i - 1, j], table[i, j - 1])
    return table[len(x), len(y)]


def _set_of_ngrams(words: list[str], n: int) -> set:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def rouge(refs: list[list[str]], hyps: list[list[str]]) -> dict[str, float]:
    sums = dict.fromkeys(("1p", "1r", "1f", "2p", "2r", "2f", "lp", "lr", "lf"), 0.0)
    for ref_t, hyp_t in zip(refs, hyps, strict=True):
        ref = " ".join(ref_t).split(" ")
        hyp = " ".join(hyp_t).split(" ")
        for n in (1, 2):
            h, r = _set_of_ngrams(hyp, n), _set_of_ngrams(ref, n)
            common = len(h & r)
            p = common / len(h) if h else 0.0
            rc = common / len(r) if r else 0.0
            sums[f"{n}p"] += p
            sums[f"{n}r"] += rc
            sums[f"{n}f"] += 2.0 * ((p * rc) / (p + rc + 1e-8))
        lcs = _lcs_table_length(hyp, ref)
        r_l, p_l = lcs / len(ref), lcs / len(hyp)
        beta = p_l / (r_l + 1e-12)
        sums["lf"] += ((1 + beta**2) * r_l * p_l) / (r_l + beta**2 * p_l + 1e-12)
        sums["lp"] += p_l
        sums["lr"] += r_l
    return {k: 100 * v / len(refs) for k, v in sums.items()}


def usr(hyps: list[list[str]]) -> float:
    unique: list[list[str]] = []
    for seq in hyps:
        seen = False
        for u in unique:
            if len(u) == len(seq) and all(a == b for a, b in zip(u, seq, strict=True)):
                seen = True
                break
        if not seen:
            unique.append(seq)
    return len(unique) / len(hyps)


def feature_metrics(hyps: list[list[str]], gt: list[str], feature_set: set[str]) -> dict[str, float]:
    found = [{t for t in h if t in feature_set} for h in hyps]
    fmr = sum(1 for f, g in zip(found, gt, strict=True) if g in f) / len(found)
    covered: set[str] = set()
    for f in found:
        covered |= f
    fcr = len(covered) / len(feature_set)
    t0 = time.perf_counter()
    total = 0
    for i, x in enumerate(found):
        for j in range(i + 1, len(found)):
            total += len(x & found[j])
    div = total / (len(found) * (len(found) - 1) / 2)
    return {"fmr": fmr, "fcr": fcr, "div": div, "div_s": time.perf_counter() - t0}


def time_all(refs: list[list[str]], hyps: list[list[str]], gt: list[str], feature_set: set[str]) -> dict:
    seconds: dict[str, float] = {}
    values: dict[str, float] = {}
    t = time.perf_counter()
    values["bleu1"] = bleu(refs, hyps, 1)
    values["bleu4"] = bleu(refs, hyps, 4)
    seconds["bleu"] = time.perf_counter() - t
    t = time.perf_counter()
    r = rouge(refs, hyps)
    for key, name in (("1", "rouge1"), ("2", "rouge2"), ("l", "rougeL")):
        for part in "prf":
            values[f"{name}_{part}"] = r[key + part]
    seconds["rouge"] = time.perf_counter() - t
    t = time.perf_counter()
    values["usr"] = usr(hyps)
    seconds["usr"] = time.perf_counter() - t
    t = time.perf_counter()
    f = feature_metrics(hyps, gt, feature_set)
    values.update(fmr=f["fmr"], fcr=f["fcr"], div=f["div"])
    seconds["div"] = f["div_s"]
    seconds["fmr_fcr"] = time.perf_counter() - t - f["div_s"]
    return {"n": len(refs), "total_s": sum(seconds.values()), "seconds": seconds, "values": values}
