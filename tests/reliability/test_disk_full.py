"""A write that fails with ENOSPC (EXPLAINBENCH_FAULT=POINT:AT:enospc, api/faults.py) leaves every file
written before intact, leaves no temporary file, and the CLI says so in one line (exit 2, no traceback).
Re-running without the fault then finishes with the uninterrupted run's results."""

from __future__ import annotations

import pytest
from harness import (
    NRT,
    assert_clean_home,
    cli,
    comparable,
    fresh_home,
    nrt_run_dir,
    one_error_line,
    snapshot,
)

from explainbench.api.results import read_results
from explainbench.engine.checkpoint import load_checkpoint

FAULTS = ["checkpoint:2:enospc", "model:1:enospc", "samples:1:enospc", "results:1:enospc"]


@pytest.mark.parametrize("fault", FAULTS)
def test_disk_full_keeps_previous_state(fault, base_home, data_home, tmp_path):
    home = fresh_home(data_home, tmp_path / "home")
    before = snapshot(home)
    failed = cli(home, *NRT, fault=fault)
    line = one_error_line(failed)
    assert "No space left on device" in line and "intact" in line, line
    after = snapshot(home)
    assert {k: v for k, v in after.items() if k in before} == before
    assert_clean_home(home)
    rdir = nrt_run_dir(home)
    assert not (rdir / "results.json").exists()
    if fault.startswith("checkpoint"):  # the epoch-1 checkpoint survived the failed epoch-2 write
        assert int(load_checkpoint(rdir / "checkpoint" / "train.pt")["epoch"]) == 1
    if fault.startswith("results"):  # the samples written before the failure are kept
        assert (rdir / "samples.jsonl").is_file()

    again = cli(home, *NRT, "--resume")
    assert again.returncode == 0, again.stderr
    base = nrt_run_dir(base_home)
    assert comparable(read_results(rdir / "results.json")) == comparable(read_results(base / "results.json"))
    assert_clean_home(home)


def test_disk_full_while_preparing_a_dataset(tmp_path):
    home = tmp_path / "home"
    failed = cli(home, "data", "prepare", "synthetic-tiny", fault="write:1:enospc")
    line = one_error_line(failed)
    assert "No space left on device" in line, line
    assert not (home / "datasets" / "synthetic-tiny").exists()
    assert_clean_home(home)
