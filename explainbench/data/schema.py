"""The canonical record schema shared by every source (as `datasets.Features` and as Arrow).

Every importer produces these columns; the embedded synthetic data also fills the ground-truth
columns `aspect`, `aspect_terms` and `detail` (empty for real data). Loading a split adds
`user_train_count` and `item_train_count` (training records of the record's user / item in that split).
"""

from __future__ import annotations

import datasets
import pyarrow as pa

RECORD_COLUMNS: tuple[str, ...] = (
    "user_id",
    "item_id",
    "rating",
    "explanation",
    "feature",
    "adjective",
    "sentiment",
    "aspect",
    "aspect_terms",
    "detail",
)
COUNT_COLUMNS: tuple[str, ...] = ("user_train_count", "item_train_count")
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
N_SPLITS = 5

FEATURES = datasets.Features(
    {
        "user_id": datasets.Value("string"),
        "item_id": datasets.Value("string"),
        "rating": datasets.Value("float32"),
        "explanation": datasets.Value("string"),
        "feature": datasets.Value("string"),
        "adjective": datasets.Value("string"),
        "sentiment": datasets.Value("int8"),  # +1 / -1 (rating >= 3 is positive where a source has none)
        "aspect": datasets.Value("string"),  # synthetic ground truth, "" for real data
        "aspect_terms": datasets.List(datasets.Value("string")),  # the aspect's surface words
        "detail": datasets.Value("string"),  # item detail phrase the sentence mentions, "" if none
    }
)

SPLIT_FEATURES = datasets.Features(
    {
        **FEATURES,
        "user_train_count": datasets.Value("int32"),
        "item_train_count": datasets.Value("int32"),
    }
)

RECORD_SCHEMA: pa.Schema = FEATURES.arrow_schema
SPLIT_SCHEMA: pa.Schema = SPLIT_FEATURES.arrow_schema


def sentiment_from_rating(rating: float) -> int:
    """The rule for sources without a sentiment label: rating >= 3 is positive (+1), else -1."""
    return 1 if rating >= 3 else -1


def records_table(columns: dict[str, pa.Array | list]) -> pa.Table:
    """Build a record table in the canonical schema; missing ground-truth columns are filled empty."""
    n = len(columns["user_id"])
    filled: dict[str, pa.Array | list] = dict(columns)
    for name in ("aspect", "detail"):
        filled.setdefault(name, pa.array([""] * n, pa.string()))
    filled.setdefault("aspect_terms", pa.array([[]] * n, pa.list_(pa.string())))
    arrays = [
        pa.array(filled[c], RECORD_SCHEMA.field(c).type)
        if not isinstance(filled[c], pa.Array)
        else filled[c].cast(RECORD_SCHEMA.field(c).type)
        for c in RECORD_COLUMNS
    ]
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA)
