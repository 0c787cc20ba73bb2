"""Fixtures of the reliability suite: a home holding synthetic-tiny and one finished tiny NRT run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness import NRT, cli, nrt_run_dir


@pytest.fixture(scope="session")
def data_home(tiny_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with only synthetic-tiny in it (tests copy it before writing)."""
    home = tmp_path_factory.mktemp("data-home")
    shutil.copytree(tiny_home / "datasets", home / "datasets")
    return home


@pytest.fixture(scope="session")
def base_home(data_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data_home plus the uninterrupted tiny NRT run: every interrupted run must end equal to it."""
    home = tmp_path_factory.mktemp("base-home")
    shutil.copytree(data_home / "datasets", home / "datasets")
    proc = cli(home, *NRT)
    assert proc.returncode == 0, proc.stderr
    assert (nrt_run_dir(home) / "results.json").is_file()
    return home

