"""Fidelity to the original code: explainbench's PETER, NRT or Att2Seq at the reference scale against the
original (lileipisces/PETER, NRT, Att2Seq) trained to its own early stop, split by split.

    .venv/bin/python benchmarks/fidelity.py --model peter --original ~/src/PETER \
        --data ../shared/data/amazon-musical-instruments-5core/peter-format \
        --ours leaderboard/amazon-mi/reference --splits 1 2 3 --repeats 2 --json fidelity-peter.json

The originals are not part of explainbench: fetch them yourself, as for benchmarks/side_by_side.py,
whose one change to a temporary copy (torch.load(f, weights_only=False)) this script reuses. Each
original runs with its README's command (PETER: `--peter_mask`; PETER+ as `--model peter+`:
`--peter_mask --use_feature`; NRT and Att2Seq: no flags), so with its published defaults: 100 epochs at
most and its own early stop (`--endure_times 5`). Its seed is fixed (1111) but its batch order is not
(`random.shuffle` is never seeded), so repeats show its own spread.

Ours: the runs of `leaderboard/<dataset>/reference/<model>/split-<k>/` (or `--ours` another folder in
that layout), made with `explainbench grid leaderboard/amazon-mi-reference ...`; `--also RUN_DIR`
(repeatable) adds other runs of ours beside them (other seeds: ours are seeded, so their spread is
measured by seeds; or another commit). `--reuse JSON` takes the original's runs from an earlier
`--json` of this script instead of running them again (its generated sentences are stored there, so
they can be read side by side).

Compared per split: BLEU-1, BLEU-4, ROUGE-L F, USR, FMR and the mean length of the generated sentences.
Two readings of each original run:
- `printed`: what the original prints (its own metric code, every test record, references cut to 15
  words as its loader does);
- `rescored`: its generated sentences for the records ours scores (the original has no cold-start
  filter; ours skips test records whose user or item has no training record), against the full
  references, by `explainbench score --family ref`, the scoring of our results. This is the reading to
  compare with ours: the same records, references and metric code, so only the models differ.
A metric of ours outside [min, max] of the rescored repeats is marked `*` (outside the original's own
spread). Training epochs (the original's: its `epoch N` lines; ours: train_log.jsonl beside the
results, or in the run folder in EXPLAINBENCH_HOME) and wall time are given beside.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from side_by_side import ORIGINALS, original_commit, prepare_original, stamps  # noqa: E402

from explainbench.data.sources.peter import read_index  # noqa: E402
from explainbench.data.sources.safe_pickle import load_plain_pickle  # noqa: E402

METRICS = ("bleu1", "bleu4", "rougeL_f", "usr", "fmr")
# the original's printed names for METRICS
PRINTED = {
    "BLEU-1": "bleu1", "BLEU-4": "bleu4", "rouge_l/f_score": "rougeL_f", "USR": "usr", "FMR": "fmr",
}
README_FLAGS = {
    "peter": ["--peter_mask"], "peter+": ["--peter_mask", "--use_feature"], "nrt": [], "att2seq": [],
}
VALIDATION = {  # the value the original's early stop watches, on its "... on validation" line
    "peter": re.compile(r"valid loss\s+([-\d.]+) on validation"),
    "nrt": re.compile(r"total loss\s+([-\d.]+) on validation"),
    "att2seq": re.compile(r"text ppl\s+([-\d.]+) on validation"),
}
VALUE = re.compile(r"^(\S+)\s+([-\d.]+)")


def parse_printed(stdout: str) -> dict:
    """The original's printed test metrics, epochs run and the epoch its kept weights come from."""
    out: dict = {}
    lines = [msg for _, msg in stamps(stdout)]
    for msg in lines:
        m = VALUE.match(msg)
        if m and m.group(1) in PRINTED:
            out[PRINTED[m.group(1)]] = float(m.group(2))
    epochs = [int(msg.split()[1]) for msg in lines if re.fullmatch(r"epoch \d+", msg.strip())]
    out["epochs"] = max(epochs) if epochs else None
    return out


