"""Which runs one table may combine (explainbench.runner.select), Holm-Bonferroni, and the smoke scenario
of issue #13: a --limit run must not silently replace the full run in `compare`."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baselines.reference import ReferenceConfig
from explainbench.cli.main import app
from explainbench.metrics.significance import holm_adjust
from explainbench.runner import RunSpec, run_experiment
from explainbench.runner.select import Rules, SelectionError, run_scale, select_runs
from explainbench.runner.store import RunRecord

DATA = "synthetic-tiny"


# -- Holm-Bonferroni against hand-computed values ------------------------------------------------


def test_holm_adjust_matches_hand_computed_values():
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> running max 0.06)
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capped at 1, monotone
    assert holm_adjust([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    # NaN stays NaN and does not count in m (m = 2 here)
    out = holm_adjust([0.02, float("nan"), 0.5])
    assert out[0] == pytest.approx(0.04) and math.isnan(out[1]) and out[2] == pytest.approx(0.5)
    assert holm_adjust([]) == []
    assert holm_adjust([0.2]) == pytest.approx([0.2])  # one test: no correction


# -- the rules, on hand-made records ---------------------------------------------------------------


def record(tmp_path: Path, model: str, split: int, run_id: str, *, n: int, limit: int | None = None,
           scale: str | None = None, created: str = "2026-01-01T00:00:00", ids: str | None = None,
           command: str | None = None) -> RunRecord:
    path = tmp_path / model / str(split) / run_id
    path.mkdir(parents=True)
    if command:
        (path / "command.txt").write_text(command + "\n")
    results = {"n": {"original": n, "cold": 0, "effective": n}, "limit": limit, "created": created}
    if scale is not None:
        results["scale"] = scale
    if ids is not None:
        results["test_ids_sha256"] = ids
    return RunRecord(model, DATA, split, run_id, path, results)


def test_full_before_limited_then_scale_then_newest(tmp_path):
    full = record(tmp_path, "a", 1, "full", n=100, created="2026-01-01T00:00:00")
    limited = record(tmp_path, "a", 1, "limited", n=20, limit=20, created="2026-01-02T00:00:00")
    other = record(tmp_path, "b", 1, "b-full", n=100)
    chosen = select_runs([full, limited, other])
    assert chosen.chosen[("a", 1)] is full
    assert [(r.run_id, why) for r, why in chosen.left_out] == [
        ("limited", "a full run (full) comes before a --limit run")
    ]
    assert chosen.n_line() == "scale unknown; test records n = 100 (split 1)"
    # two full runs: the newer wins
    newer = record(tmp_path, "a", 1, "newer", n=100, created="2026-02-01T00:00:00")
    assert select_runs([full, newer, other]).chosen[("a", 1)] is newer
    # at the table's scale before a newer run at another scale
    s1 = record(tmp_path, "c", 1, "c-small", n=100, scale="cpu-small", created="2026-01-01T00:00:00")
    s2 = record(tmp_path, "c", 1, "c-demo", n=100, scale="demo", created="2026-03-01T00:00:00")
    d1 = record(tmp_path, "d", 1, "d-small", n=100, scale="cpu-small")
    e1 = record(tmp_path, "e", 1, "e-small", n=100, scale="cpu-small")
    sel = select_runs([s1, s2, d1, e1])
    assert sel.scale == "cpu-small" and sel.chosen[("c", 1)] is s1
    assert sel.n_line() == "scale cpu-small; test records n = 100 (split 1)"


def test_overrides_and_refusals_name_the_runs(tmp_path):
    a_small = record(tmp_path, "a", 1, "a-small", n=100, scale="cpu-small")
    a_demo = record(tmp_path, "a", 1, "a-demo", n=100, scale="demo", created="2026-05-01T00:00:00")
    b_small = record(tmp_path, "b", 1, "b-small", n=100, scale="cpu-small")
    b_demo = record(tmp_path, "b", 1, "b-demo", n=100, scale="demo")
    assert select_runs([a_small, a_demo, b_small, b_demo], Rules(scale="demo")).runs() == [a_demo, b_demo]
    assert select_runs([a_small, a_demo, b_small], Rules(run_ids=("a-demo",), allow_mixed=True)).mixed
    with pytest.raises(SelectionError) as err:
        select_runs([a_small, a_demo, b_small], Rules(run_ids=("a-demo",)))
    message = str(err.value)
    assert "\n" not in message and "different scales" in message
    assert "a split 1 run a-demo (n 100, scale demo, limit none)" in message
    with pytest.raises(SelectionError, match="--run nope: no finished run"):
        select_runs([a_small], Rules(run_ids=("nope",)))
    with pytest.raises(SelectionError, match="both name a split 1"):
        select_runs([a_small, a_demo], Rules(run_ids=("a-small", "a-demo")))


def test_test_sets_must_agree_and_unknown_scale_is_not_mixed_silently(tmp_path):
    a = record(tmp_path, "a", 1, "a1", n=100, ids="x")
    b = record(tmp_path, "b", 1, "b1", n=100, ids="y")  # same n, other test records
    with pytest.raises(SelectionError, match="different test sets on split 1"):
        select_runs([a, b])
    c = record(tmp_path, "c", 1, "c1", n=100)  # no digest recorded (v1): n decides
    assert len(select_runs([a, c]).chosen) == 2
    known = record(tmp_path, "k", 1, "k1", n=100, scale="cpu-small")
    with pytest.raises(SelectionError, match="different scales"):
        select_runs([c, known])
    # v1 results: the scale comes from the run folder's command.txt
    old = record(tmp_path, "o", 1, "o1", n=100, command="explainbench run --scale cpu-small --data x")
    assert run_scale(old) == "cpu-small"
    assert select_runs([old, known]).n_line() == "scale cpu-small; test records n = 100 (split 1)"


# -- the smoke scenario on synthetic-tiny, through the CLI -----------------------------------------


def run(home: Path, model: str, limit: int | None, **config) -> object:
    spec = RunSpec(model=model, data=DATA, config=ReferenceConfig(**config), split=1, home=home, limit=limit,
                   n_boot=20, meteor=False, progress=False)
    return run_experiment(spec, log=lambda m: None)


def compare(home: Path, *args: str):
    return CliRunner().invoke(app, ["compare", "--data", DATA, *args], env={"EXPLAINBENCH_HOME": str(home)})


def set_scale(run_dir: Path, scale: str, run_id: str | None = None) -> Path:
    """Give a run a recorded scale (schema 2's `scale`), optionally as a copy under a new id."""
    if run_id is not None:
        target = run_dir.with_name(run_id)
        shutil.copytree(run_dir, target)
        run_dir = target
    path = run_dir / "results.json"
    results = json.loads(path.read_text())
    results["scale"] = scale
    if run_id is not None:
        results["run_id"] = run_id
    path.write_text(json.dumps(results))
    return run_dir


def test_limit_run_does_not_replace_the_full_run(home):
    full = run(home, "global-popular", None)
    limited = run(home, "global-popular", 20)  # made after the full run: the newest
    n_full = full.results["n"]["effective"]
    assert limited.results["n"]["effective"] == 20 < n_full
    result = compare(home, "--format", "json")
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert table["rows"][0]["run_ids"]["1"] == full.run_id
    assert [r["run_id"] for r in table["selection"]["left_out"]] == [limited.run_id]
    md = compare(home, "--format", "markdown")
    assert md.exit_code == 0, md.output
    assert f"scale unknown; test records n = {n_full:,} (split 1)" in md.stdout
    left = f"left out global-popular split 1 run {limited.run_id} (n 20, scale unknown, limit 20)"
    assert left in md.stdout
    # --run chooses the limited run outright
    chosen = json.loads(compare(home, "--format", "json", "--run", limited.run_id).stdout)
    assert chosen["rows"][0]["run_ids"]["1"] == limited.run_id
    assert chosen["selection"]["n"] == {"1": [20]}

    # a second model with only a full run: the limited run of the first cannot share its table
    other = run(home, "item-popular", None)
    refused = compare(home, "--run", limited.run_id)
    assert refused.exit_code == 2, refused.output
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "different test sets on split 1" in lines[0]
    assert f"run {limited.run_id} (n 20," in lines[0] and f"run {other.run_id} (n {n_full}," in lines[0]
    mixed = compare(home, "--run", limited.run_id, "--allow-mixed", "--format", "markdown")
    assert mixed.exit_code == 0, mixed.output
    assert f"n = 20 or {n_full:,} (split 1)" in mixed.stdout and "--allow-mixed" in mixed.stdout

    # scales: global-popular at cpu-small and (a copy) at demo, item-popular at cpu-small
    set_scale(full.run_dir, "cpu-small")
    demo = set_scale(full.run_dir, "demo", run_id="d" * 12)
    set_scale(other.run_dir, "cpu-small")
    table = json.loads(compare(home, "--format", "json").stdout)
    assert table["rows"][0]["run_ids"]["1"] == full.run_id and table["selection"]["scale"] == "cpu-small"
    refused = compare(home, "--scale", "demo")  # only global-popular ran at demo: fine alone
    assert refused.exit_code == 0, refused.output
    assert json.loads(compare(home, "--scale", "demo", "--format", "json").stdout)["rows"][0]["run_ids"] == {
        "1": demo.name
    }
    mixed_scales = compare(home, "--run", demo.name)
    assert mixed_scales.exit_code == 2
    lines = mixed_scales.stderr.strip().splitlines()
    assert len(lines) == 1 and "different scales" in lines[0]
    assert f"run {demo.name} (n {n_full}, scale demo" in lines[0]
    # the other commands pick by the same rules
    tables = CliRunner().invoke(
        app, ["tables", "--data", DATA, "--table", "2", "--format", "markdown", "--run", demo.name],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    assert tables.exit_code == 2 and "different scales" in tables.stderr
    examples = CliRunner().invoke(
        app, ["examples", "--data", DATA, "--models", "global-popular", "--n", "1", "--format", "markdown",
              "--scale", "cpu-small"],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    assert examples.exit_code == 0, examples.output
    assert f"scale cpu-small; test records n = {n_full:,} (split 1)" in examples.stdout
    left = f"left out global-popular split 1 run {demo.name} (n {n_full}, scale demo, limit none)"
    assert left in examples.stdout
    shutil.rmtree(demo)
