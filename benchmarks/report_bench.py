"""Reporter benchmark: what the tables, the HTML report and the leaderboard render cost (docs/benchmarks.md).

Reads the finished runs of one dataset under $EXPLAINBENCH_HOME (run the three reference explainers
first when there are none: `explainbench run --model random-train --data synthetic`, ...). Each
command runs in a fresh process (imports included), --repeats times; the medians are printed.

    EXPLAINBENCH_HOME=/tmp/home .venv/bin/python benchmarks/report_bench.py --data synthetic
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


def timed(*args: str) -> float:
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explainbench.cli.main", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from explainbench.report.leaderboard import add_run
    from explainbench.report.sources import RunSource

    source = RunSource.home()
    latest = source.latest(args.data)
    if not latest:
        sys.exit(f"no finished runs of {args.data} under {source.describe()}; run some first")
    models = sorted({m for m, _ in latest})
    times: dict[str, list[float]] = {"tables": [], "report": [], "leaderboard render": []}
    with tempfile.TemporaryDirectory(prefix="eb-report-bench-") as tmp:
        board = Path(tmp) / "leaderboard"
        for run in latest.values():
            add_run(run.path, board)
        for _ in range(args.repeats):
            times["tables"].append(
                timed("tables", "--data", args.data, "--table", "2", "--format", "markdown")
            )
            times["report"].append(timed("report", "--data", args.data, "-o", str(Path(tmp) / "r.html")))
            times["leaderboard render"].append(timed("leaderboard", "render", "--root", str(board)))
    n = sum(len(r.samples()) for r in latest.values())
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "data": args.data, "runs": len(latest), "models": models, "samples": n,
        "median_s": {k: statistics.median(v) for k, v in times.items()},
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
