"""Reading prepared datasets: manifest, splits as `datasets.DatasetDict`, tokenizers, Table 1 stats."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datasets.table import InMemoryTable

from explainbench.data.errors import DataError
from explainbench.data.home import datasets_root
from explainbench.data.prepare import ensure_dataset
from explainbench.data.schema import RECORD_COLUMNS, SPLIT_FEATURES, SPLIT_NAMES
from explainbench.data.stats import TABLE1_ROWS, table1
from explainbench.data.store import MANIFEST_FILE, RECORDS_FILE, read_manifest
from explainbench.data.tokenizer import ExplanationTokenizer, words_of

_RECORDS_CACHE: dict[tuple[str, str], pa.Table] = {}


def load_manifest(name: str, home: Path | None = None) -> dict:
    """The dataset's manifest.json (preparing a built-in preset first if needed)."""
    return read_manifest(ensure_dataset(name, home))


def load_records(name: str, home: Path | None = None) -> pa.Table:
    """All records (canonical schema) as one Arrow table; kept in memory per process."""
    return _records_at(ensure_dataset(name, home))


def _check_split_number(manifest: dict, split: int) -> None:
    n = int(manifest["splits"]["count"])
    if not 1 <= int(split) <= n:
        raise DataError(f"dataset {manifest['name']!r} has splits 1..{n}; split {split} does not exist")


SPLIT_CACHE = "arrow"  # <dataset>/arrow/split-<k>/<part>.arrow: the splits as memory-mapped Arrow files


def load_split(name: str, split: int = 1, home: Path | None = None) -> datasets.DatasetDict:
    """train / validation / test of split k, each with the canonical columns plus
    user_train_count and item_train_count (training records of the user / item in this split).

    The parts are Arrow files mapped into memory (`datasets.Dataset.from_file`), not tables read into
    it: a 1.3-million-record split costs pages the process touches, and several processes share them.
    The files are written once per split, the first time it is loaded (`split_files`).
    """
    path = ensure_dataset(name, home)
    manifest = read_manifest(path)
    _check_split_number(manifest, split)
    info = datasets.DatasetInfo(features=SPLIT_FEATURES)
    try:
        folder = split_files(path, manifest, int(split))
    except PermissionError:  # a read-only home: the tables in memory, as before the split files
        return datasets.DatasetDict({
            part: datasets.Dataset(InMemoryTable(table), info=info, split=part)
            for part, table in _split_tables(path, int(split))
        })
    return datasets.DatasetDict({
        part: datasets.Dataset.from_file(str(folder / f"{part}.arrow"), info=info, split=part,
                                         in_memory=False)
        for part in SPLIT_NAMES
    })


