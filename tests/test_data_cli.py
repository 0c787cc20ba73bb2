"""The `explainbench data` commands: help, prepare, list, stats, the published-data message, atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from explainbench.cli import data as data_cli
from explainbench.data import DataError, dataset_stats, load_manifest, load_records


def cli(*args: str, home: Path):
    app = typer.Typer()
    data_cli.register(app)
    return CliRunner().invoke(app, ["data", *args], env={"EXPLAINBENCH_HOME": str(home), "COLUMNS": "200"})


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("command", ["prepare", "import", "list", "stats"])
def test_every_command_has_help_with_an_example(command: str, tmp_path: Path) -> None:
    result = cli(command, "--help", home=tmp_path)
    assert result.exit_code == 0 and "Example: explainbench data" in result.output


@pytest.mark.parametrize(
    ("source", "title", "n"),
    [("amazon", "Movies & TV", 20), ("yelp", "Yelp 2019", 15), ("tripadvisor", "TripAdvisor", 15)],
)
def test_prepare_published_source_without_file_explains_where_to_get_it(
    source: str, title: str, n: int, tmp_path: Path
) -> None:
    line = one_error_line(cli("prepare", source, home=tmp_path))
    assert "Lei Li" in line and "PETER-format" in line and title in line
    assert f"explainbench data import {source} PATH --name {source} --max-reviews {n}" in line
    assert f"explainbench data import peter PATH --name {source}" in line
    assert not (tmp_path / "datasets").exists()


def test_prepare_list_and_stats(tmp_path: Path) -> None:
    result = cli(
        "prepare", "synthetic-tiny", "--domain", "hotel", "--seed", "4", "--max-reviews", "15", home=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert "prepared synthetic-tiny-hotel" in result.output
    again = cli("prepare", "synthetic-tiny", "--domain", "hotel", "--seed", "4", home=tmp_path)
    assert again.exit_code == 0 and "already prepared" in again.output
    listed = cli("list", home=tmp_path).output
    assert "synthetic-tiny-hotel" in listed and "< 15 reviews" in listed
    m = load_manifest("synthetic-tiny-hotel", tmp_path)
    assert m["filter"]["max_reviews"] == 15 and m["source"]["seed"] == 4

    # Table 1 from the CLI equals a direct count over the records.
    rows = load_records("synthetic-tiny-hotel", tmp_path).to_pylist()
    users, items = {r["user_id"] for r in rows}, {r["item_id"] for r in rows}
    stats = json.loads(cli("stats", "synthetic-tiny-hotel", "--format", "json", home=tmp_path).output)
    assert (stats["users"], stats["items"], stats["reviews"]) == (len(users), len(items), len(rows))
    assert stats["reviews_per_user"] == round(len(rows) / len(users), 2)
    words = sum(len(r["explanation"].split()) for r in rows) / len(rows)
    assert stats["words_per_explanation"] == round(words, 2)
    assert stats == {**dataset_stats("synthetic-tiny-hotel", tmp_path)}


def test_stats_of_several_datasets_in_markdown(tmp_path: Path) -> None:
    both = cli("stats", "synthetic-tiny", "synthetic-tiny-movie", "--format", "markdown", home=tmp_path)
    assert both.exit_code == 0, both.output
    lines = both.output.strip().splitlines()
    assert lines[0] == "| Entries | synthetic-tiny | synthetic-tiny-movie |"
    assert [line.split("|")[1].strip() for line in lines[2:]] == [
        "# of users",
        "# of items",
        "# of reviews",
        "Avg. # of reviews/user",
        "Avg. # of reviews/item",
        "Avg. # of words/explanation",
    ]


def test_unknown_names_and_bad_options(tmp_path: Path) -> None:
    assert "not found" in one_error_line(cli("stats", "nothing-here", home=tmp_path))
    assert "unknown dataset 'synthetic-huge'" in one_error_line(
        cli("prepare", "synthetic-huge", home=tmp_path)
    )
    assert "bad bucket edge" in one_error_line(
        cli("prepare", "synthetic-tiny", "--buckets", "1,x", home=tmp_path)
    )
    assert "bad dataset name" in one_error_line(
        cli("prepare", "synthetic-tiny", "--name", "../up", home=tmp_path)
    )


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from explainbench.data import store

    calls = {"n": 0}
    real = store.ExplanationTokenizer.save

    def fail_on_third(self, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise DataError("disk full (simulated)")
        real(self, path)

    monkeypatch.setattr(store.ExplanationTokenizer, "save", fail_on_third)
    assert "disk full" in one_error_line(cli("prepare", "synthetic-tiny", home=tmp_path))
    assert list((tmp_path / "datasets").iterdir()) == []


def test_force_rebuild_replaces_the_folder(tmp_path: Path) -> None:
    assert cli("prepare", "synthetic-tiny", "--split-seed", "10", home=tmp_path).exit_code == 0
    before = load_manifest("synthetic-tiny", tmp_path)
    assert before["splits"]["seeds"] == [10, 11, 12, 13, 14]
    assert cli("prepare", "synthetic-tiny", "--force", "--vocab-from", "all", home=tmp_path).exit_code == 0
    after = load_manifest("synthetic-tiny", tmp_path)
    assert after["tokenizer"]["vocab_from"] == "all" and after["fingerprint"] != before["fingerprint"]
    assert set(after["tokenizer"]["files"].values()) == {"tokenizer/all.json"}
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == ["synthetic-tiny"]
