"""A metric registered by another package through the `explainbench.metrics` entry point is computed
by `score`, `run` and `evaluate`, has bootstrap intervals, is listed, and appears in Table 2.

The entry point is installed for the subprocesses only: a throw-away `.dist-info` folder on their
PYTHONPATH declares `words = explainbench_plugin_example.metric:WORDS` (tests/plugin_example), so this
process and the rest of the suite never see it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).parent / "plugin_example"
DATA = "synthetic-tiny"


def _site(root: Path, target: str = "explainbench_plugin_example.metric:WORDS") -> Path:
    info = root / "explainbench_metric_example-0.2.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: explainbench-metric-example\nVersion: 0.2.0\n"
    )
    (info / "entry_points.txt").write_text(f"[explainbench.metrics]\nwords = {target}\n")
    return root


def _env(site: Path, home: Path) -> dict[str, str]:
    path = os.pathsep.join([str(site), str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1",
            "HF_HUB_OFFLINE": "1"}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "explainbench.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_plugin_metric_in_score_list_run_and_table2(tmp_path: Path, home: Path) -> None:
    env = _env(_site(tmp_path / "site"), home)
    refs, hyps = tmp_path / "refs.txt", tmp_path / "hyps.txt"
    refs.write_text("the sound is great\nit works\ngood value\n")
    hyps.write_text("great sound\nit works well for me\ngood\n")

    scored = _cli(env, "score", str(refs), str(hyps), "--format", "json", "--n-boot", "50", "--no-meteor")
    assert scored.returncode == 0, scored.stderr
    out = json.loads(scored.stdout)
    assert out["words"] == pytest.approx((2 + 5 + 1) / 3)  # by hand: mean words per sentence
    signature = "words|impl:plugin|pkg:explainbench-metric-example@0.2.0|avg:record|impl_v:1"
    assert out["signatures"]["words"] == signature

    listed = _cli(env, "list", "metrics", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)["metrics"]}
    assert rows["words"]["package"] == "explainbench-metric-example"

    ran = _cli(env, "run", "--model", "item-popular", "--data", DATA, "--limit", "40", "--n-boot", "20",
               "--no-meteor", "--no-progress")
    assert ran.returncode == 0, ran.stderr
    (path,) = (home / "runs" / DATA / "split-1" / "item-popular").glob("*/results.json")
    results = json.loads(path.read_text())
    words = results["metrics"]["words"]
    samples = [json.loads(line) for line in (path.parent / "samples.jsonl").read_text().splitlines()]
    mean = sum(len(s["generated"].split()) for s in samples) / len(samples)
    assert words["family"] == "plugin" and words["value"] == pytest.approx(mean)
    assert words["ci_low"] is not None and words["ci_low"] <= words["value"] <= words["ci_high"]
    by_item = results["buckets"]["item"]
    assert len(by_item["metrics"]["words"]["value"]) == len(by_item["n"])

    table = _cli(env, "tables", "--data", DATA, "--table", "2", "--family", "explain", "--format", "json")
    assert table.returncode == 0, table.stderr
    doc = json.loads(table.stdout)  # one table: one object
    assert doc["key"] == "table2-explain"
    assert "words" in [c["key"] for c in doc["columns"]]

    # without the plugin the same run has another run id: the scoring key names installed plugins
    plain = {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    again = _cli(plain, "run", "--model", "item-popular", "--data", DATA, "--limit", "40", "--n-boot", "20",
                 "--no-meteor", "--no-progress")
    assert again.returncode == 0, again.stderr
    found = list((home / "runs" / DATA / "split-1" / "item-popular").glob("*/results.json"))
    assert len(found) == 2
    other = next(p for p in found if p != path)
    assert "words" not in json.loads(other.read_text())["metrics"]


def test_broken_plugin_metric_fails_in_one_line(tmp_path: Path, home: Path) -> None:
    env = _env(_site(tmp_path / "site", target="explainbench_plugin_example.metric:NOT_THERE"), home)
    refs = tmp_path / "r.txt"
    refs.write_text("a b\n")
    proc = _cli(env, "score", str(refs), str(refs), "--n-boot", "0", "--no-meteor")
    assert proc.returncode != 0
    assert "metric plugin 'words'" in proc.stderr and "cannot be loaded" in proc.stderr
    assert "Traceback" not in proc.stderr
