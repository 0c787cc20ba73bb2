"""Importer of the published PETER layout: reviews.pickle + <k>/{train,validation,test}.index.

Records: `user`, `item`, `rating`, `template = (feature, adjective, sentence, sentiment)`; a
`predicted` key (NETE's PMI feature) is ignored. The published splits are kept exactly: split k's
train/validation/test are the listed positions in the listed order (REFERENCE-NOTES section 1).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa

from explainbench.data.errors import DataError
from explainbench.data.fingerprint import file_sha256
from explainbench.data.schema import N_SPLITS, SPLIT_NAMES, records_table, sentiment_from_rating
from explainbench.data.sources.safe_pickle import load_plain_pickle
from explainbench.data.splits import Split, check_split
from explainbench.data.store import PrepareOptions, write_dataset


def _text(value: object, path: Path, k: int, what: str) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(
                f"{path}: record {k}: the {what} is not UTF-8 text; re-create the file as UTF-8"
            ) from None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(
            f"{path}: record {k}: the {what} is a {type(value).__name__}, not text; fix the record"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(
            f"{path}: record {k}: the {what} holds bytes that are not UTF-8; re-create the file as UTF-8"
        ) from None
    return value


def records_from_pickle(data: object, path: Path) -> pa.Table:
    """Canonical record table from the unpickled list; DataError naming the first bad record."""
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of review dicts, found a {type(data).__name__}")
    cols: dict[str, list] = {
        c: [] for c in ("user_id", "item_id", "rating", "explanation", "feature", "adjective", "sentiment")
    }
    for k, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise DataError(f"{path}: record {k} is a {type(rec).__name__}, not a dict; fix or remove it")
        missing = [key for key in ("user", "item", "rating", "template") if key not in rec]
        if missing:
            raise DataError(
                f"{path}: record {k} lacks {missing}; each record needs user, item, rating and "
                "template=(feature, adjective, sentence, sentiment)"
            )
        template = rec["template"]
        if not isinstance(template, (tuple, list)) or len(template) < 4:
            raise DataError(
                f"{path}: record {k}: template must be (feature, adjective, sentence, sentiment); "
                "fix the record"
            )
        rating = rec["rating"]
        if isinstance(rating, bool) or not isinstance(rating, (int, float)) or rating != rating:
            raise DataError(f"{path}: record {k}: rating {rating!r} is not a number; fix the record")
        sentence = _text(template[2], path, k, "sentence")
        if not sentence.strip():
            raise DataError(
                f"{path}: record {k} (user {rec['user']!r}, item {rec['item']!r}) has an empty explanation; "
                "remove it from the pickle and the index files"
            )
        s = template[3]
        sentiment = (
            (1 if s > 0 else -1 if s < 0 else sentiment_from_rating(rating))
            if isinstance(s, (int, float))
            else sentiment_from_rating(rating)
        )
        cols["user_id"].append(_text(rec["user"], path, k, "user"))
        cols["item_id"].append(_text(rec["item"], path, k, "item"))
        cols["rating"].append(float(rating))
        cols["explanation"].append(sentence)
        cols["feature"].append(_text(template[0], path, k, "feature"))
        cols["adjective"].append(_text(template[1], path, k, "adjective"))
        cols["sentiment"].append(sentiment)
    if not cols["user_id"]:
        raise DataError(f"{path}: holds no records")
    check_unique_pairs(cols["user_id"], cols["item_id"], lambda k: f"{path}: record {k}")
    return records_table(cols)


def check_unique_pairs(users: list[str], items: list[str], where) -> None:
    """Refuse a (user, item) pair that occurs twice; where(k) names record k."""
    seen: dict[tuple[str, str], int] = {}
    for k, pair in enumerate(zip(users, items, strict=True)):
        first = seen.setdefault(pair, k)
        if first != k:
            raise DataError(
                f"{where(k)}: user {pair[0]!r} reviews item {pair[1]!r} again (first at record {first}); "
                "each (user, item) pair may occur once: remove the duplicate"
            )


def read_index(path: Path) -> np.ndarray:
    """One line of space-separated 0-based positions; DataError naming the file and bad token."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError(
            f"{path}: index file not found; each split folder needs train.index, validation.index, test.index"
        ) from None
    except UnicodeDecodeError:
        raise DataError(
            f"{path}: not UTF-8 text; an index file is one line of space-separated numbers"
        ) from None
    tokens = text.split()
    try:
        return np.array([int(t) for t in tokens], dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("-").isdigit())
        raise DataError(
            f"{path}: {bad[:30]!r} is not a record position; an index file is space-separated integers"
        ) from None


def read_published_splits(folder: Path, n_records: int) -> list[Split]:
    """Splits 1..k (k <= 5) found under folder, each checked against n_records."""
    splits: list[Split] = []
    for k in range(1, N_SPLITS + 1):
        d = folder / str(k)
        if not d.is_dir():
            break
        parts = {p: read_index(d / f"{p}.index") for p in SPLIT_NAMES}
        split = Split(parts["train"], parts["validation"], parts["test"])
        check_split(split, n_records, str(d))
        splits.append(split)
    if not splits:
        raise DataError(
            f"{folder}: no split folders 1/ .. 5/ with train.index, validation.index and test.index found"
        )
    return splits


def import_peter(
    path: Path,
    name: str,
    *,
    options: PrepareOptions | None = None,
    home: Path | None = None,
    force: bool = False,
) -> Path:
    """Import a PETER-format folder (or its reviews.pickle) as dataset `name`, keeping its splits."""
    path = Path(path)
    if not path.exists():
        raise DataError(
            f"{path}: no such file or folder; pass the folder holding reviews.pickle and 1/ .. 5/"
        )
    folder = path.parent if path.is_file() else path
    pickle_path = path if path.is_file() else folder / "reviews.pickle"
    records = records_from_pickle(load_plain_pickle(pickle_path), pickle_path)
    splits = read_published_splits(folder, records.num_rows)
    files = [pickle_path] + [
        folder / str(k) / f"{p}.index" for k in range(1, len(splits) + 1) for p in SPLIT_NAMES
    ]
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(folder).as_posix()}:{file_sha256(f)};".encode())
    source = {"kind": "peter", "path": str(folder.resolve()), "sha256": h.hexdigest(), "files": len(files)}
    return write_dataset(
        name,
        records,
        source=source,
        options=options or PrepareOptions(),
        home=home,
        force=force,
        published_splits=splits,
    )
