"""PETER side by side: the original code (lileipisces/PETER) against explainbench's PETER at fp32 and bf16,
on the same PETER-format data and split, with the same torch threads, alternating A B C A B C.

    .venv/bin/python benchmarks/peter_side_by_side.py --original ~/src/PETER \
        --data ../shared/data/amazon-musical-instruments-5core/peter-format --split 1 --threads 2

The original is not part of explainbench: fetch it yourself (`git clone` of lileipisces/PETER, commit
1f1d7f6 was measured). This script copies it to a temporary folder and changes one line there: on torch
>= 2.6 `torch.load` defaults to weights_only=True, and the original saves the whole model object, so
its `torch.load(f)` becomes `torch.load(f, weights_only=False)` (the user's own, trusted file).

Both sides train the reference sizes (d 512, 2 layers, 2 heads, FFN 2048, batch 128, SGD lr 1.0, clip
1.0, vocabulary of the data's words up to 20,000) for `--epochs` epochs and then generate greedily for
the test split. Measured:
- training examples/s of the last epoch (the first one warms up): the original's from the timestamps
  of its "epoch N" line and the line that ends that epoch's batches; ours from train_log.jsonl's epoch
  record (training steps only, like the original's span);
- generation sentences/s: the original's from "Generating text" to its first metric line (generation
  only: the metrics follow), ours from generate.json (greedy decoding with the KV cache).
The load average is printed beside every run: compare only runs made on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]: (.*)$")


def _stamps(text: str) -> list[tuple[datetime, str]]:
    out = []
    for line in text.splitlines():
        m = STAMP.match(line.strip())
        if m:
            out.append((datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f"), m.group(2)))
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def prepare_original(original: Path, workdir: Path) -> Path:
    """A temporary copy of the original code with the one torch.load change (see the module doc)."""
    copy = workdir / "peter-original"
    shutil.copytree(original, copy, ignore=shutil.ignore_patterns(".git", "*.log"))
    main = copy / "main.py"
    text = main.read_text(encoding="utf-8")
    if "weights_only" not in text:
        text = text.replace("torch.load(f)", "torch.load(f, weights_only=False)")
    main.write_text(text, encoding="utf-8")
    return copy


def run_original(code: Path, data: Path, split: int, epochs: int, threads: int, n_test: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory(prefix="peter-orig-") as ckpt:
        cmd = [sys.executable, "main.py", "--data_path", str(data / "reviews.pickle"),
               "--index_dir", str(data / str(split)) + "/", "--epochs", str(epochs),
               "--checkpoint", ckpt + "/", "--endure_times", str(epochs + 1)]
        proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the original PETER failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    stamps = _stamps(proc.stdout)
    starts = [k for k, (_, msg) in enumerate(stamps) if msg.startswith(f"epoch {epochs}")]
    if not starts:
        raise SystemExit("the original's output has no 'epoch N' line; is this lileipisces/PETER?")
    k = starts[-1]
    end = next(j for j in range(k + 1, len(stamps)) if "batches" in stamps[j][1])
    m = re.search(r"(\d+)/\s*(\d+) batches", stamps[end][1])
    train_s = (stamps[end][0] - stamps[k][0]).total_seconds()
    gen = next(j for j, (_, msg) in enumerate(stamps) if msg.startswith("Generating text"))
    gen_s = (stamps[gen + 1][0] - stamps[gen][0]).total_seconds()
    batches = int(m.group(2)) if m else None
    return {"train_s": train_s, "train_batches": batches, "generate_s": gen_s,
            "generate_sentences_per_s": n_test / gen_s}


def run_ours(home: Path, name: str, split: int, epochs: int, threads: int, precision: str) -> dict:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "explainbench.cli.main", "run", "--model", "peter", "--data", name,
           "--split", str(split), "--threads", str(threads), "--no-progress", "--n-boot", "0",
           "--no-meteor", "--set", f"max_epochs={epochs}", "--set", f"patience={epochs + 1}",
           "--set", f"precision={precision}", "--set", f"seed={int(time.time()) % 100000}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"explainbench run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    runs = sorted((home / "runs" / name / f"split-{split}" / "peter").glob("*/results.json"),
                  key=lambda p: p.stat().st_mtime)
    rdir = runs[-1].parent
    log = rdir / "train_log.jsonl"
    epochs_seen = [json.loads(x) for x in log.read_text().splitlines() if '"kind": "epoch"' in x
                   or '"kind":"epoch"' in x]
    last = epochs_seen[-1]
    gen = json.loads((rdir / "generate.json").read_text())
    return {"train_examples_per_s": last["examples_per_s"], "train_s": last["train_s"],
            "generate_sentences_per_s": gen["sentences_per_s"], "run": rdir.name}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--original", type=Path, required=True, help="local copy of lileipisces/PETER")
    ap.add_argument("--data", type=Path, required=True, help="PETER-format folder (reviews.pickle, 1/..5/)")
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.data = args.data.expanduser().resolve()  # the original runs in its own folder
    work = Path(tempfile.mkdtemp(prefix="peter-sbs-"))
    try:
        code = prepare_original(args.original.expanduser(), work)
        home = work / "home"
        env = {**os.environ, "EXPLAINBENCH_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "explainbench.cli.main", "data", "import", "peter",
                        str(args.data), "--name", "mi-sbs"], env=env, check=True, capture_output=True)
        from explainbench.data import load_split

        train = load_split("mi-sbs", args.split, home=home)
        n_train = len(train["train"])
        # the original scores every test record (no cold-start filter): its rate uses its own count
        n_test_orig = len((args.data / str(args.split) / "test.index").read_text().split())
        rows: list[dict] = []
        for r in range(1, args.rounds + 1):
            load = _load()
            o = run_original(code, args.data, args.split, args.epochs, args.threads, n_test_orig)
            o["train_examples_per_s"] = n_train / o["train_s"]
            rows.append({"round": r, "side": "original", "load_before": load, "load_after": _load(), **o})
            print(json.dumps(rows[-1]), flush=True)
            for p in args.precisions.split(","):
                load = _load()
                ours = run_ours(home, "mi-sbs", args.split, args.epochs, args.threads, p)
                rows.append({"round": r, "side": f"explainbench {p}", "load_before": load,
                             "load_after": _load(), **ours})
                print(json.dumps(rows[-1]), flush=True)
        print("\n| side | train ex/s (median) | x original | generate sent/s (median) | x original |")
        print("|---|---|---|---|---|")
        med = {}
        for side in ["original", *[f"explainbench {p}" for p in args.precisions.split(",")]]:
            sel = [x for x in rows if x["side"] == side]
            med[side] = (statistics.median(x["train_examples_per_s"] for x in sel),
                         statistics.median(x["generate_sentences_per_s"] for x in sel))
        for side, (t, g) in med.items():
            t0, g0 = med["original"]
            print(f"| {side} | {t:.1f} | {t / t0:.2f} | {g:.1f} | {g / g0:.2f} |")
        if args.json:
            args.json.write_text(json.dumps({"rows": rows, "medians": med}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
