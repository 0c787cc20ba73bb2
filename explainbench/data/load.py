"""Reading prepared datasets: manifest, splits as `datasets.DatasetDict`, tokenizers, Table 1 stats."""

from __future__ import annotations

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
from explainbench.data.tokenizer import ExplanationTokenizer

_RECORDS_CACHE: dict[tuple[str, str], pa.Table] = {}


def load_manifest(name: str, home: Path | None = None) -> dict:
    """The dataset's manifest.json (preparing a built-in preset first if needed)."""
    return read_manifest(ensure_dataset(name, home))


def load_records(name: str, home: Path | None = None) -> pa.Table:
    """All records (canonical schema) as one Arrow table; kept in memory per process."""
    path = ensure_dataset(name, home)
    manifest = read_manifest(path)
    key = (str(path.resolve()), str(manifest.get("fingerprint")))
    if key not in _RECORDS_CACHE:
        try:
            table = pq.read_table(path / RECORDS_FILE, columns=list(RECORD_COLUMNS))
        except (OSError, pa.ArrowInvalid) as exc:
            raise DataError(
                f"{path / RECORDS_FILE}: unreadable ({exc}); prepare the dataset again with --force"
            ) from None
        if len(_RECORDS_CACHE) >= 2:
            _RECORDS_CACHE.pop(next(iter(_RECORDS_CACHE)))
        _RECORDS_CACHE[key] = table
    return _RECORDS_CACHE[key]


def _check_split_number(manifest: dict, split: int) -> None:
    n = int(manifest["splits"]["count"])
    if not 1 <= int(split) <= n:
        raise DataError(f"dataset {manifest['name']!r} has splits 1..{n}; split {split} does not exist")


def load_split(name: str, split: int = 1, home: Path | None = None) -> datasets.DatasetDict:
    """train / validation / test of split k, each with the canonical columns plus
    user_train_count and item_train_count (training records of the user / item in this split)."""
    path = ensure_dataset(name, home)
    manifest = read_manifest(path)
    _check_split_number(manifest, split)
    records = load_records(name, home)
    f = path / "splits" / f"split-{int(split)}.parquet"
    try:
        index = pq.read_table(f)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{f}: unreadable ({exc}); prepare the dataset again with --force") from None
    part = index.column("part").to_numpy()
    out = {}
    for j, part_name in enumerate(SPLIT_NAMES):
        rows = np.flatnonzero(part == j)
        table = records.take(index.column("index").take(pa.array(rows)))
        table = table.append_column("user_train_count", index.column("user_train_count").take(pa.array(rows)))
        table = table.append_column("item_train_count", index.column("item_train_count").take(pa.array(rows)))
        table = table.cast(SPLIT_FEATURES.arrow_schema)
        out[part_name] = datasets.Dataset(
            InMemoryTable(table), info=datasets.DatasetInfo(features=SPLIT_FEATURES), split=part_name
        )
    return datasets.DatasetDict(out)


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
