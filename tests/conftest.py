"""Shared test fixtures.

- Hugging Face libraries run offline (nothing downloads at test time).
- EXPLAINBENCH_HOME points at a per-session temporary folder, so no test touches ~/.cache.
- One torch thread for every test (and OMP_NUM_THREADS=1 for the subprocesses they start).
- `tiny_home`: that home with `synthetic-tiny` prepared once per session (a few seconds); tests that
  need a small real-looking dataset call `load_split("synthetic-tiny", home=tiny_home)`.
- `home`: a home of the test module's own with that `synthetic-tiny` copied in, for modules that
  count or add runs (a module may override it, and build on it by asking for `home`).
- `shared_data` / `require_shared(path)`: data from ../shared (beside the repository). Without it a test
  skips with one line, except where the environment has CI=true: there a missing path fails the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One torch thread: on a shared 2-core machine two threads made training steps several times slower
# (measured by the engine, runner and baseline authors); subprocesses inherit the variable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> None:
    """Every test starts with one torch thread, whatever an earlier test (e.g. `run --threads N`) set."""
    torch.set_num_threads(1)

from shared_paths import SHARED_DATA, SHARED_GOLDEN, require_shared  # noqa: E402,F401


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """EXPLAINBENCH_HOME for the whole session (a fresh temporary folder)."""
    home = tmp_path_factory.mktemp("explainbench-home")
    old = os.environ.get("EXPLAINBENCH_HOME")
    os.environ["EXPLAINBENCH_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("EXPLAINBENCH_HOME", None)
    else:
        os.environ["EXPLAINBENCH_HOME"] = old


@pytest.fixture(scope="session")
def tiny_home(_session_home: Path) -> Path:
    """The session home with synthetic-tiny prepared (once); yields the home path."""
    from explainbench.data import ensure_dataset

    ensure_dataset("synthetic-tiny", home=_session_home)
    return _session_home


@pytest.fixture(scope="module")
def home(tiny_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home of this module's own (runs are counted), with the session's synthetic-tiny copied in."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(tiny_home / "datasets", home / "datasets")
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data/amazon-musical-instruments-5core (read only); see require_shared."""
    return require_shared(SHARED_DATA)
