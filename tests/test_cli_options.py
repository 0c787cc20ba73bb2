"""Numeric CLI options are typed: a bad value is one red line and exit 2; --n-boot is one definition."""

from __future__ import annotations

import pytest
import typer.main
from cli_runner import invoke

from explainbench.cli.main import app


def _option(path: list[str], name: str):
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("explainbench", ["--help"], resilient_parsing=True)
    for part in path:
        cmd = cmd.get_command(ctx, part)
        ctx = cmd.make_context(part, ["--help"], parent=ctx, resilient_parsing=True)
    return next(p for p in cmd.params if name in p.opts)


@pytest.mark.parametrize("path", [["run"], ["demo"], ["evaluate"], ["score"]])
def test_n_boot_is_one_shared_integer_option(path):
    reference = _option(["run"], "--n-boot")
    option = _option(path, "--n-boot")
    assert (option.default, option.help, option.metavar) == (1000, reference.help, reference.metavar)
    assert option.type_descriptor.annotation is int


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["demo", "--threads", "two"], "'--threads': Input should be a valid integer", "demo"),
        (["demo", "--n-boot", "-5"], "'--n-boot': Input should be greater than or equal to 0", "demo"),
        (["score", "a.txt", "b.txt", "--seed", "-1"], "Invalid value for '--seed'", "score"),
        (["evaluate", "--samples", "s.jsonl", "--data", "d", "--n-boot", "1.5"], "'--n-boot'", "evaluate"),
        (["evaluate", "--data", "d"], "Missing option '--samples'", "evaluate"),
        (["data", "prepare", "synthetic-tiny", "--split-seed", "-1"], "'--split-seed'", "data prepare"),
        (["probe", "noise", "--fraction", "1.5"], "Invalid value for '--fraction'", "probe noise"),
        (["probe", "identity", "somewhere", "--seed", "x"], "Invalid value for '--seed'", "probe identity"),
        (["run", "--modle", "peter"], "No such option: --modle", "run"),
        (["nosuch"], "No such command 'nosuch'", ""),
    ],
)
def test_bad_values_are_one_red_line_and_exit_2(tmp_path, args, message, command):
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert lines[0].endswith(f"{command} --help`)".lstrip()), lines[0]
    assert not any(tmp_path.iterdir())  # nothing written


def test_no_arguments_still_print_the_help(tmp_path):
    result = invoke(tmp_path)
    assert result.exit_code == 2
    assert "Usage" in result.output and "run" in result.output
