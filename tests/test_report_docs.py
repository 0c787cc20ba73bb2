"""docs/cli.md is generated from the Typer app: it must list every command as the app defines it now."""

from __future__ import annotations

from pathlib import Path

from explainbench.cli.docs import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_is_current():
    fresh = render()
    assert DOC.read_text(encoding="utf-8") == fresh, (
        "docs/cli.md is stale: run `python -m explainbench.cli.docs --write docs/cli.md`"
    )


def test_cli_reference_lists_every_command_and_option():
    import typer.main

    from explainbench.cli.main import app

    text = render()
    root = typer.main.get_command(app)
    ctx = root.make_context("explainbench", ["--help"], resilient_parsing=True)
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        assert f"## `explainbench {name}`" in text
        for param in command.params:
            if param.param_type_name == "option" and "--help" not in param.opts:
                assert f"`{param.opts[0]}`" in text, (name, param.opts)
