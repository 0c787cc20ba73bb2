"""Side by side with the original code: lileipisces/PETER, NRT or Att2Seq against explainbench's model of
the same name at fp32 and bf16, on the same PETER-format data and split, with the same torch threads,
alternating A B C A B C.

    .venv/bin/python benchmarks/side_by_side.py --model nrt --original ~/src/NRT \
        --data ../shared/data/amazon-musical-instruments-5core/peter-format --split 1 --threads 2

(`benchmarks/peter_side_by_side.py` is this script with `--model peter`.)

The originals are not part of explainbench: fetch them yourself (`git clone` of lileipisces/PETER,
lileipisces/NRT or lileipisces/Att2Seq; commits 1f1d7f6, d457fc8 and acd6f96 were measured). The script
copies the original to a temporary folder and changes exactly one thing there, in main.py: on torch
>= 2.6 `torch.load` defaults to weights_only=True, and each original saves the whole model object, so
its `torch.load(f)` becomes `torch.load(f, weights_only=False)` (the user's own, trusted file). Nothing
else is changed: the three run on torch 2.13 as they are.

Both sides train the original's published defaults for `--epochs` epochs (the original with
`--epochs E --endure_times E+1`, explainbench with `max_epochs=E patience=E+1`) and then generate
greedily for the test split:
- peter: d 512, 2 layers, 2 heads, FFN 2048, dropout 0.2, batch 128, SGD lr 1.0, clip 1.0;
- nrt: embeddings 300, GRU 400, rating MLP 600 -> 4 x 400 -> 1, batch 200, Adam 1e-4, no clipping;
- att2seq: attributes 64, words 512, LSTM 2 x 512, dropout 0.2, batch 50, Adam 1e-4, clip 5. The original
  has neither the rating attribute nor attention, so explainbench's Att2Seq runs with use_rating=false
  and attention=false (the same network; its default adds the paper's two parts).
Vocabulary: the data's words up to 20,000 on both sides (Musical Instruments has about 5,600).
Measured:
- training examples/s of the last epoch (the first one warms up): the original's from the timestamps of
  its "epoch N" line and the line that ends that epoch's batches (PETER: the last of its "... batches"
  lines, written every 200 batches and at the epoch's end;
  NRT and Att2Seq: the "... on train" line), over the records of train.index; ours from
  train_log.jsonl's epoch record (training steps only, like the original's span);
- generation sentences/s: the original's from "Generating text" to the next stamped line, over every
  test record (the originals have no cold-start filter). That line is "RMSE" for PETER and NRT
  (generation only), "BLEU-1" for Att2Seq, whose span therefore also holds turning the ids into words
  and BLEU-1 (a few per cent of it: the BLEU-1 -> BLEU-4 span, printed as `after_generate_s`, bounds
  that part). Ours from generate.json (greedy decoding with the model's cache). The originals always
  decode 15 words; ours stops a batch once all its sentences have ended, so its rate depends on what
  the model says: each of our rows also gives `generated_words_mean` (after one epoch a model may end
  every sentence at once).
The load average is printed beside every run: compare only runs made on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]: (.*)$")
TORCH_LOAD = "torch.load(f)"
TORCH_LOAD_FIXED = "torch.load(f, weights_only=False)"


@dataclass(frozen=True)
class Original:
    """How to run one original code base and where its timestamped log marks training and generation."""

    model: str  # explainbench's registered name, and the CLI's --model
    repo: str  # lileipisces/<name>
    commit: str  # the commit measured
    train_end: str  # a substring of the stamped line that ends an epoch's training batches
    generate_end: str  # the prefix of the stamped line that follows generation
    ours: tuple[str, ...] = ()  # --set overrides that make explainbench's network the original's


ORIGINALS = {
    "peter": Original("peter", "lileipisces/PETER", "1f1d7f6", train_end="batches", generate_end="RMSE"),
    "nrt": Original("nrt", "lileipisces/NRT", "d457fc8", train_end="on train", generate_end="RMSE"),
    "att2seq": Original(
        "att2seq", "lileipisces/Att2Seq", "acd6f96", train_end="on train", generate_end="BLEU-1",
        ours=("use_rating=false", "attention=false"),
    ),
}


def stamps(text: str) -> list[tuple[datetime, str]]:
    """The original's `[YYYY-MM-DD HH:MM:SS.ffffff]: message` lines, in order."""
    out = []
    for line in text.splitlines():
        m = STAMP.match(line.strip())
        if m:
            out.append((datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f"), m.group(2)))
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def prepare_original(original: Path, workdir: Path, model: str = "peter") -> Path:
    """A temporary copy of the original code with the one torch.load change (see the module doc)."""
    copy = workdir / f"{model}-original"
    shutil.copytree(original, copy, ignore=shutil.ignore_patterns(".git", "*.log"))
    main = copy / "main.py"
    text = main.read_text(encoding="utf-8")
    if TORCH_LOAD_FIXED not in text:
        if text.count(TORCH_LOAD) != 1:
            raise SystemExit(f"{main}: expected one `{TORCH_LOAD}` (as in {ORIGINALS[model].repo} at "
                             f"{ORIGINALS[model].commit}), found {text.count(TORCH_LOAD)}")
        text = text.replace(TORCH_LOAD, TORCH_LOAD_FIXED)
    main.write_text(text, encoding="utf-8")
    return copy


def original_commit(original: Path) -> str | None:
    """The local copy's git commit, where it is a git clone (None otherwise)."""
    if not (original / ".git").exists():
        return None
    proc = subprocess.run(["git", "-C", str(original), "rev-parse", "--short=7", "HEAD"],
                          capture_output=True, text=True, check=False)
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and commit else None


def parse_original_log(text: str, spec: Original, epochs: int) -> dict:
    """Seconds of the last epoch's training batches, of generation, and of the line after generation.

    generate_s is None when the output stops at "Generating text" (the original failed after it)."""
    lines = stamps(text)
    starts = [k for k, (_, msg) in enumerate(lines) if msg.strip() == f"epoch {epochs}"]
    if not starts:
        raise SystemExit(f"the original's output has no 'epoch {epochs}' line; is this {spec.repo}?")
    k = starts[-1]
    end = None  # the last of the training lines that follow "epoch N" (PETER logs every 200 batches)
    for j in range(k + 1, len(lines)):
        if spec.train_end not in lines[j][1]:
            break
        end = j
    gen = next((j for j, (_, msg) in enumerate(lines) if msg.startswith("Generating text")), None)
    expected = (f"the lines {spec.repo} prints ('{spec.train_end}' after 'epoch {epochs}', then "
                f"'Generating text', '{spec.generate_end}')")
    if end is None or gen is None:
        raise SystemExit(f"the original's output does not have {expected}")
    out: dict = {"train_s": (lines[end][0] - lines[k][0]).total_seconds(), "train_batches": None,
                 "generate_s": None, "after_generate_s": None}
    m = re.search(r"(\d+)/\s*(\d+) batches", lines[end][1])
    if m:
        out["train_batches"] = int(m.group(2))
    if gen + 1 < len(lines):
        if not lines[gen + 1][1].startswith(spec.generate_end):
            raise SystemExit(f"the original's output does not have {expected}")
        out["generate_s"] = (lines[gen + 1][0] - lines[gen][0]).total_seconds()
        if gen + 2 < len(lines):
            out["after_generate_s"] = (lines[gen + 2][0] - lines[gen + 1][0]).total_seconds()
    return out


def run_original(spec: Original, code: Path, data: Path, split: int, epochs: int, threads: int,
                 n_train: int, n_test: int) -> dict:
    """One run of the original. A failure after "Generating text" keeps the training span and leaves
    generation out (Att2Seq's BLEU divides by zero when every generated sentence is empty, which
    happens after an epoch or two): `original_error` says so."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory(prefix=f"{spec.model}-orig-") as ckpt:
        cmd = [sys.executable, "main.py", "--data_path", str(data / "reviews.pickle"),
               "--index_dir", str(data / str(split)) + "/", "--epochs", str(epochs),
               "--checkpoint", ckpt + "/", "--endure_times", str(epochs + 1)]
        proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, check=False)
    failure = f"the original {spec.repo} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    if proc.returncode != 0 and "Generating text" not in proc.stdout:
        raise SystemExit(failure)
    out = parse_original_log(proc.stdout, spec, epochs)
    if proc.returncode != 0:
        if out["generate_s"] is not None:
            raise SystemExit(failure)
        out["original_error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"note: {failure.splitlines()[0]} after 'Generating text' ({out['original_error']}); "
              "its training span is kept, its generation left out", file=sys.stderr)
    out["train_examples_per_s"] = n_train / out["train_s"]
    out["generate_sentences_per_s"] = n_test / out["generate_s"] if out["generate_s"] else None
    return out


def run_ours(spec: Original, home: Path, name: str, split: int, epochs: int, threads: int,
             precision: str) -> dict:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "OMP_NUM_THREADS": str(threads)}
    sets = [f"max_epochs={epochs}", f"patience={epochs + 1}", f"precision={precision}",
            f"seed={int(time.time()) % 100000}", *spec.ours]
    cmd = [sys.executable, "-m", "explainbench.cli.main", "run", "--model", spec.model, "--data", name,
           "--split", str(split), "--threads", str(threads), "--no-progress", "--n-boot", "0",
           "--no-meteor", *[arg for s in sets for arg in ("--set", s)]]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"explainbench run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    runs = sorted((home / "runs" / name / f"split-{split}" / spec.model).glob("*/results.json"),
                  key=lambda p: p.stat().st_mtime)
    rdir = runs[-1].parent
    records = [json.loads(x) for x in (rdir / "train_log.jsonl").read_text().splitlines() if x.strip()]
    last = [r for r in records if r.get("kind") == "epoch"][-1]
    gen = json.loads((rdir / "generate.json").read_text())
    return {"train_examples_per_s": last["examples_per_s"], "train_s": last["train_s"],
            "generate_sentences_per_s": gen["sentences_per_s"],
            "generated_words_mean": generated_words_mean(rdir), "run": rdir.name}


def generated_words_mean(rdir: Path) -> float | None:
    """Mean words per generated sentence (samples.jsonl or .gz). Our decoding stops once every sentence
    of a batch has ended; the originals always run --words (15) steps, so short outputs favour ours."""
    plain, packed = rdir / "samples.jsonl", rdir / "samples.jsonl.gz"
    if plain.exists():
        text = plain.read_text(encoding="utf-8")
    elif packed.exists():
        text = gzip.decompress(packed.read_bytes()).decode("utf-8")
    else:
        return None
    lengths = [len(json.loads(line)["generated"].split()) for line in text.splitlines() if line.strip()]
    return statistics.mean(lengths) if lengths else None


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or not base else f"{value / base:.2f}"


def _count(path: Path) -> int:
    return len(path.read_text().split())


def main(argv: list[str] | None = None, model: str | None = None) -> None:
    """Run the side by side; `model` fixes --model (the peter_side_by_side.py wrapper)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if model is None:
        ap.add_argument("--model", choices=sorted(ORIGINALS), required=True)
    ap.add_argument("--original", type=Path, required=True, help="local copy of the original code")
    ap.add_argument("--data", type=Path, required=True, help="PETER-format folder (reviews.pickle, 1/..5/)")
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    spec = ORIGINALS[model or args.model]
    args.data = args.data.expanduser().resolve()  # the original runs in its own folder
    original = args.original.expanduser().resolve()
    if not (original / "main.py").is_file():
        raise SystemExit(f"--original {original}: no main.py there; pass a local copy of {spec.repo}")
    if not (args.data / "reviews.pickle").is_file() or not (args.data / str(args.split)).is_dir():
        raise SystemExit(f"--data {args.data}: expected reviews.pickle and {args.split}/ (PETER's format)")
    commit = original_commit(original)
    if commit is not None and not spec.commit.startswith(commit[:7]):
        print(f"note: {original} is at commit {commit}; {spec.repo} was measured at {spec.commit}",
              file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix=f"{spec.model}-sbs-"))
    try:
        code = prepare_original(original, work, spec.model)
        home = work / "home"
        env = {**os.environ, "EXPLAINBENCH_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "explainbench.cli.main", "data", "import", "peter",
                        str(args.data), "--name", "mi-sbs"], env=env, check=True, capture_output=True)
        # the originals train on every train.index record and score every test.index record (no
        # cold-start filter): their rates use their own counts
        n_train = _count(args.data / str(args.split) / "train.index")
        n_test = _count(args.data / str(args.split) / "test.index")
        rows: list[dict] = []
        precisions = args.precisions.split(",")
        for r in range(1, args.rounds + 1):
            load = _load()
            o = run_original(spec, code, args.data, args.split, args.epochs, args.threads, n_train, n_test)
            rows.append({"round": r, "side": "original", "load_before": load, "load_after": _load(), **o})
            print(json.dumps(rows[-1]), flush=True)
            for p in precisions:
                load = _load()
                ours = run_ours(spec, home, "mi-sbs", args.split, args.epochs, args.threads, p)
                rows.append({"round": r, "side": f"explainbench {p}", "load_before": load,
                             "load_after": _load(), **ours})
                print(json.dumps(rows[-1]), flush=True)
        print(f"\n{spec.model}: {spec.repo} ({commit or 'commit unknown'}) against explainbench, split "
              f"{args.split}, {args.epochs} epoch(s), {args.threads} thread(s), {args.rounds} round(s)")
        print("\n| side | train ex/s (median) | x original | generate sent/s (median) | x original "
              "| words/sentence |")
        print("|---|---|---|---|---|---|")
        med = {}
        for side in ["original", *[f"explainbench {p}" for p in precisions]]:
            sel = [x for x in rows if x["side"] == side]
            med[side] = (_median(x["train_examples_per_s"] for x in sel),
                         _median(x["generate_sentences_per_s"] for x in sel))
            # the originals always decode --words (15) steps
            words = 15.0 if side == "original" else _median(x.get("generated_words_mean") for x in sel)
            t, g = med[side]
            t0, g0 = med["original"]
            print(f"| {side} | {_fmt(t)} | {_ratio(t, t0)} | {_fmt(g)} | {_ratio(g, g0)} | {_fmt(words)} |")
        if args.json:
            args.json.write_text(json.dumps({"model": spec.model, "original_commit": commit,
                                             "rows": rows, "medians": med}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
