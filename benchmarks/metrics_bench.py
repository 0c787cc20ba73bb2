"""Metrics benchmark: every metric of both families, 95% bootstrap CIs (1,000 resamples), sparsity buckets
and per-count series on 100,000 explanation pairs; and, for comparison, a line-by-line port of the reference
definitions (benchmarks/reference_port.py, timing only) on 10,000 pairs.

    .venv/bin/python benchmarks/metrics_bench.py                    # 100k pairs + the port on 10k
    .venv/bin/python benchmarks/metrics_bench.py --n 20000 --port-n 0 --json out.json

Data: real review sentences (the Amazon Musical Instruments 5-core reviews in ../shared/data, split into
sentences, lower-cased, tokenised, cut to 15 words; about 60k distinct sentences) when that file is there,
else the synthetic generator's sentences. References are drawn from that pool; hypotheses imitate what the
baselines produce: 35% a generic sentence from a pool of 300 (PETER-like repetition), 35% another
review sentence, 30% the reference with one word dropped or replaced. Features are the feature labels of
the same reviews (peter-format, 315 distinct). Each example gets a ground-truth feature, user/item training
counts from a long tail, a predicted rating, aspect terms and (40%) a detail phrase, so that every metric,
the buckets and the per-count series are computed.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explainbench.api.results import Sample  # noqa: E402

AMAZON = (
    ROOT.parent
    / "shared"
    / "data"
    / "amazon-musical-instruments-5core"
    / "reviews_Musical_Instruments_5.json.gz"
)
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def sentence_pool() -> tuple[list[list[str]], str]:
    """Tokenised sentences (3..15 tokens) and where they came from."""
    pool: list[list[str]] = []
    if AMAZON.is_file():
        with gzip.open(AMAZON, "rt", encoding="utf-8") as fh:
            for line in fh:
                text = ast.literal_eval(line).get("reviewText", "")
                for sent in re.split(r"(?<=[.!?])\s+", text.lower()):
                    tokens = _WORDS.findall(sent)[:15]
                    if len(tokens) >= 3:
                        pool.append(tokens)
        return pool, f"{AMAZON.name} (real review sentences)"
    from explainbench.data.sources.synthetic import generate

    table, _ = generate("synthetic")
    pool = [_WORDS.findall(t.lower())[:15] for t in table.column("explanation").to_pylist()]
    return [p for p in pool if len(p) >= 3], "synthetic generator sentences"


def _real_features() -> list[str]:
    pickle_path = AMAZON.parent / "peter-format" / "reviews.pickle"
    if not pickle_path.is_file():
        return []
    from explainbench.data.sources.safe_pickle import load_plain_pickle

    return sorted({r["template"][0] for r in load_plain_pickle(pickle_path) if r["template"][0]})


def make_hypothesis(
    ref: list[str],
    kind: float,
    rng: np.random.Generator,
    generic: list[list[str]],
    pool: list[list[str]],
    vocab: list[str],
) -> list[str]:
    """What a baseline might generate for `ref`, by kind (uniform on [0, 1)): below 0.35 a generic sentence
    (PETER-like repetition), below 0.70 another sentence of the pool, else the reference with one word
    dropped or replaced by a vocabulary word."""
    if kind < 0.35:
        return generic[rng.integers(len(generic))]
    if kind < 0.70:
        return pool[rng.integers(len(pool))]
    hyp = list(ref)
    if not hyp:
        return hyp
    j = int(rng.integers(len(hyp)))
    if rng.random() < 0.5:
        del hyp[j]
    else:
        hyp[j] = vocab[rng.integers(len(vocab))]
    return hyp


def make_samples(n: int, seed: int = 0) -> tuple[list[Sample], set[str], str]:
    pool, source = sentence_pool()
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for tokens in pool:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    # features: the real feature labels of the same reviews (peter-format, 320 features) where available,
    # else 400 frequent words of more than 3 letters
    features = (
        _real_features()
        or [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1]) if w.isalpha() and len(w) > 3][:400]
    )
    fset = set(features)
    generic = [pool[i] for i in rng.choice(len(pool), size=300, replace=False)]
    vocab = list(counts)
    n_users, n_items = max(n // 4, 1), max(n // 5, 1)
    user_of = np.minimum(rng.pareto(1.2, n_users) + 1, 40).astype(int)
    item_of = np.minimum(rng.pareto(1.0, n_items) + 1, 80).astype(int)
    samples = []
    ref_idx = rng.integers(0, len(pool), size=n)
    kinds = rng.random(n)
    for i in range(n):
        ref = pool[ref_idx[i]]
        hyp = make_hypothesis(ref, float(kinds[i]), rng, generic, pool, vocab)
        gt = next((t for t in ref if t in fset), features[int(rng.integers(len(features)))])
        u, it = int(rng.integers(n_users)), int(rng.integers(n_items))
        rating = float(rng.integers(1, 6))
        samples.append(
            Sample(
                user_id=f"u{u}",
                item_id=f"i{it}",
                rating=rating,
                reference=" ".join(ref),
                generated=" ".join(hyp),
                feature=gt,
                user_train_count=int(user_of[u]),
                item_train_count=int(item_of[it]),
                predicted_rating=float(rating + rng.normal(0, 0.9)),
                aspect=gt,
                aspect_terms=[gt, features[int(rng.integers(len(features)))]],
                detail=" ".join(ref[1:3]) if rng.random() < 0.4 else "",
            )
        )
    return samples, fset, source


def _cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (user + system)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_ours(samples: list[Sample], fset: set[str], n_boot: int) -> dict:
    from explainbench.metrics import score_samples
    from explainbench.metrics.table import meteor_scorer

    c0 = _cpu_s()
    t0 = time.perf_counter()
    unavailable = meteor_scorer().unavailable  # loads WordNet (counted)
    t1 = time.perf_counter()
    report = score_samples(samples, feature_set=fset, n_boot=n_boot, seed=0)
    t2 = time.perf_counter()
    d = report.to_dict()
    groups = sum(len(v) for v in d["buckets"].values()) + sum(len(v) for v in d["per_count"].values())
    return {
        "n": len(samples),
        "total_s": t2 - t0,
        "wordnet_load_s": t1 - t0,
        "score_samples_s": t2 - t1,
        "cpu_s": _cpu_s() - c0,  # this process and its finished worker processes
        "statistics_s": report.timings["statistics_s"],
        "aggregate_s": report.timings["aggregate_s"],
        "metrics": {k: v["value"] for k, v in d["metrics"].items()},
        "n_metrics": len(d["metrics"]),
        "groups_with_ci": groups,
        "meteor_unavailable": unavailable,
    }


def run_port(samples: list[Sample], fset: set[str]) -> dict:
    import reference_port

    refs = [s.reference.split() for s in samples]
    hyps = [s.generated.split() for s in samples]
    feats = [s.feature for s in samples]
    return reference_port.time_all(refs, hyps, feats, fset)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--port-n", type=int, default=10_000, help="pairs for the reference port (0: skip)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))

    t = time.perf_counter()
    samples, fset, source = make_samples(max(args.n, args.port_n))
    print(
        f"data: {len(samples)} pairs from {source} in {time.perf_counter() - t:.1f}s; "
        f"USR of hypotheses {len({s.generated for s in samples[: args.n]}) / args.n:.2f}"
    )
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "load_avg_before": os.getloadavg(),
        "source": source,
    }
    ours = run_ours(samples[: args.n], fset, args.n_boot)
    out["ours"] = ours
    print(
        f"ours: {ours['n']} pairs, {ours['n_metrics']} metrics + {ours['groups_with_ci']} bucket/count "
        f"groups, "
        f"all with {args.n_boot}-resample CIs: {ours['total_s']:.1f}s "
        f"(WordNet load {ours['wordnet_load_s']:.1f}s, per-example statistics {ours['statistics_s']:.1f}s, "
        f"corpus values + CIs + buckets {ours['aggregate_s']:.1f}s; {ours['cpu_s']:.0f} CPU-s)"
    )
    if args.port_n:
        sub = samples[: args.port_n]
        port = run_port(sub, fset)
        out["port"] = port
        ours_small = run_ours(sub, fset, 0)
        out["ours_port_size_no_ci"] = ours_small
        diffs = {k: abs(port["values"][k] - ours_small["metrics"][k]) for k in port["values"]}
        out["max_abs_diff_vs_port"] = max(diffs.values())
        print(
            f"reference port on {args.port_n} pairs (no CIs, no buckets): {port['total_s']:.1f}s "
            f"{ {k: round(v, 1) for k, v in port['seconds'].items()} }; ours on the same pairs without CIs: "
            f"{ours_small['score_samples_s']:.1f}s; max |port - ours| = {out['max_abs_diff_vs_port']:.2e}"
        )
    out["load_avg_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
