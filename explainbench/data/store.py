"""Writing a prepared dataset: records once, five splits, a tokenizer per split, and the manifest.

Layout of $EXPLAINBENCH_HOME/datasets/<name>/ (see docs/data.md):
  records.parquet            every record, canonical schema (explainbench.data.schema)
  splits/split-<k>.parquet   k = 1..5: columns part (0 train, 1 validation, 2 test), index (row of
                             records.parquet, in the split's order), user_train_count, item_train_count
  tokenizer/split-<k>.json   vocabulary built from split k's train records (or tokenizer/all.json)
  manifest.json              source (path, sha256), filter, split seeds, counts, stats, buckets,
                             rating_range, tokenizer settings, content fingerprint
The folder is built under datasets/.tmp-<name>-*/ and renamed into place only when complete.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from explainbench import __version__
from explainbench.api.results import atomic_write_text
from explainbench.data.buckets import DEFAULT_BUCKETS, Bucket
from explainbench.data.errors import DataError
from explainbench.data.filters import sparsity_filter
from explainbench.data.fingerprint import ContentFingerprint
from explainbench.data.home import dataset_dir, datasets_root
from explainbench.data.schema import N_SPLITS, RECORD_COLUMNS, RECORD_SCHEMA, SPLIT_NAMES
from explainbench.data.splits import METHOD, RATIO, Split, random_split, split_seeds, train_counts
from explainbench.data.stats import table1
from explainbench.data.tokenizer import ExplanationTokenizer, WordTable

MANIFEST_VERSION = 1
RECORDS_FILE = "records.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class PrepareOptions:
    """Settings shared by every way of preparing a dataset (recorded in the manifest)."""

    max_reviews: int | None = None  # the paper's sparsity filter (15; 20 for Amazon); None = keep all
    split_seed: int = 1  # split k is cut with seed split_seed + k - 1
    vocab_from: str = "train"  # "train" (NETE; cleaner) or "all" (PETER, NRT, Att2Seq)
    vocab_size: int = 20000
    max_words: int = 15
    buckets: tuple[Bucket, ...] = field(default=DEFAULT_BUCKETS)

    def __post_init__(self) -> None:
        if self.vocab_from not in ("train", "all"):
            raise DataError(f"vocab_from must be 'train' or 'all', not {self.vocab_from!r}")
        if self.vocab_size < 1 or self.max_words < 1:
            raise DataError("vocab_size and max_words must be at least 1")
        if self.max_reviews is not None and self.max_reviews < 1:
            raise DataError(f"--max-reviews must be at least 1, not {self.max_reviews}")


class DatasetExists(DataError):
    """The dataset folder is already there (pass force=True / --force to rebuild it)."""


def dense_index(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dense int32 codes of a string column, in order of first appearance."""
    enc = pc.dictionary_encode(column)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int32)


def _build_tokenizer(
    records: pa.Table, table: WordTable, positions: np.ndarray | None, options: PrepareOptions
) -> ExplanationTokenizer:
    """Vocabulary from the records at positions (all when None) plus their feature words."""
    features = (
        records.column("feature")
        if positions is None
        else records.column("feature").take(pa.array(positions))
    )
    extra = [w for w in pc.unique(features).to_pylist() if w]
    return ExplanationTokenizer.from_counts(
        table.counts(positions),
        vocab_size=options.vocab_size,
        max_words=options.max_words,
        extra_words=extra,
        vocab_source=options.vocab_from,
    )


def _release_unused() -> None:
    """Hand Arrow's freed memory back to the system: its allocator otherwise keeps what a step (a
    Parquet write, a split's tables) freed, and the process's peak grows with each step (measured on 1M
    reviews: 550 MB without, see docs/benchmarks.md)."""
    pa.default_memory_pool().release_unused()