def validation_curve(stdout: str, model: str) -> list[float]:
    """The value the original's early stop watches, one per epoch, as it prints it."""
    return [float(m.group(1)) for _, msg in stamps(stdout) if (m := VALIDATION[model].search(msg))]


def best_epoch(stdout: str, model: str) -> int | None:
    """The epoch of the lowest validation value (the weights the original saves and tests)."""
    values = validation_curve(stdout, model)
    return 1 + values.index(min(values)) if values else None


def generated_sentences(text: str, model: str) -> list[str]:
    """The generated sentence of every record of the original's generated.txt. PETER writes blocks of
    reference, context words, generated and a blank line; NRT and Att2Seq reference, generated, blank.
    Read by line count, not by blank lines, so that an empty generated sentence keeps its place."""
    size = 4 if model == "peter" else 3
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if len(lines) % size:
        raise SystemExit(f"the original's generated.txt has {len(lines)} lines, not blocks of {size}")
    return [lines[k + size - 2].strip() for k in range(0, len(lines), size)]


def warm_test_records(data: Path, split: int) -> tuple[list[int], list[dict]]:
    """Positions in test.index of the records whose user and item both have training records (the ones
    explainbench scores), and every record of reviews.pickle."""
    records = load_plain_pickle(data / "reviews.pickle")
    train = read_index(data / str(split) / "train.index")
    test = read_index(data / str(split) / "test.index")
    users = {records[k]["user"] for k in train}
    items = {records[k]["item"] for k in train}
    warm = [j for j, k in enumerate(test) if records[k]["user"] in users and records[k]["item"] in items]
    return warm, [records[k] for k in test]


