"""Runner benchmark: what a run costs around the model, on `synthetic` split 1 (docs/benchmarks.md).

For each reference explainer: `explainbench run` in a fresh process (train, generate, score with
1000 bootstrap resamples and METEOR) read back from results.json timings, plus the wall time of the
whole command; then the no-op re-run and `compare` (paired test against item-popular). Medians over
--repeats fresh homes (the dataset is prepared once per home, not timed).

    .venv/bin/python benchmarks/runner_bench.py                 # once
    .venv/bin/python benchmarks/runner_bench.py --repeats 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("random-train", "global-popular", "item-popular")
DATA = "synthetic"


def cli(home: Path, *args: str) -> float:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explainbench.cli.main", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def one_repeat() -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="eb-runner-bench-") as tmp:
        home = Path(tmp)
        from explainbench.data import ensure_dataset

        ensure_dataset(DATA, home=home)
        for model in MODELS:
            out[f"{model}: command wall s"] = cli(home, "run", "-m", model, "-d", DATA, "--no-progress")
            (path,) = (home / "runs" / DATA / "split-1" / model).glob("*/results.json")
            timings = json.loads(path.read_text())["timings"]
            for key in ("train_s", "generate_s", "score_s"):
                out[f"{model}: {key}"] = float(timings[key])
        out["re-run (no-op) wall s"] = cli(home, "run", "--model", "item-popular", "--data", DATA)
        out["compare --against item-popular wall s"] = cli(
            home, "compare", "--data", DATA, "--against", "item-popular", "--format", "json"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the medians here")
    args = parser.parse_args()
    runs = [one_repeat() for _ in range(args.repeats)]
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"median of {args.repeats} repeat(s), dataset {DATA} split 1")
    print("| measurement | seconds |\n|---|---:|")
    for key, value in medians.items():
        print(f"| {key} | {value:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
