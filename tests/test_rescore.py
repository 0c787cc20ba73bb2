"""`explainbench leaderboard rescore`: a family added to committed runs from their samples gives the
numbers a fresh scoring gives, leaves the other metrics alone and records where the numbers came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from explainbench.api.results import read_results, write_results
from explainbench.metrics import metrics_of

DATA = "synthetic-tiny"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "explainbench.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _strip(doc: dict, names: set[str]) -> dict:
    """results as the code before the explain family wrote them."""
    doc["metrics"] = {k: v for k, v in doc["metrics"].items() if k not in names}
    for key in ("buckets", "per_count"):
        for groups in doc[key].values():
            for group in groups.values():
                group["metrics"] = {k: v for k, v in group["metrics"].items() if k not in names}
    return doc


def test_rescore_adds_the_explain_family_as_a_fresh_scoring_would(home: Path, tmp_path: Path) -> None:
    ran = _cli(home, "run", "--model", "item-popular", "--data", DATA, "--limit", "60", "--n-boot", "30",
               "--no-meteor", "--no-progress")
    assert ran.returncode == 0, ran.stderr
    (run,) = (home / "runs" / DATA / "split-1" / "item-popular").glob("*/results.json")
    board = tmp_path / "board"
    added = _cli(home, "leaderboard", "add", str(run.parent), "--root", str(board), "--allow-dirty",
                 "--no-stats", "--command", "explainbench run --model item-popular")
    assert added.returncode == 0, added.stderr
    (copy,) = board.glob("*/*/item-popular/split-1/results.json")
    fresh = read_results(copy)
    names = set(metrics_of("explain"))
    assert names & set(fresh["metrics"]), "the run was scored with the explain family"
    write_results(copy, _strip(read_results(copy), names))
    before = json.loads(copy.read_text())

    out = _cli(home, "leaderboard", "rescore", "--root", str(board))
    assert out.returncode == 0, out.stderr
    assert "1 runs rescored" in out.stdout
    after = read_results(copy)
    assert after["metrics"] == fresh["metrics"]  # values, intervals and signatures: the same seeds
    assert after["buckets"] == fresh["buckets"] and after["per_count"] == fresh["per_count"]
    assert after["run_id"] == fresh["run_id"]
    (record,) = after["rescored"]
    assert record["families"] == ["explain"] and set(record["metrics"]) == names & set(fresh["metrics"])
    kept = json.loads(copy.read_text())
    assert {k: v for k, v in kept["metrics"].items() if k not in names} == before["metrics"]
    assert "Feat P" in (board / "README.md").read_text()

    again = _cli(home, "leaderboard", "rescore", "--root", str(board))
    assert again.returncode == 0 and "0 runs rescored" in again.stdout  # nothing left to add