def split_files(path: Path, manifest: dict, split: int) -> Path:
    """The folder of split k's Arrow files, written from the records and the split index when missing
    or made from another version of the dataset (the manifest's fingerprint is kept beside them).

    Written into a temporary folder and renamed into place; when another process renamed its own first,
    that one is used (both hold the same bytes)."""
    folder = path / SPLIT_CACHE / f"split-{split}"
    stamp = folder / "fingerprint"
    fingerprint = str(manifest.get("fingerprint", ""))
    index = path / "splits" / f"split-{split}.parquet"
    if not index.is_file():  # the files are derived from it: a dataset without it is damaged
        raise DataError(f"{index}: missing; prepare the dataset again with --force")
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".split-{split}."))
    try:
        for part_name, table in _split_tables(path, split):
            with pa.OSFile(str(tmp / f"{part_name}.arrow"), "wb") as sink:
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table, max_chunksize=ARROW_CHUNK)
        (tmp / "fingerprint").write_text(fingerprint, encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the rest of the dataset folder is not
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
            return folder  # another process wrote the same files meanwhile
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # made from another version of the dataset
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


ARROW_CHUNK = 65_536  # rows per record batch of a split file


def _split_tables(path: Path, split: int) -> list[tuple[str, pa.Table]]:
    """(part, table) of split k: the records its index names, with the two training counts (the
    records are read for this and let go: a process that trains holds only its split's mapped files)."""
    records = _read_records(path)
    f = path / "splits" / f"split-{split}.parquet"
    try:
        index = pq.read_table(f)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{f}: unreadable ({exc}); prepare the dataset again with --force") from None
    part = index.column("part").to_numpy()
    out = []
    for j, part_name in enumerate(SPLIT_NAMES):
        rows = pa.array(np.flatnonzero(part == j))
        table = records.take(index.column("index").take(rows))
        table = table.append_column("user_train_count", index.column("user_train_count").take(rows))
        table = table.append_column("item_train_count", index.column("item_train_count").take(rows))
        out.append((part_name, table.cast(SPLIT_FEATURES.arrow_schema)))
    return out


def _read_records(path: Path) -> pa.Table:
    try:
        return pq.read_table(path / RECORDS_FILE, columns=list(RECORD_COLUMNS))
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(
            f"{path / RECORDS_FILE}: unreadable ({exc}); prepare the dataset again with --force"
        ) from None


def _records_at(path: Path) -> pa.Table:
    """The records of the prepared dataset at path (cached per process, as load_records)."""
    manifest = read_manifest(path)
    key = (str(path.resolve()), str(manifest.get("fingerprint")))
    if key not in _RECORDS_CACHE:
        table = _read_records(path)
        if len(_RECORDS_CACHE) >= 2:
            _RECORDS_CACHE.pop(next(iter(_RECORDS_CACHE)))
        _RECORDS_CACHE[key] = table
    return _RECORDS_CACHE[key]


def load_tokenizer(name: str, split: int = 1, home: Path | None = None) -> ExplanationTokenizer:
    """The tokenizer saved with split k (built from its train records unless vocab_from was 'all')."""
    path = ensure_dataset(name, home)
    manifest = read_manifest(path)
    _check_split_number(manifest, split)
    return ExplanationTokenizer.load(path / manifest["tokenizer"]["files"][str(int(split))])


def feature_set(dd: datasets.DatasetDict) -> set[str]:
    """Every non-empty feature of a split's records (train, validation and test): FCR's denominator."""
    out: set[str] = set()
    for ds in dd.values():
        out.update(f for f in ds.unique("feature") if f)
    return out


def item_features(dd: datasets.DatasetDict, features: Collection[str]) -> dict[str, frozenset[str]]:
    """Each item's features as its training records mention them (feature hallucination's reference):
    the records' own features and every word of their explanations that is in `features` (the words of
    explainbench's tokenisation, the detection the metrics apply to generated text)."""
    feats = frozenset(features)
    train = dd["train"].select_columns(["item_id", "feature", "explanation"])
    out: dict[str, set[str]] = {}
    for batch in train.iter(batch_size=65_536):
        for item, feature, text in zip(batch["item_id"], batch["feature"], batch["explanation"], strict=True):
            found = out.setdefault(item, set())
            if feature:
                found.add(feature)
            found.update(w for w in words_of(text or "") if w in feats)
    return {k: frozenset(v) for k, v in out.items()}


def dataset_stats(name: str, home: Path | None = None) -> dict:
    """The paper's Table 1 rows for a dataset, plus name, fingerprint and source kind."""
    path = ensure_dataset(name, home)
    manifest = read_manifest(path)
    stats = manifest.get("stats") or table1(load_records(name, home))
    return {
        "name": manifest["name"],
        "fingerprint": manifest["fingerprint"],
        "source": manifest["source"].get("kind"),
        **{key: stats[key] for key, _ in TABLE1_ROWS},
    }


def list_datasets(home: Path | None = None) -> list[dict]:
    """Manifests of the prepared datasets under home (folders being built are skipped)."""
    root = datasets_root(home)
    out = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d.name.startswith(".") or not (d / MANIFEST_FILE).exists():
                continue
            try:
                out.append(read_manifest(d))
            except DataError:
                continue
    return out
