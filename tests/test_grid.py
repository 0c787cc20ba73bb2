"""`explainbench grid`: a recipe expanded into the RunSpecs `run` builds, executed by local worker processes;
the same run ids and numbers as runs made one by one, a failing run reported while the others finish,
and a second grid that trains nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from baselines.peter.config import PeterConfig
from explainbench.api.results import read_results
from explainbench.recipes import grid_runs, load_any
from explainbench.runner import RunSpec, run_experiment
from explainbench.runner.grid import LOG_FILE, GridRun, run_grid

DATA = "synthetic-tiny"
TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ffn": 32, "max_epochs": 2, "batch_size": 32}


def _spec(home: Path, model: str, split: int, **config) -> RunSpec:
    from explainbench.api.registry import get_explainer

    cls = get_explainer(model)
    base = PeterConfig(**TINY) if model == "peter" else cls.config_class()
    return RunSpec(model=model, data=DATA, config=dataclasses.replace(base, **config), split=split, home=home,
                   limit=40, n_boot=20, meteor=False, progress=False, threads=1, resume=True)


def _write_recipes(root: Path) -> Path:
    (root / "peter").mkdir(parents=True)
    (root / "peter" / "default.yaml").write_text(
        "model: peter\ndata: synthetic\nconfig: {}\nscales:\n  tiny: " + json.dumps(TINY) + "\n"
    )
    path = root / "grid.yaml"
    path.write_text(
        "kind: experiment\ndatasets: [synthetic-tiny]\nsplits: [1, 2]\nmodels: [item-popular, peter]\n"
        "model_scale: tiny\nlimit: 40\noutputs: []\n"
    )
    return path


def test_a_recipe_expands_into_the_specs_run_builds(tmp_path: Path) -> None:
    path = _write_recipes(tmp_path / "recipes")
    runs = grid_runs(load_any(path), seeds=[1111, 2], set_items=["dropout=0.0"], n_boot=20, meteor=False,
                     root=tmp_path / "recipes")
    assert [r.label for r in runs] == [
        f"{m} on synthetic-tiny split {k} seed {s}" for m in ("item-popular", "peter") for k in (1, 2)
        for s in (1111, 2)
    ]
    peter = [r.spec for r in runs if r.spec.model == "peter"]
    got = {(s.split, s.config.seed, s.config.d_model, s.config.dropout, s.limit, s.scale) for s in peter}
    assert got == {(k, s, 16, 0.0, 40, "tiny") for k in (1, 2) for s in (1111, 2)}
    assert all(s.resume and not s.progress and s.threads == 1 for s in peter)
    # a cell that cannot be specified comes back with its error, the others with their specs
    bad = grid_runs(load_any(path), set_items=["d_model=wide"], root=tmp_path / "recipes")
    assert [r.spec is None for r in bad] == [False, False, True, True]
    assert "d_model" in bad[2].error


CELLS = [("item-popular", 1), ("item-popular", 2), ("peter", 1), ("peter", 2)]


@pytest.fixture(scope="module")
def alone(home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The four runs made one by one with run_experiment, in a home of their own: run id and metrics."""
    own = tmp_path_factory.mktemp("alone")
    shutil.copytree(home / "datasets", own / "datasets")
    expected = {}
    for model, split in CELLS:
        outcome = run_experiment(_spec(own, model, split), log=lambda m: None)
        values = {k: v["value"] for k, v in outcome.results["metrics"].items()}
        expected[(model, split)] = (outcome.run_id, values)
    return expected


def _check_same_as_alone(report, alone: dict) -> None:
    for (model, split), result in zip(CELLS, report.results, strict=False):
        run_id, metrics = alone[(model, split)]
        assert result.run_id == run_id
        got = read_results(result.run_dir / "results.json")["metrics"]
        assert {k: v["value"] for k, v in got.items()} == metrics