def read_samples(folder: Path) -> list[dict]:
    lines = (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def aligned_samples(folder: Path, test_records: list[dict], warm: list[int]) -> list[dict]:
    """Our run's samples, checked to be the warm test records in test.index order (so that the original's
    sentences are scored against exactly our references and features)."""
    samples = read_samples(folder)
    pairs = [(test_records[j]["user"], test_records[j]["item"]) for j in warm]
    if [(s["user_id"], s["item_id"]) for s in samples] != pairs:
        raise SystemExit(f"{folder}/samples.jsonl: its records are not the split's warm test records in "
                         "test.index order; was the run made on this --data and split?")
    return samples


def rescore(hyps: list[str], samples: list[dict], warm: list[int], features: list[str], work: Path) -> dict:
    """explainbench's reference-family scores of hyps[warm] against our run's references and features."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "refs.txt").write_text("\n".join(s["reference"] for s in samples) + "\n", encoding="utf-8")
    (work / "hyps.txt").write_text("\n".join(hyps[j] for j in warm) + "\n", encoding="utf-8")
    (work / "feats.txt").write_text("\n".join(s["feature"] for s in samples) + "\n", encoding="utf-8")
    (work / "feature_set.txt").write_text("\n".join(features) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "explainbench.cli.main", "score", str(work / "refs.txt"),
         str(work / "hyps.txt"),
         "--features", str(work / "feats.txt"), "--feature-set", str(work / "feature_set.txt"),
         "--family", "ref", "--n-boot", "0", "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"explainbench score failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    scores = json.loads(proc.stdout)
    return {m: _value(scores.get(m)) for m in METRICS}


def _value(entry: object) -> float | None:
    if isinstance(entry, dict):
        return entry.get("value")
    return entry if isinstance(entry, (int, float)) else None


def mean_words(sentences: list[str]) -> float:
    return statistics.mean(len(s.split()) for s in sentences) if sentences else 0.0


def run_original(model: str, code: Path, data: Path, split: int, threads: int, epochs: int | None) -> dict:
    """One full run of the original with its README's flags; its printed metrics and generated text."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory(prefix=f"{model}-fidelity-") as ckpt:
        cmd = [sys.executable, "main.py", "--data_path", str(data / "reviews.pickle"),
               "--index_dir", str(data / str(split)) + "/", "--checkpoint", ckpt + "/",
               *README_FLAGS[model], *(["--epochs", str(epochs)] if epochs else [])]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"the original failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
        generated = (Path(ckpt) / "generated.txt").read_text(encoding="utf-8")
    base = "peter" if model == "peter+" else model
    return {"printed": parse_printed(proc.stdout), "best_epoch": best_epoch(proc.stdout, base),
            "val_curve": validation_curve(proc.stdout, base), "wall_s": wall,
            "hyps": generated_sentences(generated, base)}


def ours_run(folder: Path) -> dict:
    """Metrics, mean generated length and epochs of our leaderboard run in `folder`."""
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    samples = read_samples(folder)
    out = {m: _value(results["metrics"].get(m)) for m in METRICS}
    out.update(words=mean_words([s["generated"] for s in samples]), run_id=results["run_id"],
               n=results["n"], git_commit=results.get("git_commit"), split=results["split"],
               seed=results["config"].get("seed"), model=results["model"],
               precision=results["config"].get("precision"),
               train_s=(results.get("timings") or {}).get("train_s"))
    log = folder / "train_log.jsonl"  # the leaderboard keeps it beside results.json; else the run folder
    if not log.is_file():
        home = Path(os.environ.get("EXPLAINBENCH_HOME", Path.home() / ".cache" / "explainbench"))
        log = (home / "runs" / results["dataset"] / f"split-{results['split']}" / results["model"]
               / results["run_id"] / "train_log.jsonl")
    if log.is_file():
        epochs = [json.loads(x) for x in log.read_text().splitlines() if '"epoch"' in x]
        epochs = [e for e in epochs if e.get("kind") == "epoch"]
        out["epochs"] = len(epochs)
        vals = [e.get("val_loss") for e in epochs]
        if vals and all(v is not None for v in vals):
            out["best_epoch"] = 1 + vals.index(min(vals))
            out["val_curve"] = vals
    return out


def _label(ours: dict) -> str:
    commit = (ours.get("git_commit") or "")[:7] or "commit unknown"
    return f"explainbench {ours['run_id']} (seed {ours.get('seed')}, {commit})"


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


DIGITS = {"bleu1": 2, "bleu4": 2, "rougeL_f": 2, "usr": 3, "fmr": 3, "words": 1}


def table(rows: list[dict]) -> str:
    cols = [*METRICS, "words"]
    head = "| split | run | " + " | ".join(cols) + " | epochs (best) | wall min |"
    out = [head, "|" + "---|" * (len(cols) + 4)]
    for split in sorted({r["split"] for r in rows}):
        sel = [r for r in rows if r["split"] == split]
        rescored = [r for r in sel if r["kind"] == "original rescored"]
        for r in sel:
            cells = []
            for c in cols:
                v = r.get(c)
                mark = ""
                if r["kind"] == "ours" and v is not None and rescored:
                    spread = [x[c] for x in rescored if x.get(c) is not None]
                    if spread and not min(spread) <= v <= max(spread):
                        mark = "*"
                cells.append(_fmt(v, DIGITS[c]) + mark)
            epochs = "-" if r.get("epochs") is None else f"{r['epochs']} ({r.get('best_epoch', '-')})"
            wall = "-" if not r.get("wall_s") else f"{r['wall_s'] / 60:.1f}"
            out.append(f"| {split} | {r['label']} | " + " | ".join(cells) + f" | {epochs} | {wall} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(README_FLAGS), required=True)
    ap.add_argument("--original", type=Path, default=None,
                    help="local copy of the original code (not needed with --reuse)")
    ap.add_argument("--data", type=Path, required=True, help="PETER-format folder (reviews.pickle, 1/..5/)")
    ap.add_argument("--ours", type=Path, default=Path("leaderboard/amazon-mi/reference"),
                    help="<scale folder>: holds <model>/split-<k>/results.json")
    ap.add_argument("--splits", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None,
                    help="cap the original's epochs (a smoke run; default: its own 100 and early stop)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--also", type=Path, action="append", default=[], metavar="RUN_DIR",
                    help="another run of ours of the same model (another seed or commit), shown beside")
    ap.add_argument("--reuse", type=Path, default=None, metavar="JSON",
                    help="the original's runs from an earlier --json of this script, instead of running it")
    args = ap.parse_args(argv)
    data = args.data.expanduser().resolve()
    base = "peter" if args.model == "peter+" else args.model
    reused = None
    if args.reuse is not None:
        earlier = json.loads(args.reuse.read_text(encoding="utf-8"))
        if earlier.get("model") != args.model:
            raise SystemExit(f"--reuse {args.reuse}: made for {earlier.get('model')}, not {args.model}")
        reused = earlier["rows"]
    original = args.original.expanduser().resolve() if args.original else None
    if reused is None and not (original and (original / "main.py").is_file()):
        raise SystemExit(
            f"--original {original}: no main.py there; pass a local copy of {ORIGINALS[base].repo}")
    for folder in args.also:
        if not (folder / "results.json").is_file() or not (folder / "samples.jsonl").is_file():
            raise SystemExit(f"--also {folder}: not a finished run (results.json and samples.jsonl)")
        model = json.loads((folder / "results.json").read_text(encoding="utf-8"))["model"]
        if model != args.model:
            raise SystemExit(f"--also {folder}: a run of {model}, not {args.model}")
    for split in args.splits:
        if not (args.ours / args.model / f"split-{split}" / "results.json").is_file():
            raise SystemExit(f"--ours {args.ours}: no {args.model}/split-{split}/results.json; make it with "
                             "explainbench grid leaderboard/amazon-mi-reference --leaderboard leaderboard")
    records = load_plain_pickle(data / "reviews.pickle")
    features = sorted({r["template"][0] for r in records})
    work = Path(tempfile.mkdtemp(prefix="fidelity-"))
    rows: list[dict] = []
    try:
        code = prepare_original(original, work, base) if reused is None else None
        for split in args.splits:
            ours = ours_run(args.ours / args.model / f"split-{split}")
            rows.append({"split": split, "kind": "ours", "label": _label(ours), **ours})
            for folder in args.also:
                more = ours_run(folder)
                if more["split"] == split:
                    rows.append({"split": split, "kind": "ours", "label": _label(more), **more})
            warm, test_records = warm_test_records(data, split)
            samples = aligned_samples(args.ours / args.model / f"split-{split}", test_records, warm)
            if reused is not None:
                rows.extend(r for r in reused if r["split"] == split and r["kind"] != "ours")
                continue
            for rep in range(1, args.repeats + 1):
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                o = run_original(args.model, code, data, split, args.threads, args.epochs)
                if len(o["hyps"]) != len(test_records):
                    raise SystemExit(f"the original wrote {len(o['hyps'])} sentences for "
                                     f"{len(test_records)} test records of split {split}")
                common = {"split": split, "repeat": rep, "epochs": o["printed"].get("epochs"),
                          "best_epoch": o["best_epoch"], "val_curve": o["val_curve"], "wall_s": o["wall_s"],
                          "load_before": load}
                printed = {m: o["printed"].get(m) for m in METRICS}
                rows.append({**common, "kind": "original printed", "label": f"original #{rep}, printed",
                             **printed, "words": mean_words(o["hyps"]), "n": len(o["hyps"])})
                scores = rescore(o["hyps"], samples, warm, features, work / f"score-{split}-{rep}")
                rows.append({**common, "kind": "original rescored", "label": f"original #{rep}, rescored",
                             **scores, "words": mean_words([o["hyps"][j] for j in warm]), "n": len(warm),
                             "generated": [o["hyps"][j] for j in warm]})
                brief = {k: v for k, v in rows[-1].items() if k != "generated"}
                print(json.dumps(rows[-2]), json.dumps(brief), sep="\n", flush=True)
        commit = original_commit(original) if reused is None else earlier.get("original_commit")
        source = f"the original's runs in {args.reuse}" if reused else f"{args.repeats} run(s) of it"
        print(f"\n{args.model}: explainbench ({args.ours}) against {ORIGINALS[base].repo} "
              f"({commit or 'commit unknown'}), {source} per split, {args.threads} thread(s)\n")
        print(table(rows))
        if args.json:
            args.json.write_text(json.dumps({"model": args.model, "original_commit": commit, "rows": rows},
                                            indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
