"""Shared fixture of the reporter's tests: finished runs on synthetic-tiny, built once per process.

The three cheap reference explainers run end to end through the runner's API (train, generate,
score, results.json) on splits 1 and 2 of `synthetic-tiny`. The reporter knows no model: to have an
"mvae" and its ablation variants without training one, their run folders are copies of reference runs
with the model name changed in results.json (item-popular -> mvae, global-popular -> mvae-nokl,
random-train -> mvae-nomlf). Split 1's mvae and mvae-nokl get a hand-written train_log.jsonl whose
numbers the loss-curve tests know. A second dataset name, `synthetic-tiny-b`, holds copies of all runs
with the dataset renamed, so Table 2 has two sections.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

DATA = "synthetic-tiny"
DATA_B = "synthetic-tiny-b"
REFERENCE = ("random-train", "global-popular", "item-popular")
ALIASES = {"mvae": "item-popular", "mvae-nokl": "global-popular", "mvae-nomlf": "random-train"}
SPLITS = (1, 2)

# (epoch, step, train_loss, val_loss) written to split 1's train logs
LOSSES = {
    "mvae": [(1, 10, 5.0, 5.5), (2, 20, 4.0, 4.8), (3, 30, 3.5, 4.6)],
    "mvae-nokl": [(1, 10, 4.5, 5.6), (2, 20, 3.0, 5.2), (3, 30, 2.0, 5.4)],
}

_HOME: Path | None = None


def _write_log(path: Path, rows: list[tuple[int, int, float, float]]) -> None:
    lines = []
    for epoch, step, train, val in rows:
        lines.append(
            {
                "stage": "train",
                "kind": "step",
                "epoch": epoch,
                "step": step - 5,
                "lr": 1.0,
                "loss": train + 0.25,
            }
        )
        lines.append(
            {"stage": "train", "kind": "step", "epoch": epoch, "step": step, "lr": 1.0, "loss": train}
        )
        lines.append(
            {
                "stage": "train",
                "kind": "epoch",
                "epoch": epoch,
                "step": step,
                "train_loss": train,
                "val_loss": val,
                "lr": 1.0,
            }
        )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def _copy_run(src: Path, dst: Path, **changes: str) -> None:
    shutil.copytree(src, dst)
    results = json.loads((dst / "results.json").read_text(encoding="utf-8"))
    results.update(changes)
    (dst / "results.json").write_text(json.dumps(results), encoding="utf-8")


def report_home(tmp_path_factory) -> Path:
    """$EXPLAINBENCH_HOME with the runs described above (built on first use, then reused)."""
    global _HOME
    if _HOME is not None:
        return _HOME
    from baselines.reference import ReferenceConfig
    from explainbench.data import ensure_dataset
    from explainbench.runner import RunSpec, run_experiment

    home = tmp_path_factory.mktemp("report-home")
    ensure_dataset(DATA, home=home)
    for model in REFERENCE:
        for split in SPLITS:
            spec = RunSpec(
                model=model,
                data=DATA,
                config=ReferenceConfig(),
                split=split,
                home=home,
                n_boot=50,
                meteor=False,
                progress=False,
            )
            run_experiment(spec, log=lambda message: None)
    runs = home / "runs" / DATA
    for alias, model in ALIASES.items():
        for split in SPLITS:
            (src,) = (runs / f"split-{split}" / model).iterdir()
            _copy_run(src, runs / f"split-{split}" / alias / src.name, model=alias)
    for alias, rows in LOSSES.items():
        (run,) = (runs / "split-1" / alias).iterdir()
        _write_log(run / "train_log.jsonl", rows)
    other = home / "runs" / DATA_B
    for split_dir in runs.iterdir():
        for model_dir in split_dir.iterdir():
            for run in model_dir.iterdir():
                _copy_run(run, other / split_dir.name / model_dir.name / run.name, dataset=DATA_B)
    _HOME = home
    return home


def results_of(home: Path, model: str, split: int, data: str = DATA) -> dict:
    from explainbench.api.results import read_results

    (path,) = (home / "runs" / data / f"split-{split}" / model).glob("*/results.json")
    return read_results(path)  # buckets and per_count as {label: {n, metrics}} (stored column-wise)


def run_dir_of(home: Path, model: str, split: int, data: str = DATA) -> Path:
    (path,) = (home / "runs" / data / f"split-{split}" / model).glob("*/results.json")
    return path.parent