def test_grid_equals_runs_one_by_one_reports_a_failure_and_reruns_nothing(home: Path, alone: dict) -> None:
    runs = [GridRun(f"{m} {k}", _spec(home, m, k)) for m, k in CELLS]
    runs.append(GridRun("peter bad", _spec(home, "peter", 1, optimizer="nope")))
    runs.append(GridRun("unspecified", None, "d_model: expected an int"))
    events = []
    report = run_grid(runs, jobs=2, retries=1, on_event=lambda s, r: events.append((s, r.label)))
    states = {r.label: r.state for r in report.results}
    assert states == {"item-popular 1": "done", "item-popular 2": "done", "peter 1": "done",
                      "peter 2": "done", "peter bad": "failed", "unspecified": "failed"}
    bad = next(r for r in report.results if r.label == "peter bad")
    assert bad.attempts == 2 and "unknown optimizer 'nope'" in bad.error and ("retry", "peter bad") in events
    assert "unknown optimizer" in (bad.run_dir / LOG_FILE).read_text()
    _check_same_as_alone(report, alone)
    active: set[str] = set()
    most = 0
    for state, label in events:  # "running" means started: never more than jobs at once
        if state == "running":
            active.add(label)
            most = max(most, len(active))
        elif state in ("done", "failed", "retry", "skipped"):
            active.discard(label)
    assert most == 2

    again = run_grid(runs[:4], jobs=2)
    assert [r.state for r in again.results] == ["skipped"] * 4
    assert all(r.attempts == 0 for r in again.results)  # nothing was started


