"""Every malformed input of bad_inputs.CASES: one `error:` line that names it, exit 2, nothing in the
home changed; and docs/reliability.md lists exactly these cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bad_inputs import CASES, REPO_DOC, markdown
from harness import cli, one_error_line, snapshot, unchanged


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, base_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(base_home, home, ignore=shutil.ignore_patterns("*.lock"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args = case.setup(home, scratch)
    before = snapshot(home)
    line = one_error_line(cli(home, *args, cwd=scratch))
    assert case.expect in line, line
    unchanged(before, snapshot(home))


def test_reliability_doc_lists_every_case() -> None:
    assert len(CASES) >= 25 and len({c.name for c in CASES}) == len(CASES)
    assert markdown() in REPO_DOC.read_text(encoding="utf-8"), (
        "docs/reliability.md is out of date: "
        "python -m tests.reliability.bad_inputs --write docs/reliability.md"
    )
