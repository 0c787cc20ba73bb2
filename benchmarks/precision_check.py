"""bf16 against fp32: does training under bf16 autocast change a model's results beyond noise?

    .venv/bin/python benchmarks/precision_check.py --model peter --data amazon-mi --split 1 \
        --recipe recipes/peter/default.yaml --scale reference --threads 2 [--json out.json]

Runs `explainbench run` once per precision (default fp32 then bf16; same seed, data, split and config,
`--set precision=P`), in the current EXPLAINBENCH_HOME, so the runs stay there (and can go to the
leaderboard when made from a clean tree). A run that already finished is reused (the run identity
covers the precision). Then it checks the issue's criteria:

- the final validation loss (the best epoch's, the checkpoint the run keeps) of bf16 within `--loss-tol`
  (default 1%) of fp32's, relative;
- bf16's test BLEU-1 and ROUGE-L F inside fp32's 95% bootstrap intervals (so `--n-boot` must not be 0).

It prints a table with both runs, their training examples/s (last epoch) and training time, the load
average before and after each run, and a verdict per criterion; exit 1 when a criterion fails.
`--baseline RUN_DIR` takes a finished run as the baseline instead of training it again (e.g. after a
change that leaves the fp32 numbers alone but changes the code hash). `--set KEY=VALUE` (repeatable)
passes config overrides to both runs, e.g. `--set max_epochs=5`
for a budgeted check of a slow model (say so when you report it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from explainbench.api.results import TRAIN_LOG_FILE, find_artifact, read_results
from explainbench.data.home import explainbench_home


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _run(args: argparse.Namespace, precision: str) -> Path:
    cmd = [sys.executable, "-m", "explainbench.cli.main", "run", "--model", args.model, "--data", args.data,
           "--split", str(args.split), "--threads", str(args.threads), "--no-progress",
           "--n-boot", str(args.n_boot), "--set", f"precision={precision}"]
    if args.recipe:
        cmd += ["--recipe", str(args.recipe)]
    if args.scale:
        cmd += ["--scale", args.scale]
    if not args.meteor:
        cmd += ["--no-meteor"]
    for kv in args.set:
        cmd += ["--set", kv]
    started = time.time()
    proc = subprocess.run(cmd, text=True, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\nfailed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    root = explainbench_home() / "runs" / args.data / f"split-{args.split}" / args.model
    found = []
    for res in root.glob("*/results.json"):
        data = read_results(res)
        if data["config"].get("precision") == precision:
            found.append((res.stat().st_mtime, res.parent))
    if not found:
        raise SystemExit(f"no finished {precision} run under {root} after `explainbench run`")
    newest = max(found)
    if newest[0] < started:
        print(f"[{precision}] reused the finished run {newest[1].name}", flush=True)
    return newest[1]


def _summary(run_dir: Path) -> dict[str, Any]:
    res = read_results(run_dir / "results.json")
    log = find_artifact(run_dir, TRAIN_LOG_FILE)
    opener = __import__("gzip").open if log.suffix == ".gz" else open
    with opener(log, "rt", encoding="utf-8") as f:
        epochs = [r for r in map(json.loads, f) if r.get("kind") == "epoch"]
    if not epochs:
        raise SystemExit(f"{log}: no epoch records")
    last = epochs[-1]
    m = res["metrics"]
    return {
        "run": str(run_dir),
        "precision": res["config"].get("precision"),
        "epochs": len(epochs),
        "best_epoch": last.get("best_epoch"),
        "best_val_loss": last.get("best_val_loss"),
        "train_examples_per_s_last_epoch": last.get("examples_per_s"),
        "train_s_total": sum(float(r.get("train_s") or 0.0) for r in epochs),
        "bleu1": (m["bleu1"]["value"], m["bleu1"]["ci_low"], m["bleu1"]["ci_high"]),
        "rougeL_f": (m["rougeL_f"]["value"], m["rougeL_f"]["ci_low"], m["rougeL_f"]["ci_high"]),
        "n_test": res["n"]["effective"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--recipe", type=Path, default=None)
    ap.add_argument("--scale", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--meteor", action=argparse.BooleanOptionalAction, default=False)
    ap.add_argument("--precisions", default="fp32,bf16", help="baseline first")
    ap.add_argument("--loss-tol", type=float, default=0.01)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="a finished run folder: the baseline, instead of training it")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.n_boot <= 0:
        raise SystemExit("--n-boot must be positive: the check needs fp32's bootstrap intervals")
    rows = []
    precisions = args.precisions.split(",")
    if args.baseline is not None:
        rows.append({**_summary(args.baseline), "load_before": "-", "load_after": "-"})
        precisions = [p for p in precisions if p != rows[0]["precision"]]
    for p in precisions:
        before = _load()
        run_dir = _run(args, p)
        rows.append({**_summary(run_dir), "load_before": before, "load_after": _load()})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    print("\n| precision | epochs (best) | best val loss | train ex/s (last epoch) | train s "
          "| BLEU-1 [95% CI] "
          "| ROUGE-L F [95% CI] | load before / after |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        b, rl = r["bleu1"], r["rougeL_f"]
        print(f"| {r['precision']} | {r['epochs']} ({r['best_epoch']}) | {r['best_val_loss']:.4f} | "
              f"{r['train_examples_per_s_last_epoch']:.1f} | {r['train_s_total']:.0f} | "
              f"{b[0]:.2f} [{b[1]:.2f}, {b[2]:.2f}] | {rl[0]:.2f} [{rl[1]:.2f}, {rl[2]:.2f}] | "
              f"{r['load_before']} / {r['load_after']} |")
    ok = True
    print()
    for r in rows[1:]:
        rel = abs(r["best_val_loss"] - base["best_val_loss"]) / abs(base["best_val_loss"])
        checks = {
            f"val loss within {args.loss_tol:.0%} ({rel:.2%})": rel <= args.loss_tol,
            "BLEU-1 inside the baseline's 95% CI": base["bleu1"][1] <= r["bleu1"][0] <= base["bleu1"][2],
            "ROUGE-L F inside the baseline's 95% CI":
                base["rougeL_f"][1] <= r["rougeL_f"][0] <= base["rougeL_f"][2],
        }
        for name, passed in checks.items():
            print(f"{r['precision']} vs {base['precision']}: {name}: {'PASS' if passed else 'FAIL'}")
            ok &= passed
        r["checks"] = checks
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows},
                                        indent=1), encoding="utf-8")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
