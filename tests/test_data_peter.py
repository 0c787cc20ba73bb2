"""PETER-format import: published splits kept record by record, Table 1 counts, and refusals."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from explainbench.cli import data as data_cli
from explainbench.data import load_manifest, load_records, load_split

SPLITS = ("train", "validation", "test")


def cli(*args: str, home: Path | None = None):
    """`explainbench data ARGS` through Typer's test runner (home: EXPLAINBENCH_HOME, else the session's)."""
    app = typer.Typer()
    data_cli.register(app)
    env = {"EXPLAINBENCH_HOME": str(home)} if home is not None else None
    return CliRunner().invoke(app, ["data", *args], env=env)


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def nothing_left(home: Path, name: str) -> bool:
    root = home / "datasets"
    return not (root / name).exists() and not any(p.name.startswith(".tmp-") for p in root.glob(".*"))


@pytest.fixture(scope="module")
def mi(shared_data: Path) -> Path:
    result = cli("import", "peter", str(shared_data / "peter-format"), "--name", "mi-peter")
    assert result.exit_code == 0, result.output
    return shared_data / "peter-format"


@pytest.fixture
def small_peter(tmp_path: Path) -> Path:
    """A hand-made 10-record PETER folder (5 users x 2 items), split 1 only."""
    records = [
        {
            "user": f"u{k % 5}",
            "item": f"i{k // 5}",
            "rating": 1 + k % 5,
            "template": ("food", "good", f"good food {k} .", 1),
        }
        for k in range(10)
    ]
    folder = tmp_path / "peter"
    (folder / "1").mkdir(parents=True)
    (folder / "reviews.pickle").write_bytes(pickle.dumps(records))
    for part, idx in (("train", range(8)), ("validation", [8]), ("test", [9])):
        (folder / "1" / f"{part}.index").write_text(" ".join(map(str, idx)))
    return folder


def test_published_splits_are_kept_record_by_record(mi: Path) -> None:
    with open(
        mi / "reviews.pickle", "rb"
    ) as fh:  # the trusted test file, read with plain pickle for comparison
        reviews = pickle.load(fh)
    for k in range(1, 6):
        dd = load_split("mi-peter", k)
        for part in SPLITS:
            index = [int(x) for x in (mi / str(k) / f"{part}.index").read_text().split()]
            rows = dd[part].to_list()
            assert len(rows) == len(index)
            for row, i in zip(rows, index, strict=True):
                r = reviews[i]
                feature, adjective, sentence, sentiment = r["template"]
                assert (row["user_id"], row["item_id"], row["rating"]) == (
                    r["user"],
                    r["item"],
                    float(r["rating"]),
                )
                assert (row["explanation"], row["feature"], row["adjective"], row["sentiment"]) == (
                    sentence,
                    feature,
                    adjective,
                    sentiment,
                )
                assert row["aspect"] == "" and row["aspect_terms"] == [] and row["detail"] == ""


def test_stats_report_the_published_counts(mi: Path) -> None:
    result = cli("stats", "mi-peter", "--format", "json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert (stats["reviews"], stats["users"], stats["items"]) == (5787, 1389, 895)
    assert stats["reviews_per_user"] == round(5787 / 1389, 2) and stats["reviews_per_item"] == round(
        5787 / 895, 2
    )
    assert stats["words_per_explanation"] == pytest.approx(15.79, abs=0.01)  # README: 15.8 tokens
    md = cli("stats", "mi-peter", "--format", "markdown").output
    assert "| # of reviews | 5,787 |" in md and "| Avg. # of reviews/user | 4.17 |" in md
    rich = cli("stats", "mi-peter").output
    assert "5,787" in rich and "1,389" in rich and "895" in rich


def test_manifest_records_the_source(mi: Path) -> None:
    m = load_manifest("mi-peter")
    assert m["source"]["kind"] == "peter" and len(m["source"]["sha256"]) == 64
    assert m["splits"]["published"] is True and m["splits"]["seeds"] is None
    assert m["counts"]["splits"]["1"] == {"train": 4629, "validation": 579, "test": 579}
    assert load_records("mi-peter").num_rows == 5787


def test_a_pickle_with_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned.txt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = tmp_path / "evil"
    (folder / "1").mkdir(parents=True)
    (folder / "reviews.pickle").write_bytes(pickle.dumps([{"user": "u", "item": "i", "x": Payload()}]))
    home = tmp_path / "home"
    result = cli("import", "peter", str(folder), "--name", "evil", home=home)
    assert_one_line_error(result, "reviews.pickle", "refused", "io.open")
    assert not marker.exists()
    assert not (home / "datasets" / "evil").exists()


def test_os_system_payload_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "reviews.pickle").write_bytes(pickle.dumps(Payload()))
    result = cli("import", "peter", str(tmp_path), "--name", "x", home=tmp_path / "h")
    assert_one_line_error(result, "refused", "system")
    assert not marker.exists()


def test_small_folder_imports(small_peter: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = cli("import", "peter", str(small_peter), "--name", "p", home=home)
    assert result.exit_code == 0, result.output
    assert load_manifest("p", home)["splits"]["count"] == 1
    assert [r["explanation"] for r in load_split("p", 1, home)["test"].to_list()] == ["good food 9 ."]


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            lambda f: (f / "1" / "test.index").write_text("9 10"),
            ["1/test.index", "position 10 is outside the 10 records"],
        ),
        (
            lambda f: (f / "1" / "test.index").write_text("7"),
            ["1/test.index", "position 7 is also in another part"],
        ),
        (
            lambda f: (f / "1" / "test.index").write_text("9 x"),
            ["1/test.index", "'x' is not a record position"],
        ),
        (lambda f: (f / "1" / "validation.index").unlink(), ["1/validation.index", "not found"]),
    ],
    ids=["out-of-range", "overlap", "not-a-number", "missing-index"],
)
def test_bad_index_files(small_peter: Path, tmp_path: Path, edit, fragments) -> None:
    edit(small_peter)
    home = tmp_path / "home"
    result = cli("import", "peter", str(small_peter), "--name", "p", home=home)
    assert_one_line_error(result, *fragments)
    assert nothing_left(home, "p")


def _rewrite(folder: Path, change) -> None:
    records = pickle.loads((folder / "reviews.pickle").read_bytes())
    change(records)
    (folder / "reviews.pickle").write_bytes(pickle.dumps(records))


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            lambda r: r.__setitem__(4, {**r[4], "template": ("food", "good", "  ", 1)}),
            ["record 4", "empty explanation"],
        ),
        (
            lambda r: r.__setitem__(6, {**r[6], "user": "u0", "item": "i0"}),
            ["record 6", "'u0'", "'i0'", "first at record 0"],
        ),
        (
            lambda r: r.__setitem__(3, {**r[3], "template": ("food", b"\xff\xfe", "good food .", 1)}),
            ["record 3", "not UTF-8"],
        ),
        (lambda r: r[2].pop("rating"), ["record 2", "lacks ['rating']"]),
    ],
    ids=["empty-explanation", "duplicate-pair", "non-utf8", "missing-key"],
)
def test_bad_records(small_peter: Path, tmp_path: Path, change, fragments) -> None:
    _rewrite(small_peter, change)
    home = tmp_path / "home"
    result = cli("import", "peter", str(small_peter), "--name", "p", home=home)
    assert_one_line_error(result, "reviews.pickle", *fragments)
    assert nothing_left(home, "p")


def test_missing_path_and_truncated_pickle(small_peter: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = cli("import", "peter", str(tmp_path / "nope"), "--name", "p", home=home)
    assert_one_line_error(result, "nope", "no such file")
    data = (small_peter / "reviews.pickle").read_bytes()
    (small_peter / "reviews.pickle").write_bytes(data[: len(data) // 2])
    result = cli("import", "peter", str(small_peter), "--name", "p", home=home)
    assert_one_line_error(result, "reviews.pickle", "truncated")
    assert nothing_left(home, "p") if (home / "datasets").exists() else True


def test_filter_cannot_break_published_splits(small_peter: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    args = ["import", "peter", str(small_peter), "--name", "p", "--max-reviews", "3"]
    assert_one_line_error(cli(*args, home=home), "--max-reviews", "published splits")


def test_existing_dataset_needs_force(small_peter: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    args = ["import", "peter", str(small_peter), "--name", "p"]
    assert cli(*args, home=home).exit_code == 0
    first = load_manifest("p", home)["created"]
    assert_one_line_error(cli(*args, home=home), "already exists", "--force")
    shutil.copy(small_peter / "1" / "train.index", small_peter / "1" / "train.index.bak")
    assert cli(*args, "--force", home=home).exit_code == 0
    assert load_manifest("p", home)["created"] >= first
    assert [p.name for p in (home / "datasets").iterdir()] == ["p"]