def test_grid_on_a_local_ray_returns_run_folders_to_the_driver(home: Path, alone: dict,
                                                               tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'explainbench[ray]'")
    driver = tmp_path / "driver"
    shutil.copytree(home / "datasets", driver / "datasets")
    runs = [GridRun(f"{m} {k}", _spec(driver, m, k)) for m, k in CELLS]
    runs.append(GridRun("peter bad", _spec(driver, "peter", 1, optimizer="nope")))
    report = run_grid(runs, jobs=2, retries=0, executor="ray", threads=1)
    assert [r.state for r in report.results] == ["done"] * 4 + ["failed"]
    assert "unknown optimizer 'nope'" in report.results[-1].error
    _check_same_as_alone(report, alone)
    for r in report.results[:4]:  # written by the driver from what the task returned: no checkpoints
        assert r.run_dir.parent.parent.parent.parent.parent == driver
        assert (r.run_dir / LOG_FILE).is_file() and not (r.run_dir / "checkpoint").exists()
    again = run_grid(runs[:4], jobs=2, executor="ray")
    assert [r.state for r in again.results] == ["skipped"] * 4


def test_ray_on_a_shared_home_writes_the_runs_in_place(home: Path, alone: dict, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'explainbench[ray]'")
    shared = tmp_path / "shared"
    shutil.copytree(home / "datasets", shared / "datasets")
    runs = [GridRun(f"{m} {k}", _spec(shared, m, k)) for m, k in CELLS]
    report = run_grid(runs, jobs=2, retries=0, executor="ray", threads=1, shared_home=True)
    assert [r.state for r in report.results] == ["done"] * 4
    _check_same_as_alone(report, alone)
    for r in report.results:  # the task's own folder in the home, its log and (PETER) its checkpoint kept
        assert r.run_dir.is_relative_to(shared) and (r.run_dir / LOG_FILE).is_file()
    assert (report.results[2].run_dir / "checkpoint").is_dir()


def test_without_ray_the_ray_executor_says_how_to_install(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if name == "ray" or name.startswith("ray."):
            raise ImportError("no ray here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    own = tmp_path / "own"
    shutil.copytree(home / "datasets", own / "datasets")
    with pytest.raises(Exception, match=r"pip install 'explainbench\[ray\]'"):
        run_grid([GridRun("x", _spec(own, "item-popular", 1))], executor="ray")


def test_cli_grid_dry_run_and_exit_status(home: Path, tmp_path: Path) -> None:
    path = _write_recipes(tmp_path / "recipes")
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "EXPLAINBENCH_RECIPES": str(tmp_path / "recipes")}
    cmd = [sys.executable, "-m", "explainbench.cli.main", "grid", str(path), "--n-boot", "20", "--no-meteor"]
    dry = subprocess.run([*cmd, "--dry-run"], env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "peter on synthetic-tiny split 2" in dry.stdout and "4 runs" in dry.stdout
    only = subprocess.run([*cmd, "--dry-run", "--models", "peter"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert only.returncode == 0 and "2 runs" in only.stdout and "item-popular" not in only.stdout
    wrong = subprocess.run([*cmd, "--dry-run", "--models", "petr"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert wrong.returncode == 2 and "petr: not in the recipe's models" in wrong.stderr
    bad = subprocess.run([*cmd, "--executor", "slurm"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "use one of local" in bad.stderr
    # --set reaches PETER only (item-popular has no optimizer), whose runs fail when they train
    failing = subprocess.run([*cmd, "--set", "optimizer=nope", "--retries", "0", "--jobs", "2"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert failing.returncode == 1, failing.stderr
    counts = re.search(r"grid: (\d+) done, (\d+) skipped, (\d+) failed", failing.stdout)
    assert counts and int(counts[1]) + int(counts[2]) == 2 and counts[3] == "2", failing.stdout
    assert "unknown optimizer 'nope'" in failing.stderr  # the event line, as it happened


def test_per_model_config_of_an_experiment_recipe_and_peter_plus_recipe(tmp_path: Path) -> None:
    from explainbench.recipes import model_recipe, plan

    root = tmp_path / "recipes"
    path = _write_recipes(root)
    path.write_text(path.read_text() + "config:\n  peter: {dropout: 0.05, max_epochs: 1}\n")
    recipe = load_any(path)
    runs = grid_runs(recipe, root=root)
    peter = [r.spec.config for r in runs if r.spec.model == "peter"]
    assert {(c.dropout, c.max_epochs, c.d_model) for c in peter} == {(0.05, 1, 16)}  # after the scale
    # --set beats the recipe's per-model config, and still reaches only the models that have the key
    runs = grid_runs(recipe, set_items=["max_epochs=3"], root=root)
    assert {r.spec.config.max_epochs for r in runs if r.spec.model == "peter"} == {3}
    assert any("--set max_epochs=1" in c for c in plan(recipe, root=root))
    assert model_recipe("peter+", root) == root / "peter" / "default.yaml"


def test_cli_grid_adds_its_runs_to_a_leaderboard(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "recipes"
    path = root / "floors.yaml"
    root.mkdir()
    path.write_text("kind: experiment\ndatasets: [synthetic-tiny]\nsplits: [1]\n"
                    "models: [global-popular, item-popular]\nlimit: 30\n")
    board = tmp_path / "board"
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "EXPLAINBENCH_RECIPES": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "explainbench.cli.main", "grid", "floors", "--n-boot", "20", "--no-meteor",
         "--leaderboard", str(board), "--allow-dirty"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for model in ("global-popular", "item-popular"):
        folder = board / DATA / "default" / model / "split-1"
        assert (folder / "results.json").is_file()
        assert (folder / "command.txt").read_text().startswith("explainbench grid floors")
    assert (board / "README.md").is_file()


def test_status_table_shows_epochs_and_an_eta_from_the_train_log(tmp_path: Path) -> None:
    from rich.console import Console

    from explainbench.cli.grid import event_line, status_table
    from explainbench.runner.grid import GridResult, last_epoch

    rdir = tmp_path / "run"
    rdir.mkdir()
    assert last_epoch(rdir) is None
    lines = [{"stage": "train", "kind": "step", "epoch": 1, "step": 5},
             {"stage": "train", "kind": "epoch", "epoch": 1, "val_loss": 7.25},
             {"stage": "train", "kind": "epoch", "epoch": 2, "val_loss": 6.5},
             {"stage": "train", "kind": "step", "epoch": 3, "step": 15}]
    (rdir / "train_log.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"cut')
    record = last_epoch(rdir)
    assert record["epoch"] == 2 and record["val_loss"] == 6.5

    running = GridResult("peter on d split 1", "running", run_id="abc", started=1000.0, progress=record,
                         max_epochs=10)
    assert running.eta_s(now=1120.0) == pytest.approx(480.0)  # 60 s per epoch, 8 epochs to the limit
    assert GridResult("x", "running", started=1000.0, max_epochs=10).eta_s(now=1100.0) is None
    results = [running, GridResult("nrt on d split 1", "queued"),
               GridResult("mvae on d split 1", "done", run_id="def", seconds=90.0)]
    console = Console(width=200, record=True)
    console.print(status_table(results, now=1120.0))
    text = console.export_text()
    assert "1 queued, 1 running, 1 done" in text
    row = next(line for line in text.splitlines() if "peter on d split 1" in line)
    assert "2/10, val 6.5" in row and "2.0" in row and "8.0" in row and "abc" in row
    assert "1.5" in next(line for line in text.splitlines() if "mvae on d split 1" in line)
    line = event_line("progress", running)
    assert "epoch 2/10" in line and "at most" in line
