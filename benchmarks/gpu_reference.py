"""Every neural model at its reference size on one GPU: a few hundred training steps and a generation pass.

    .venv/bin/python benchmarks/gpu_reference.py --data amazon-mi --split 1 --steps 300 --json gpu.json
    .venv/bin/python benchmarks/gpu_reference.py --import-from PETER_FORMAT_DIR ...   # a bare machine
    .venv/bin/python benchmarks/gpu_reference.py --device cpu --quick                  # a smoke run here

Each model (peter, nrt, att2seq, nete, mvae; `--models` to choose) runs through `explainbench run` in a
fresh process, at its recipe's `reference` scale (MVAE: the paper's sizes), on the CUDA path under
`--precision` (bf16 by default), for one epoch capped at `--steps` optimiser steps, then greedy
generation of the whole test split and scoring (no bootstrap, no METEOR). Reported
per model: training examples/s and generation sentences/s (results.json's timings, the run's own
clocks), peak GPU memory (torch.cuda.max_memory_allocated in that process), the run id, and the device
name, as a Markdown table and `--json`. Meant to finish well inside 10 minutes on a data-centre GPU;
`--quick` uses the recipes' cpu-small scale and 20 steps so that the same code is exercised on a CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("peter", "nrt", "att2seq", "nete", "mvae")

# run in the child: the CLI in-process, then the peak memory of that process on its device
CHILD = """
import json, sys, torch
from explainbench.cli.main import app
args = json.loads(sys.argv[1])
code = 0
try:
    app(args, standalone_mode=False)
except SystemExit as exc:
    code = exc.code or 0
peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
name = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
print("GPU_REFERENCE " + json.dumps({"code": code, "peak_bytes": peak, "device_name": name}))
"""


def run_model(model: str, args: argparse.Namespace) -> dict:
    recipe = ROOT / "recipes" / model / "default.yaml"
    scale = "cpu-small" if args.quick else "reference"
    cli = [
        "run", "--model", model, "--data", args.data, "--split", str(args.split), "--recipe", str(recipe),
        "--scale", scale, "--device", args.device, "--n-boot", "0", "--no-meteor",
        "--no-progress", "--set", "max_epochs=1", "--set", f"max_steps_per_epoch={args.steps}",
        "--set", f"precision={args.precision}",
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cli)], text=True, capture_output=True, check=False
    )
    wall = time.perf_counter() - started
    marker = [line for line in proc.stdout.splitlines() if line.startswith("GPU_REFERENCE ")]
    info = json.loads(marker[-1].split(" ", 1)[1]) if marker else {"code": proc.returncode}
    paths = [line.strip() for line in proc.stdout.splitlines() if line.strip().endswith("results.json")]
    out: dict = {"model": model, "wall_s": wall, **info}
    if info.get("code") or not paths:
        out["error"] = (proc.stderr.strip().splitlines() or ["no results.json printed"])[-1]
        return out
    results = json.loads(Path(paths[-1]).read_text(encoding="utf-8"))
    timings = results.get("timings") or {}
    out.update(
        run_id=results["run_id"],
        steps=args.steps,
        train_examples_per_s=timings.get("train_examples_per_s"),
        generate_sentences_per_s=timings.get("generate_sentences_per_s"),
        bleu1=(results["metrics"].get("bleu1") or {}).get("value"),
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", default="amazon-mi")
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=300, help="optimiser steps per model")
    ap.add_argument("--precision", choices=("fp32", "bf16", "auto"), default="bf16")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="cpu-small scale (a smoke run of this script)")
    ap.add_argument("--import-from", type=Path, default=None,
                    help="a PETER-format folder to import as --data first (a bare machine)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.steps = min(args.steps, 20)
    if args.import_from is not None:
        subprocess.run(
            [sys.executable, "-m", "explainbench.cli.main", "data", "import", "peter", str(args.import_from),
             "--name", args.data],
            check=True,
        )
    rows = [run_model(m, args) for m in args.models.split(",") if m]
    device = next((r["device_name"] for r in rows if r.get("device_name")), args.device)
    print(f"\n{args.data} split {args.split}, {args.precision}, {args.steps} steps per model, {device}\n")
    print("| model | train ex/s | generate sent/s | peak GPU memory (GiB) | wall s | run |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | error: {r['error']} | | | {r['wall_s']:.0f} | |")
            continue
        peak = "-" if r.get("peak_bytes") is None else f"{r['peak_bytes'] / 2**30:.2f}"
        print(
            f"| {r['model']} | {r['train_examples_per_s']:.0f} | {r['generate_sentences_per_s']:.0f} | "
            f"{peak} | {r['wall_s']:.0f} | {r['run_id']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"device": device, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    if any("error" in r for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
