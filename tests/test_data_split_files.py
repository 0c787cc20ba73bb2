"""load_split maps each split from Arrow files written once (data/load.py), not tables read into memory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from explainbench.data import load as load_module
from explainbench.data import load_split
from explainbench.engine.batching import ENCODE_CHUNK, IdMaps, encode_records


@pytest.fixture()
def own_home(tiny_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(tiny_home / "datasets" / "synthetic-tiny", home / "datasets" / "synthetic-tiny",
                    ignore=shutil.ignore_patterns("arrow"))
    return home


def test_splits_are_memory_mapped_files_written_once(own_home: Path) -> None:
    folder = own_home / "datasets" / "synthetic-tiny" / "arrow" / "split-2"
    assert not folder.exists()
    dd = load_split("synthetic-tiny", 2, home=own_home)
    for part in ("train", "validation", "test"):
        files = [Path(f["filename"]) for f in dd[part].cache_files]
        assert files == [folder / f"{part}.arrow"]
    tables = dict(load_module._split_tables(own_home / "datasets" / "synthetic-tiny", 2))
    for part, table in tables.items():  # the same rows as the split read into memory
        assert dd[part].data.table.equals(table)
    stamp = folder / "fingerprint"
    written = (folder / "train.arrow").stat().st_mtime_ns
    load_split("synthetic-tiny", 2, home=own_home)
    assert (folder / "train.arrow").stat().st_mtime_ns == written  # reused
    stamp.write_text("another version", encoding="utf-8")
    load_split("synthetic-tiny", 2, home=own_home)
    assert stamp.read_text(encoding="utf-8") != "another version"  # rewritten for this dataset


def test_a_home_that_cannot_be_written_loads_the_split_into_memory(own_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(load_module, "split_files", refuse)
    dd = load_split("synthetic-tiny", 1, home=own_home)
    assert not dd["train"].cache_files and len(dd["train"]) > 0


def test_chunked_encoding_equals_one_pass(own_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from explainbench.data import load_tokenizer
    from explainbench.engine import batching

    dd = load_split("synthetic-tiny", 1, home=own_home)
    tok = load_tokenizer("synthetic-tiny", 1, home=own_home)
    maps = IdMaps.from_dataset(dd["train"].select(range(300)))  # validation records of unknown users drop
    whole = encode_records(dd["validation"], tok, maps, max_words=15)
    assert len(dd["validation"]) < ENCODE_CHUNK
    monkeypatch.setattr(batching, "ENCODE_CHUNK", 7)
    chunked = encode_records(dd["validation"], tok, maps, max_words=15)
    assert whole.dropped == chunked.dropped > 0 and len(whole) == len(chunked) > 0
    for name in ("user", "item", "rating", "sentiment", "feature", "text", "widths"):
        assert getattr(whole, name).equal(getattr(chunked, name)), name
    assert IdMaps.from_dataset(dd["train"]).users == list(dict.fromkeys(dd["train"]["user_id"]))
