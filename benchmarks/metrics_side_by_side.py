"""Metrics side by side: the reference code's metric functions (lileipisces/PETER utils.py, bleu.py,
rouge.py) against `explainbench score --family ref --n-boot 0` end to end, on the same generated pairs,
alternating A B A B.

    .venv/bin/python benchmarks/metrics_side_by_side.py --original ~/src/PETER --n 32000 --rounds 2 \
        --json side-by-side.json

The original is not part of explainbench: fetch it yourself (`git clone` of lileipisces/PETER, commit
1f1d7f6 was measured). Its utils.py is imported from --original at run time (it imports torch, bleu.py
and rouge.py from the same folder); nothing of it is copied.

Data: N (reference, generated) pairs. References and ground-truth features come from the Musical
Instruments PETER-format data (../shared/data/amazon-musical-instruments-5core/peter-format/
reviews.pickle, read with explainbench's restricted unpickler): the explanation's tokens, cut to 15
words as PETER's data loader cuts them, drawn at random (with repetition: the data holds 5,787
reviews). The hypotheses imitate what the baselines generate (metrics_bench.make_hypothesis): 35% one of
300 generic sentences, 35% another sentence of the data, 30% the reference with one word dropped or
replaced. The feature set (FCR denominator, feature detection) is the data's feature labels, as PETER's
corpus.feature_set.

A (reference): what PETER's main.py does with its generated tokens after generation, in its order:
bleu_score n_gram 1 and 4, unique_sentence_percent, feature_detect, feature_diversity,
feature_coverage_ratio, feature_matching_ratio, the joins to text and rouge_score; timed in this process
once the token lists exist (the import of utils.py, i.e. of torch, is not counted).
B (explainbench): refs/hyps/features/feature-set files are written first (not counted), then
`python -m explainbench.cli.main score refs hyps --features F --feature-set S --family ref --n-boot 0
--format json` runs as a subprocess and its wall time is counted whole: interpreter start, imports,
reading the files, scoring, printing.

Both sides must give the same numbers (the script stops with exit 1 otherwise); the units are the same:
BLEU and ROUGE x100 on both sides, USR, FMR, FCR and DIV as ratios. The reference's DIV is O(N^2) and
its USR O(N x unique sentences): at 32,000 pairs it runs for many minutes. Record the load average
beside every run (printed) and compare only runs made on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics_bench import make_hypothesis  # noqa: E402

from explainbench.data.sources.safe_pickle import load_plain_pickle  # noqa: E402

PETER_DATA = ROOT.parent / "shared" / "data" / "amazon-musical-instruments-5core" / "peter-format"
SEQ_MAX_LEN = 15  # PETER's --words default: references are cut to 15 tokens
REL_TOL = 1e-9  # sums in another order: the last bits may differ

# explainbench's metric name -> the reference's (rouge_score keys; the others are named here)
NAMES = {
    "bleu1": "BLEU-1",
    "bleu4": "BLEU-4",
    "usr": "USR",
    "fmr": "FMR",
    "fcr": "FCR",
    "div": "DIV",
    **{
        f"rouge{n}_{p}": f"rouge_{n.lower()}/{word}_score"
        for n in ("1", "2", "L")
        for p, word in (("p", "p"), ("r", "r"), ("f", "f"))
    },
}


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _fmt_load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def make_pairs(n: int, data: Path, seed: int = 0) -> dict:
    """References, hypotheses (token lists), ground-truth features and the feature set."""
    records = load_plain_pickle(data / "reviews.pickle")
    sentences = [r["template"][2].split()[:SEQ_MAX_LEN] for r in records]
    features = [r["template"][0] for r in records]
    rng = np.random.default_rng(seed)
    generic = [sentences[i] for i in rng.choice(len(sentences), size=300, replace=False)]
    vocab = sorted({t for s in sentences for t in s})
    idx = rng.integers(0, len(sentences), size=n)
    kinds = rng.random(n)
    refs = [sentences[i] for i in idx]
    hyps = [make_hypothesis(refs[k], float(kinds[k]), rng, generic, sentences, vocab) for k in range(n)]
    return {
        "refs": refs,
        "hyps": hyps,
        "features": [features[i] for i in idx],
        "feature_set": set(features),
        "source": f"{data / 'reviews.pickle'} ({len(records)} reviews, {len(set(features))} features)",
    }


def import_reference(original: Path):
    """The reference's utils module, imported from the user's copy (its folder goes first on sys.path,
    so that its `from rouge import rouge` and `from bleu import compute_bleu` find its own files)."""
    original = original.resolve()
    if not (original / "utils.py").is_file():
        raise SystemExit(f"{original}: no utils.py; pass --original the folder of lileipisces/PETER")
    sys.path.insert(0, str(original))
    utils = importlib.import_module("utils")
    if Path(utils.__file__).resolve().parent != original:
        raise SystemExit(f"imported utils from {utils.__file__}, not from {original}: rename the clash")
    return utils


def run_reference(utils, pairs: dict) -> tuple[float, dict[str, float]]:
    """PETER main.py's metric calls on its generated tokens (lines 264-281 at 1f1d7f6), timed."""
    tokens_test, tokens_predict = pairs["refs"], pairs["hyps"]
    feature_set, feature_test = pairs["feature_set"], pairs["features"]
    t0 = time.perf_counter()
    bleu1 = utils.bleu_score(tokens_test, tokens_predict, n_gram=1, smooth=False)
    bleu4 = utils.bleu_score(tokens_test, tokens_predict, n_gram=4, smooth=False)
    usr, _ = utils.unique_sentence_percent(tokens_predict)
    feature_batch = utils.feature_detect(tokens_predict, feature_set)
    div = utils.feature_diversity(feature_batch)
    fcr = utils.feature_coverage_ratio(feature_batch, feature_set)
    fmr = utils.feature_matching_ratio(feature_batch, feature_test)
    text_test = [" ".join(tokens) for tokens in tokens_test]
    text_predict = [" ".join(tokens) for tokens in tokens_predict]
    rouge = utils.rouge_score(text_test, text_predict)
    seconds = time.perf_counter() - t0
    values = {"BLEU-1": bleu1, "BLEU-4": bleu4, "USR": usr, "FMR": fmr, "FCR": fcr, "DIV": div}
    values.update({k: float(v) for k, v in rouge.items()})
    return seconds, {k: float(v) for k, v in values.items()}


