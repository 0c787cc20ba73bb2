"""The CLI as the tests call it: the given home, and one-line errors whatever EXPLAINBENCH_DEBUG says."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from explainbench.cli.main import app


def invoke(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"EXPLAINBENCH_HOME": str(home), "EXPLAINBENCH_DEBUG": ""})
