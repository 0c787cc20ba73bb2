"""Run every benchmark of docs/benchmarks.md in turn (what `make bench` does).

Each script runs in its own process with its documented defaults, one torch thread (OMP_NUM_THREADS=1)
unless the environment says otherwise; figures are printed by the scripts themselves, to be copied into
docs/benchmarks.md with the machine they ran on. `--only data metrics` picks some; `--list` names them.
The full set takes tens of minutes on a 2-core CPU (the reference-size models dominate).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("data", "metrics", "engine", "baselines", "mvae", "runner", "report")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=BENCHES, default=list(BENCHES))
    ap.add_argument("--list", action="store_true", help="name the benchmarks and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(f"{b}: benchmarks/{b}_bench.py" for b in BENCHES))
        return 0
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    failed = []
    for name in args.only:
        script = HERE / f"{name}_bench.py"
        print(f"== {name}: {sys.executable} {script.relative_to(HERE.parent)}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], env=env)
        print(f"== {name}: exit {rc} after {time.perf_counter() - start:.0f} s", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
