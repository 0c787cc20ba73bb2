"""The CLI's one answer to bad input: a single red line on stderr and exit status 2."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

_stderr = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print `error: MESSAGE` in red on stderr and exit with status 2 (nothing else is printed)."""
    _stderr.print(f"[red]error: {escape(message)}[/red]", soft_wrap=True)
    raise typer.Exit(2)