def write_dataset(
    name: str,
    records: pa.Table,
    *,
    source: dict,
    options: PrepareOptions,
    home: Path | None = None,
    force: bool = False,
    published_splits: Sequence[Split] | None = None,
    extra: dict | None = None,
) -> Path:
    """Filter, split, tokenize and store records as dataset `name`; returns its folder.

    published_splits (PETER layout) are kept exactly and cannot be combined with the sparsity filter.
    Nothing appears under datasets/<name>/ unless every file was written.
    """
    dest = dataset_dir(name, home)
    if (dest / MANIFEST_FILE).exists() and not force:
        raise DatasetExists(f"dataset {name!r} already exists at {dest}; pass --force to rebuild it")
    records = records.select(list(RECORD_COLUMNS)).cast(RECORD_SCHEMA)
    if published_splits is not None and options.max_reviews is not None:
        raise DataError(
            "--max-reviews cannot be used with published splits (they would no longer be kept exactly)"
        )

    users, items = dense_index(records.column("user_id")), dense_index(records.column("item_id"))
    filt = sparsity_filter(users, items, options.max_reviews)
    if not filt.keep.all():
        records = records.filter(pa.array(filt.keep))
        users, items = dense_index(records.column("user_id")), dense_index(records.column("item_id"))
    if records.num_rows < 3:
        raise DataError(
            f"only {records.num_rows} records left for {name!r} after filtering; nothing to split"
        )

    seeds: list[int] | None = None
    if published_splits is None:
        seeds = split_seeds(options.split_seed, N_SPLITS)
        n_splits = len(seeds)
    else:
        n_splits = len(published_splits)

    def make_split(k: int) -> Split:  # one at a time: five of 7 million positions would stay in memory
        return random_split(users, items, seeds[k - 1]) if seeds is not None else published_splits[k - 1]

    ratings = records.column("rating")
    lo, hi = pc.min(ratings).as_py(), pc.max(ratings).as_py()
    rating_range = [float(math.floor(lo)), float(math.ceil(hi))]

    root = datasets_root(home)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        pq.write_table(records, tmp / RECORDS_FILE, compression="zstd")
        _release_unused()
        (tmp / "splits").mkdir()
        (tmp / "tokenizer").mkdir()
        split_counts: dict[str, dict[str, int]] = {}
        tokenizer_files: dict[str, str] = {}
        words = WordTable(records.column("explanation"))
        if options.vocab_from == "all":
            _build_tokenizer(records, words, None, options).save(tmp / "tokenizer" / "all.json")
        fingerprint = ContentFingerprint(records)
        for k in range(1, n_splits + 1):
            split = make_split(k)
            fingerprint.add_split(split.parts())
            counts = train_counts(users, items, split)
            parts = split.parts()
            table = pa.table(
                {
                    "part": pa.array(
                        np.concatenate(
                            [np.full(parts[p].size, j, np.int8) for j, p in enumerate(SPLIT_NAMES)]
                        )
                    ),
                    "index": pa.array(np.concatenate([parts[p] for p in SPLIT_NAMES]).astype(np.int64)),
                    "user_train_count": pa.array(np.concatenate([counts[p][0] for p in SPLIT_NAMES])),
                    "item_train_count": pa.array(np.concatenate([counts[p][1] for p in SPLIT_NAMES])),
                }
            )
            pq.write_table(table, tmp / "splits" / f"split-{k}.parquet", compression="zstd")
            split_counts[str(k)] = split.sizes()
            if options.vocab_from == "train":
                _build_tokenizer(records, words, split.train, options).save(
                    tmp / "tokenizer" / f"split-{k}.json"
                )
                tokenizer_files[str(k)] = f"tokenizer/split-{k}.json"
            else:
                tokenizer_files[str(k)] = "tokenizer/all.json"
            del split, counts, parts, table
            _release_unused()

        settings = {
            "vocab_from": options.vocab_from,
            "vocab_size": options.vocab_size,
            "max_words": options.max_words,
            "buckets": [b.to_dict() for b in options.buckets],
        }
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "name": name,
            "fingerprint": fingerprint.hexdigest(json.dumps(settings, sort_keys=True)),
            "source": source,
            "filter": filt.to_dict(),
            "splits": {
                "count": n_splits,
                "published": published_splits is not None,
                "ratio": list(RATIO),
                "method": "published index files, kept exactly" if published_splits is not None else METHOD,
                "seeds": seeds,
                "sizes": split_counts,
            },
            "counts": {
                "records": records.num_rows,
                "users": int(users.max()) + 1,
                "items": int(items.max()) + 1,
                "splits": split_counts,
            },
            "stats": table1(records, int(users.max()) + 1, int(items.max()) + 1),  # dense codes
            "buckets": settings["buckets"],
            "rating_range": rating_range,
            "tokenizer": {
                **{k: settings[k] for k in ("vocab_from", "vocab_size", "max_words")},
                "files": tokenizer_files,
            },
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "explainbench_version": __version__,
            **(extra or {}),
        }
        atomic_write_text(tmp / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        _normal_permissions(tmp)
        _move_into_place(tmp, dest, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _normal_permissions(folder: Path) -> None:
    """mkdtemp/mkstemp create owner-only entries; a dataset is readable like any cache folder."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def _move_into_place(tmp: Path, dest: Path, force: bool) -> None:
    """Rename the finished folder to dest; an old dest (force) is moved aside first, then removed."""
    old: Path | None = None
    if dest.exists():
        if not force and (dest / MANIFEST_FILE).exists():
            raise DatasetExists(f"dataset {dest.name!r} already exists at {dest}; pass --force to rebuild it")
        old = dest.with_name(f".old-{dest.name}-{int(time.time() * 1e6)}")
        dest.rename(old)
    try:
        tmp.rename(dest)
    except OSError as exc:
        if old is not None:
            old.rename(dest)
        if (dest / MANIFEST_FILE).exists():  # another process finished the same dataset first
            shutil.rmtree(tmp, ignore_errors=True)
            return
        raise DataError(f"could not move the new dataset into {dest} ({exc})") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: Path) -> dict:
    """manifest.json of a dataset folder (DataError naming the file when missing or corrupt)."""
    f = Path(path) / MANIFEST_FILE
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{f}: not found; prepare or import the dataset first (explainbench data list)"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{f}: corrupt manifest ({exc}); prepare the dataset again with --force") from None
