"""The paper's Table 1 rows for a record table (users, items, reviews, averages, words/explanation)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

TABLE1_ROWS: tuple[tuple[str, str], ...] = (
    ("users", "# of users"),
    ("items", "# of items"),
    ("reviews", "# of reviews"),
    ("reviews_per_user", "Avg. # of reviews/user"),
    ("reviews_per_item", "Avg. # of reviews/item"),
    ("words_per_explanation", "Avg. # of words/explanation"),
)


def table1(records: pa.Table) -> dict[str, float | int]:
    """Words are the white-space separated tokens of the stored sentence (PETER's are pre-tokenized)."""
    n = records.num_rows
    users = len(pc.unique(records.column("user_id")))
    items = len(pc.unique(records.column("item_id")))
    if n:
        words = pc.list_value_length(pc.utf8_split_whitespace(records.column("explanation")))
        avg_words = float(pc.mean(words).as_py())
    else:
        avg_words = 0.0
    return {
        "users": users,
        "items": items,
        "reviews": n,
        "reviews_per_user": round(n / users, 2) if users else 0.0,
        "reviews_per_item": round(n / items, 2) if items else 0.0,
        "words_per_explanation": round(avg_words, 2),
    }
