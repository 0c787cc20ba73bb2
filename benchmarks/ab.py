"""A/B speed comparison of two code trees: the same benchmark script, alternating A B A B, with the load.

    git archive <before-commit> | tar -x -C /tmp/eb-before      # a copy of the code before a change
    .venv/bin/python benchmarks/ab.py --a /tmp/eb-before --b . --rounds 3 \\
        --metric train_examples_per_s_median --metric gen_sentences_per_s_median \\
        -- benchmarks/mvae_bench.py --shape amazon-mi --threads 2 --train-steps 3 --repeats 1

Every run is a fresh process of the given benchmark script (taken from --b, or from --bench-root, so
both sides are measured by the same code) with PYTHONPATH set to the tree under test, writing its
result with `--json FILE`.
The script prints each run's metrics with the 1-minute load average before it, then per metric the
median over rounds of the ratio B / A within a round (adjacent runs share the machine's load).
A speed claim on a shared machine is indicative only: read the load column before the ratio.
--wait-for LOCK holds each run back while LOCK exists (another benchmark owns the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(tree: Path, script: Path, bench_args: list[str], wait_for: Path | None) -> tuple[dict, float]:
    """One benchmark process against `tree`; returns its JSON result and the load average before it."""
    while wait_for is not None and wait_for.exists():
        time.sleep(10)
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    with tempfile.TemporaryDirectory(prefix="ab-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(script), *bench_args, "--json", str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} (PYTHONPATH={tree}) failed:\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8")), load


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--a", type=Path, required=True, help="code tree A (the baseline)")
    ap.add_argument("--b", type=Path, required=True, help="code tree B (the change)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--metric", action="append", required=True, help="a numeric key of the JSON result")
    ap.add_argument("--bench-root", type=Path, default=None, help="where SCRIPT is (default: --b)")
    ap.add_argument("--wait-for", type=Path, default=None, help="wait while this file exists")
    ap.add_argument("bench", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS...], SCRIPT relative to --b")
    args = ap.parse_args()
    bench = args.bench[1:] if args.bench[:1] == ["--"] else args.bench
    if not bench:
        ap.error("name the benchmark script after --")
    script = ((args.bench_root or args.b) / bench[0]).resolve()
    ratios: dict[str, list[float]] = {m: [] for m in args.metric}
    for r in range(1, args.rounds + 1):
        round_values = {}
        for side, tree in (("A", args.a), ("B", args.b)):
            result, load = run_once(tree, script, bench[1:], args.wait_for)
            round_values[side] = result
            shown = "  ".join(f"{m} {float(result[m]):.2f}" for m in args.metric)
            print(f"round {r} {side}  load {load:.2f}  {shown}", flush=True)
        for m in args.metric:
            ratios[m].append(float(round_values["B"][m]) / float(round_values["A"][m]))
    for m, values in ratios.items():
        listed = ", ".join(f"{v:.3f}" for v in values)
        print(f"{m}: B/A median {statistics.median(values):.3f} (rounds {listed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
