"""Where prepared datasets live: $EXPLAINBENCH_HOME/datasets/<name>/ (default ~/.cache/explainbench)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from explainbench.data.errors import DataError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def explainbench_home() -> Path:
    """$EXPLAINBENCH_HOME when set, otherwise ~/.cache/explainbench."""
    env = os.environ.get("EXPLAINBENCH_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "explainbench"


def check_name(name: str) -> str:
    """A dataset name is a folder name: letters, digits, '.', '_' and '-' (no path separators)."""
    if not _NAME.match(name or ""):
        raise DataError(
            f"bad dataset name {name!r}: use letters, digits, '.', '_' or '-' (e.g. amazon-mi), at most 100"
        )
    return name


def datasets_root(home: Path | None = None) -> Path:
    return Path(home if home is not None else explainbench_home()) / "datasets"


def dataset_dir(name: str, home: Path | None = None) -> Path:
    return datasets_root(home) / check_name(name)
