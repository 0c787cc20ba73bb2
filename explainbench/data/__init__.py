"""The data layer: canonical records, prepared datasets on disk, splits, tokenizer, importers.

from explainbench.data import ensure_dataset, load_split, load_tokenizer, load_manifest, feature_set
dd = load_split("synthetic-tiny", split=1)      # DatasetDict: train / validation / test
"""

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
]
