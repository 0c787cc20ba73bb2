"""Paths under ../shared and the rule for tests that need them: skip with one line where ../shared is
absent, fail when CI=true (CI always has it). A module of its own: `conftest` names two files here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data" / "amazon-musical-instruments-5core"
SHARED_GOLDEN = SHARED / "golden" / "metrics_golden.json"


def require_shared(path: Path) -> Path:
    """`path` (under ../shared) if it exists; else skip the test, or fail it when CI=true."""
    if path.exists():
        return path
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {path} is missing: put ../shared beside the repository", pytrace=False)
    pytest.skip(f"{path} not available (../shared beside the repository)")