def write_inputs(pairs: dict, folder: Path) -> dict[str, Path]:
    files = {
        "refs": [" ".join(t) for t in pairs["refs"]],
        "hyps": [" ".join(t) for t in pairs["hyps"]],
        "features": pairs["features"],
        "feature_set": sorted(pairs["feature_set"]),
    }
    paths = {}
    for name, lines in files.items():
        paths[name] = folder / f"{name}.txt"
        paths[name].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return paths


def ours_command(paths: dict[str, Path]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "explainbench.cli.main",
        "score",
        str(paths["refs"]),
        str(paths["hyps"]),
        "--features",
        str(paths["features"]),
        "--feature-set",
        str(paths["feature_set"]),
        "--family",
        "ref",
        "--n-boot",
        "0",
        "--format",
        "json",
    ]


def run_ours(paths: dict[str, Path]) -> tuple[float, dict[str, float]]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    t0 = time.perf_counter()
    proc = subprocess.run(ours_command(paths), capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"explainbench score failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout)
    return seconds, {NAMES[k]: float(v) for k, v in out.items() if k in NAMES}


def compare(ref: dict[str, float], ours: dict[str, float]) -> tuple[float, list[str]]:
    """Largest relative difference and the metrics that differ beyond REL_TOL (or are missing)."""
    bad, worst = [], 0.0
    for name, value in ref.items():
        if name not in ours:
            bad.append(f"{name}: missing from explainbench's output")
            continue
        diff = abs(ours[name] - value) / max(abs(value), 1e-12)
        worst = max(worst, diff)
        if not math.isclose(ours[name], value, rel_tol=REL_TOL, abs_tol=1e-12):
            bad.append(f"{name}: reference {value!r}, explainbench {ours[name]!r}")
    return worst, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="a local copy of lileipisces/PETER")
    parser.add_argument("--n", type=int, default=32_000, help="generated pairs")
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds")
    parser.add_argument("--data", type=Path, default=PETER_DATA, help="PETER-format folder (reviews.pickle)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    utils = import_reference(args.original)
    t = time.perf_counter()
    pairs = make_pairs(args.n, args.data, args.seed)
    print(
        f"data: {args.n} pairs from {pairs['source']} in {time.perf_counter() - t:.1f}s; "
        f"unique hypotheses {len({tuple(h) for h in pairs['hyps']})}"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="metrics-sbs-") as tmp:
        paths = write_inputs(pairs, Path(tmp))
        print("ours:", " ".join(ours_command(paths)[1:]))
        for k in range(1, args.rounds + 1):
            load_a0 = _load()
            ref_s, ref_values = run_reference(utils, pairs)
            load_a1 = _load()
            ours_s, ours_values = run_ours(paths)
            load_b1 = _load()
            worst, bad = compare(ref_values, ours_values)
            if bad:
                print("DIFFERENT NUMBERS:\n  " + "\n  ".join(bad), file=sys.stderr)
                return 1
            runs.append(
                {
                    "round": k,
                    "reference_s": ref_s,
                    "ours_s": ours_s,
                    "ratio": ref_s / ours_s,
                    "load_before_reference": load_a0,
                    "load_after_reference": load_a1,
                    "load_after_ours": load_b1,
                    "max_rel_diff": worst,
                }
            )
            print(
                f"round {k}: reference {ref_s:.2f}s, explainbench {ours_s:.2f}s, "
                f"ratio {ref_s / ours_s:.1f}x, "
                f"max relative difference {worst:.1e}, load {_fmt_load(load_a0)} -> {_fmt_load(load_a1)} -> "
                f"{_fmt_load(load_b1)}",
                flush=True,
            )
    ref_med = statistics.median(r["reference_s"] for r in runs)
    ours_med = statistics.median(r["ours_s"] for r in runs)
    print()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"{args.n:,} pairs; {machine}")
    print()
    print("| round | reference (PETER utils.py) s | explainbench score --family ref s | ratio | "
          "load before / after reference | load after explainbench |")
    print("|---:|---:|---:|---:|---|---|")
    for r in runs:
        print(
            f"| {r['round']} | {r['reference_s']:.2f} | {r['ours_s']:.2f} | {r['ratio']:.1f}x | "
            f"{_fmt_load(r['load_before_reference'])} / {_fmt_load(r['load_after_reference'])} | "
            f"{_fmt_load(r['load_after_ours'])} |"
        )
    print(f"| median | {ref_med:.2f} | {ours_med:.2f} | {ref_med / ours_med:.1f}x | | |")
    print()
    print("values (identical on both sides, BLEU/ROUGE x100, USR/FMR/FCR/DIV ratios): "
          + ", ".join(f"{k} {v:.4f}" for k, v in ref_values.items()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "n": args.n,
                    "machine": machine,
                    "source": pairs["source"],
                    "command": " ".join(ours_command(paths)[1:]),
                    "runs": runs,
                    "median_ratio": ref_med / ours_med,
                    "values": ref_values,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
