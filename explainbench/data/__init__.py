"""The data layer: canonical records, prepared datasets on disk, splits, tokenizer, importers.

from explainbench.data import ensure_dataset, load_split, load_tokenizer, load_manifest, feature_set
dd = load_split("synthetic-tiny", split=1)      # DatasetDict: train / validation / test

The names below are loaded on first use (PEP 562): importing this package, or a light submodule such
as explainbench.data.buckets, does not import `datasets`, pandas or pyarrow (the CLI starts faster).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the submodule that defines it
_LAZY: dict[str, str] = {
    "DEFAULT_BUCKETS": "buckets",
    "Bucket": "buckets",
    "bucket_of": "buckets",
    "parse_buckets": "buckets",
    "DataError": "errors",
    "explainbench_home": "home",
    "dataset_stats": "load",
    "feature_set": "load",
    "item_features": "load",
    "list_datasets": "load",
    "load_manifest": "load",
    "load_records": "load",
    "load_split": "load",
    "load_tokenizer": "load",
    "PUBLISHED": "prepare",
    "SyntheticSpec": "prepare",
    "ensure_dataset": "prepare",
    "parse_synthetic_name": "prepare",
    "prepare_synthetic": "prepare",
    "published_message": "prepare",
    "FEATURES": "schema",
    "SPLIT_FEATURES": "schema",
    "import_peter": "sources.peter",
    "RAW_SOURCES": "sources.raw",
    "import_raw": "sources.raw",
    "PrepareOptions": "store",
    "ExplanationTokenizer": "tokenizer",
}

__all__ = [
    "DEFAULT_BUCKETS",
    "FEATURES",
    "PUBLISHED",
    "RAW_SOURCES",
    "SPLIT_FEATURES",
    "Bucket",
    "DataError",
    "ExplanationTokenizer",
    "PrepareOptions",
    "SyntheticSpec",
    "bucket_of",
    "dataset_stats",
    "ensure_dataset",
    "explainbench_home",
    "feature_set",
    "item_features",
    "import_peter",
    "import_raw",
    "list_datasets",
    "load_manifest",
    "load_records",
    "load_split",
    "load_tokenizer",
    "parse_buckets",
    "parse_synthetic_name",
    "prepare_synthetic",
    "published_message",
]  # the keys of _LAZY


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from explainbench.data.buckets import DEFAULT_BUCKETS, Bucket, bucket_of, parse_buckets
    from explainbench.data.errors import DataError
    from explainbench.data.home import explainbench_home
    from explainbench.data.load import (
        dataset_stats,
        feature_set,
        list_datasets,
        load_manifest,
        load_records,
        load_split,
        load_tokenizer,
    )
    from explainbench.data.prepare import (
        PUBLISHED,
        SyntheticSpec,
        ensure_dataset,
        parse_synthetic_name,
        prepare_synthetic,
        published_message,
    )
    from explainbench.data.schema import FEATURES, SPLIT_FEATURES
    from explainbench.data.sources.peter import import_peter
    from explainbench.data.sources.raw import RAW_SOURCES, import_raw
    from explainbench.data.store import PrepareOptions
    from explainbench.data.tokenizer import ExplanationTokenizer
