"""One epoch of a model on synthetic-xl (1.3 million records): wall time and peak memory of the process.

    .venv/bin/python benchmarks/xl_epoch.py [--model peter] [--scale cpu-small] [--threads 2]
        [--home DIR] [--json out.json] [--quick]

Prepares synthetic-xl in the home if it is not there (timed on its own), then runs
`explainbench run --model M --data synthetic-xl --split 1 --recipe recipes/M/default.yaml --scale S
--set max_epochs=1 --no-meteor` under /usr/bin/time -v: one training epoch over the 1,049,340 training
records, the validation pass, greedy generation for the whole test split and scoring (with the bootstrap).
Reported: the run's peak resident memory (ru_maxrss of the process; pages of the memory-mapped split
files it touched count in it), wall time, the epoch's examples/s and training seconds from
train_log.jsonl, generation and scoring seconds from results.json, and the load average before.
--quick: synthetic-tiny instead (a smoke run of the same path).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Run cmd under /usr/bin/time -v; its wall seconds, peak RSS (MB) and exit status."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    seconds = None
    if wall:
        parts = [float(x) for x in wall.group(1).split(":")]
        seconds = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
    peak = int(rss.group(1)) / 1024 if rss else None
    return {"rc": done.returncode, "wall_s": seconds, "peak_rss_mb": peak, "stdout_tail": done.stdout[-2000:]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="peter")
    ap.add_argument("--scale", default="cpu-small")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    data = "synthetic-tiny" if args.quick else "synthetic-xl"
    env = dict(os.environ)
    if args.home is not None:
        env["EXPLAINBENCH_HOME"] = str(args.home)
    exe = [sys.executable, "-m", "explainbench"]
    out: dict = {"model": args.model, "data": data, "scale": args.scale, "threads": args.threads,
                 "load_before": os.getloadavg()}
    home = Path(env.get("EXPLAINBENCH_HOME") or Path.home() / ".cache" / "explainbench")
    if not (home / "datasets" / data / "manifest.json").is_file():
        out["prepare"] = timed([*exe, "data", "prepare", data], env)
    recipe = ROOT / "recipes" / args.model / "default.yaml"
    started = time.time()
    out["run"] = timed([*exe, "run", "--model", args.model, "--data", data, "--split", "1", "--recipe",
                        str(recipe), "--scale", args.scale, "--set", "max_epochs=1", "--threads",
                        str(args.threads), "--no-meteor", "--no-progress"], env)
    runs = [p for p in (home / "runs" / data / "split-1" / args.model).glob("*/results.json")
            if p.stat().st_mtime >= started - 1]
    if runs:
        results = json.loads(runs[0].read_text(encoding="utf-8"))
        epochs = [json.loads(x) for x in (runs[0].parent / "train_log.jsonl").read_text().splitlines()
                  if '"kind": "epoch"' in x]
        out.update(run_id=results["run_id"], n_test=results["n"]["effective"], timings=results["timings"],
                   epoch=epochs[-1] if epochs else None)
    print(json.dumps(out, indent=2, default=str))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    if out["run"]["rc"] != 0:
        raise SystemExit(out["run"]["rc"])


if __name__ == "__main__":
    main()
