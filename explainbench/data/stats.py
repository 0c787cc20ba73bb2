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


WORDS_BLOCK = 500_000  # records whose words are split at once


def table1(records: pa.Table, users: int | None = None, items: int | None = None) -> dict[str, float | int]:
    """Words are the white-space separated tokens of the stored sentence (PETER's are pre-tokenized).
    users, items: the numbers of distinct ids where the caller knows them (counted here otherwise)."""
    n = records.num_rows
    users = len(pc.unique(records.column("user_id"))) if users is None else users
    items = len(pc.unique(records.column("item_id"))) if items is None else items
    total_words = 0
    explanations = records.column("explanation")
    for start in range(0, n, WORDS_BLOCK):  # the split words of a block at a time, not of every record
        split = pc.utf8_split_whitespace(explanations.slice(start, WORDS_BLOCK))
        total_words += pc.sum(pc.list_value_length(split)).as_py() or 0
    avg_words = total_words / n if n else 0.0
    return {
        "users": users,
        "items": items,
        "reviews": n,
        "reviews_per_user": round(n / users, 2) if users else 0.0,
        "reviews_per_item": round(n / items, 2) if items else 0.0,
        "words_per_explanation": round(avg_words, 2),
    }
