"""Importers of raw review dumps: Amazon 5-core, Yelp Open Dataset, TripAdvisor.

Each review becomes one record by the light extractor (explainbench.data.extractor): its best
feature-opinion sentence, the feature, the opinion word and a sentiment. Reviews without such a
sentence are left out (counted in the manifest). Formats read:
- amazon: one review a line, 2014 Python-dict literals, 2018 strict JSON (extra fields such as style,
  vote, image, verified are ignored) or the 2023 schema, .gz or not; fields reviewerID, asin, overall,
  reviewText (2014/2018) or user_id, parent_asin (else asin), rating, text (2023: the parent product
  groups its variants, as the 2023 release recommends; the title is not read).
- yelp: review.json, JSON lines; fields user_id, business_id, stars, text.
- tripadvisor: JSON lines with author.id (or author.username, user_id), offering_id (or hotel_id,
  item_id), ratings.overall (or rating), text; or per-hotel JSON documents
  {"HotelInfo": {"HotelID"}, "Reviews": [{"Author", "Ratings": {"Overall"}, "Content"}]}, one file
  or a folder of them.

Duplicates (the 2018 5-core files repeat reviews: the same review many times, and one user's text under
several items, product variants sharing reviews), by default (`duplicates="drop"`), in file order:
- an exact repeat of (user, item, text) is dropped;
- a (user, item) pair seen again with another text keeps its first review;
- a text a user has already posted under another item is dropped: kept once per user, under the first
  item. Kept once per item instead, the same sentence would be a training record and a test record
  of the same user (its variants land in different splits), which rewards copying, not explaining.
Each count goes into the manifest (`source.duplicates`) and the import summary. `duplicates="error"`
(CLI `--duplicates error`) keeps the strict behaviour: a repeated (user, item) pair is an error.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import marshal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from explainbench.data.errors import DataError
from explainbench.data.extractor import OpinionExtractor
from explainbench.data.fingerprint import source_sha256
from explainbench.data.keyset import KeySet, repeats_within
from explainbench.data.parallel import WorkerPool, default_workers, no_cycle_collection
from explainbench.data.schema import records_table
from explainbench.data.sources.readers import (
    BadLine,
    BadLines,
    check_path,
    decode_line,
    iter_raw_blocks,
    iter_raw_lines,
    split_lines,
)
from explainbench.data.store import PrepareOptions, write_dataset


@dataclass(frozen=True)
class RawReview:
    user: str
    item: str
    rating: float
    text: str
    where: str  # file:line (or file:review k) for messages


def _field(obj: dict, *keys: str, source: str):
    """The first of keys present in obj (dotted keys walk into dicts); BadLine if none."""
    for key in keys:
        cur: object = obj
        for part in key.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is not None:
            return cur
    raise BadLine(f"no {' / '.join(repr(k) for k in keys)} field in this {source} review")


# Amazon's overall, Yelp's stars and TripAdvisor's overall rating are all 1-5 stars: a value outside is a
# corrupted or foreign line, not a review (it would also stretch the dataset's rating range, which RMSE,
# MAE and the rating models' clamping use).
STAR_SCALE = (1.0, 5.0)


def _rating(value: object) -> float:
    if isinstance(value, bool):
        raise BadLine(f"rating {value!r} is not a number")
    try:
        r = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadLine(f"rating {value!r} is not a number") from None
    if r != r:
        raise BadLine("rating is NaN")
    lo, hi = STAR_SCALE
    if not lo <= r <= hi:
        raise BadLine(f"rating {value!r} is outside the {lo:g}-{hi:g} star scale of Amazon, Yelp and "
                      "TripAdvisor reviews")
    return r


def _ident(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise BadLine(f"id {value!r} is not a non-empty string or number")
    return str(value)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _parse_object(line: str, literal_ok: bool) -> dict:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        if not literal_ok:
            raise BadLine(f"not a JSON object ({exc.msg} at column {exc.colno})") from None
        try:
            obj = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise BadLine("neither a JSON object nor a Python dict literal") from None
    if not isinstance(obj, dict):
        raise BadLine(f"a {type(obj).__name__}, not a review object")
    return obj


def amazon_review(obj: dict) -> tuple[str, str, float, str]:
    """2014 and 2018 (reviewerID, asin, overall, reviewText) or 2023 (user_id, parent_asin, rating, text)."""
    return (
        _ident(_field(obj, "reviewerID", "user_id", source="Amazon")),
        _ident(_field(obj, "parent_asin", "asin", source="Amazon")),
        _rating(_field(obj, "overall", "rating", source="Amazon")),
        _text(obj.get("reviewText", obj.get("text"))),
    )


def yelp_review(obj: dict) -> tuple[str, str, float, str]:
    return (
        _ident(_field(obj, "user_id", source="Yelp")),
        _ident(_field(obj, "business_id", source="Yelp")),
        _rating(_field(obj, "stars", source="Yelp")),
        _text(obj.get("text")),
    )


def tripadvisor_review(obj: dict, hotel: object = None) -> tuple[str, str, float, str]:
    author = obj.get("author")
    user = (
        _field(obj, "author.id", "author.username", "user_id", "user", source="TripAdvisor")
        if isinstance(author, dict) or "Author" not in obj
        else obj["Author"]
    )
    item = (
        hotel
        if hotel is not None
        else _field(obj, "offering_id", "hotel_id", "item_id", "item", source="TripAdvisor")
    )
    rating = _field(obj, "ratings.overall", "Ratings.Overall", "rating", "overall", source="TripAdvisor")
    text = obj.get("text", obj.get("Content", ""))
    return _ident(user), _ident(item), _rating(rating), _text(text)


LINE_PARSERS: dict[str, tuple[Callable[[dict], tuple[str, str, float, str]], bool]] = {
    # source: (parser, accepts Python dict literals)
    "amazon": (amazon_review, True),
    "yelp": (yelp_review, False),
    "tripadvisor": (tripadvisor_review, False),
}
RAW_SOURCES: tuple[str, ...] = tuple(LINE_PARSERS)


def _fail_or_skip(exc: BadLine, where: str, skip_bad: bool, bad: BadLines) -> None:
    if not skip_bad:
        raise DataError(f"{where}: {exc.reason}; {exc.fix}")
    bad.add(exc.reason, where)


def _iter_lines(kind: str, path: Path, skip_bad: bool, bad: BadLines) -> Iterator[RawReview]:
    parser, literal_ok = LINE_PARSERS[kind]
    for lineno, raw in iter_raw_lines(path):
        where = f"{path}:{lineno}"
        try:
            user, item, rating, text = parser(_parse_object(decode_line(raw), literal_ok))
        except BadLine as exc:
            _fail_or_skip(exc, where, skip_bad, bad)
            continue
        yield RawReview(user, item, rating, text, where)


def _iter_tripadvisor_documents(path: Path, skip_bad: bool, bad: BadLines) -> Iterator[RawReview]:
    """Per-hotel JSON documents (a file or every *.json file of a folder)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no *.json files in this folder; pass a TripAdvisor JSON file or folder")
    for f in files:
        try:
            doc = json.loads(f.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataError(f"{f}: byte {exc.start} is not UTF-8; re-encode the file as UTF-8") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{f}:{exc.lineno}: not JSON ({exc.msg}); fix the file") from None
        reviews = doc.get("Reviews") if isinstance(doc, dict) else doc
        hotel = _field(doc, "HotelInfo.HotelID", source="TripAdvisor") if isinstance(doc, dict) else None
        if not isinstance(reviews, list):
            raise DataError(f"{f}: expected a 'Reviews' list (or a list of reviews); fix the file")
        for k, obj in enumerate(reviews):
            where = f"{f}: review {k}"
            try:
                if not isinstance(obj, dict):
                    raise BadLine(f"a {type(obj).__name__}, not a review object")
                user, item, rating, text = tripadvisor_review(obj, hotel)
            except BadLine as exc:
                _fail_or_skip(exc, where, skip_bad, bad)
                continue
            yield RawReview(user, item, rating, text, where)


def _is_json_document(path: Path) -> bool:
    """True when path is a folder, or a file whose first line is not a whole JSON value."""
    if path.is_dir():
        return True
    for _, raw in iter_raw_lines(path):
        try:
            json.loads(raw)
            return False
        except (json.JSONDecodeError, UnicodeDecodeError):
            return True
    return False


def iter_reviews(
    kind: str, path: Path, *, skip_bad: bool = False, bad: BadLines | None = None
) -> Iterator[RawReview]:
    """Every review of a raw dump, with DataError (or a skip, counted in bad) for each bad line."""
    if kind not in LINE_PARSERS:
        raise DataError(f"unknown raw source {kind!r}; choose one of {', '.join(RAW_SOURCES)}")
    path = check_path(path)
    bad = bad if bad is not None else BadLines()
    if kind == "tripadvisor" and _is_json_document(path):
        yield from _iter_tripadvisor_documents(path, skip_bad, bad)
    else:
        yield from _iter_lines(kind, path, skip_bad, bad)


DUPLICATE_POLICIES = ("drop", "error")
RAW_COLUMNS = ("user_id", "item_id", "rating", "explanation", "feature", "adjective", "sentiment")


@dataclass
class Duplicates:
    """The duplicate rule of the module docstring, applied to reviews in file order, and its counts."""

    policy: str = "drop"
    exact_repeats: int = 0
    pair_repeats: int = 0
    cross_item_repeats: int = 0

    def __post_init__(self) -> None:
        if self.policy not in DUPLICATE_POLICIES:
            raise DataError(f"--duplicates {self.policy!r}: use one of {', '.join(DUPLICATE_POLICIES)}")
        # 64-bit hashes of (user, item, text), (user, item) and (user, text), 8 bytes each (KeySet),
        # not the strings (a chance collision in 7 million reviews is about 1 in 10^6)
        self._texts = KeySet()
        self._pairs = KeySet()
        self._user_texts = KeySet()

    def keep(self, reviews: Sequence[tuple[str, str, int | None]]) -> np.ndarray:
        """Which of a chunk of reviews (user, item, text_key), in file order, are kept (policy "drop");
        records them. text_key: `text_key(text)`, None for an empty text. Under "error" every review is
        kept here and repeated pairs are refused after extraction.

        The same as asking review by review: a review is an exact repeat if its (user, item, text) was
        seen before (in an earlier chunk or earlier in this one); else a pair repeat if its (user, item)
        was seen in a review that was no exact repeat; else a cross-item repeat if it has text and its
        (user, text) was seen in a review kept so far."""
        n = len(reviews)
        if self.policy == "error":
            return np.ones(n, dtype=bool)
        triple = np.fromiter((hash(r) for r in reviews), dtype=np.int64, count=n)
        pair = np.fromiter((hash((u, i)) for u, i, _ in reviews), dtype=np.int64, count=n)
        user_text = np.fromiter((hash((u, t)) for u, _, t in reviews), dtype=np.int64, count=n)
        has_text = np.fromiter((t is not None for _, _, t in reviews), dtype=bool, count=n)

        exact = self._texts.contains(triple) | repeats_within(triple, np.ones(n, dtype=bool))
        self._texts.add(triple[~exact])
        rest = ~exact
        again = rest & (self._pairs.contains(pair) | repeats_within(pair, rest))
        self._pairs.add(pair[rest & ~again])  # the pair's first review decides it, kept or not
        rest &= ~again
        with_text = rest & has_text
        cross = with_text & (self._user_texts.contains(user_text) | repeats_within(user_text, with_text))
        self._user_texts.add(user_text[with_text & ~cross])
        self.exact_repeats += int(exact.sum())
        self.pair_repeats += int(again.sum())
        self.cross_item_repeats += int(cross.sum())
        return rest & ~cross

    def to_dict(self) -> dict[str, int | str]:
        return {
            "policy": self.policy,
            "exact_repeats": self.exact_repeats,
            "pair_repeats": self.pair_repeats,
            "cross_item_repeats": self.cross_item_repeats,
            "dropped": self.exact_repeats + self.pair_repeats + self.cross_item_repeats,
        }


def text_key(text: str) -> int | None:
    """A stable 64-bit key of a review's text with white space normalised (None for an empty text): the
    same in every process, so worker processes can compute it."""
    norm = " ".join(text.split())
    if not norm:
        return None
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest(), "little")


CHUNK_LINES = 2000  # reviews per task of a worker process (TripAdvisor documents)
CHUNK_BYTES = 1 << 20  # bytes of whole lines per task of a worker process (line formats)


@no_cycle_collection()
def _scan_task(task: tuple[str | None, int, object, str]) -> list[tuple]:
    """Pass 1 for a chunk of reviews (in a worker process, or in this one): parse and scan each review
    once; the candidate sentences go to the chunk's spill file, the rest back to the caller.

    task: (kind, max_words, items, spill path): items are (number of the first line, a block of whole
    lines) of a line format `kind`, or a list of (where, user, item, rating, text) already parsed (kind
    None). Returns per review (where, user, item, text key, feature candidates), or (where, None,
    reason, fix) for a bad line; the spill holds (user, item, rating, candidate sentences) per good
    review, in order."""
    kind, max_words, items, spill = task
    extractor = _extractor(max_words)
    light: list[tuple] = []
    heavy: list[tuple] = []
    if kind is None:
        for where, user, item, rating, text in items:  # type: ignore[attr-defined]
            found, candidates = extractor.scan(text)
            light.append((where, user, item, text_key(text), found))
            heavy.append((user, item, rating, candidates))
    else:
        parser, literal_ok = LINE_PARSERS[kind]
        for where, raw in split_lines(*items):  # type: ignore[misc]
            try:
                user, item, rating, text = parser(_parse_object(decode_line(raw), literal_ok))
            except BadLine as exc:
                light.append((where, None, exc.reason, exc.fix))
                continue
            found, candidates = extractor.scan(text)
            light.append((where, user, item, text_key(text), found))
            heavy.append((user, item, rating, candidates))
    Path(spill).write_bytes(marshal.dumps(heavy))  # plain tuples of str, int and float; our own file
    return light


@no_cycle_collection()
def _choose_task(task: tuple[str, bytes, dict[str, int], int]) -> tuple[pa.Table | None, int, list[int]]:
    """Pass 2 for a chunk: each kept review's sentence from its spilled candidates, with the learned
    feature vocabulary. task: (spill path, keep flag per good review, features, max_words). Returns the
    chunk's records (None if none), how many kept reviews have no sentence, and for each record the
    number of its review among the chunk's kept ones."""
    spill, keep, features, max_words = task
    extractor = OpinionExtractor.with_features(features, max_words=max_words)
    cols: dict[str, list] = {c: [] for c in RAW_COLUMNS}
    no_sentence = 0
    rows: list[int] = []
    k = -1
    spilled = marshal.loads(Path(spill).read_bytes())
    for kept, (user, item, rating, candidates) in zip(keep, spilled, strict=True):
        if not kept:
            continue
        k += 1
        found = extractor.choose(candidates)
        if found is None:
            no_sentence += 1
            continue
        rows.append(k)
        cols["user_id"].append(user)
        cols["item_id"].append(item)
        cols["rating"].append(rating)
        cols["explanation"].append(found.sentence)
        cols["feature"].append(found.feature)
        cols["adjective"].append(found.adjective)
        cols["sentiment"].append(found.sentiment)
    return (records_table(cols) if cols["user_id"] else None), no_sentence, rows


@functools.lru_cache(maxsize=4)
def _extractor(max_words: int) -> OpinionExtractor:
    """A scanning extractor per process (scan needs the lexicon and max_words, not the counts)."""
    return OpinionExtractor(max_words=max_words)


def _tasks(
    kind: str, path: Path, max_words: int, skip_bad: bool, bad: BadLines, spill: Path
) -> Iterator[tuple]:
    """The file's reviews as _scan_task's tasks, in file order: blocks of about CHUNK_BYTES of whole
    lines (TripAdvisor documents: CHUNK_LINES parsed reviews). A reader's error (a truncated gzip)
    comes after the block of the lines read before it."""
    if not (kind == "tripadvisor" and _is_json_document(path)):
        for n, block in enumerate(iter_raw_blocks(path, CHUNK_BYTES)):  # a reader's error after its lines
            yield (kind, max_words, block, str(spill / f"{n}.bin"))
        return
    reviews = _iter_tripadvisor_documents(path, skip_bad, bad)
    items = ((r.where, r.user, r.item, r.rating, r.text) for r in reviews)
    chunk: list = []
    n = 0
    for entry in items:
        chunk.append(entry)
        if len(chunk) == CHUNK_LINES:
            yield (None, max_words, chunk, str(spill / f"{n}.bin"))
            chunk, n = [], n + 1
    if chunk:
        yield (None, max_words, chunk, str(spill / f"{n}.bin"))


def _refuse_repeated_pairs(
    table: pa.Table, places: list, seen: dict[tuple[str, str], object], where: Callable, skip_bad: bool
) -> tuple[pa.Table, int]:
    """--duplicates error: a (user, item) pair seen before stops the import naming both places, or
    (skip_bad) is dropped and counted. places: where the table's reviews are, row by row."""
    users, items = table.column("user_id").to_pylist(), table.column("item_id").to_pylist()
    mask, dropped = [], 0
    for user, item, place in zip(users, items, places, strict=True):
        pair = (user, item)
        if pair in seen:
            if not skip_bad:
                raise DataError(
                    f"{where(place)}: user {user!r} reviews item {item!r} again "
                    f"(first at {where(seen[pair])}); "
                    "each (user, item) pair may occur once under --duplicates error: remove the "
                    "duplicate, pass --skip-bad to keep the first, or drop repeats (--duplicates drop, "
                    "the default)"
                )
            dropped += 1
            mask.append(False)
            continue
        seen[pair] = place
        mask.append(True)
    return (table if all(mask) else table.filter(pa.array(mask))), dropped


def import_raw(
    kind: str,
    path: Path,
    name: str,
    *,
    options: PrepareOptions | None = None,
    skip_bad: bool = False,
    duplicates: str = "drop",
    home: Path | None = None,
    force: bool = False,
    min_feature_count: int = 3,
    max_features: int = 2000,
    workers: int | None = None,
) -> Path:
    """Extract one sentence per review, filter, split and store as dataset `name`.

    duplicates: "drop" (the default; the module docstring's rule) or "error" (a repeated (user, item)
    pair stops the import, unless skip_bad, which keeps the first).
    workers: processes that parse, scan and choose (None: `default_workers`; 1: this process). The
    dataset does not depend on it.

    Pass 1 streams the file in chunks: the workers parse and tokenise each review once and spill its
    candidate sentences to a temporary file per chunk; here, in file order, bad lines are reported,
    the duplicate rule is applied and the kept reviews' feature candidates are counted. Pass 2 has the
    workers choose each kept review's sentence with the learned feature vocabulary. Memory holds a few
    chunks of reviews, the duplicate keys and the records."""
    if kind not in LINE_PARSERS:
        raise DataError(f"unknown raw source {kind!r}; choose one of {', '.join(RAW_SOURCES)}")
    path = check_path(path)
    dup = Duplicates(duplicates)
    bad = BadLines()
    extractor = OpinionExtractor(min_count=min_feature_count, max_features=max_features)
    workers = default_workers(path) if workers is None else max(1, workers)

    def where(w: int | str) -> str:
        return w if isinstance(w, str) else f"{path}:{w}"

    n_reviews = 0
    keeps: list[tuple[str, bytes, list]] = []  # per chunk: spill file, keep flags, places of the kept
    with WorkerPool(workers) as pool, tempfile.TemporaryDirectory(prefix="explainbench-import-") as spill:
        tasks = _tasks(kind, path, extractor.max_words, skip_bad, bad, Path(spill))
        for n, light in enumerate(pool.map(_scan_task, tasks)):  # pass 1
            good = []
            for r in light:
                if r[1] is None:
                    _fail_or_skip(BadLine(r[2], r[3]), where(r[0]), skip_bad, bad)
                    continue
                good.append(r)
            flags = dup.keep([(r[1], r[2], r[3]) for r in good])
            found: list[str] = []
            for r, kept in zip(good, flags.tolist(), strict=True):
                if kept:  # a repeated review does not count twice for the features
                    found += r[4]
            # messages about repeated pairs (--duplicates error, which keeps every review) name places
            places: list = [r[0] for r in good] if dup.policy == "error" else []
            n_reviews += len(good)
            extractor.count(found)  # each review's candidates are distinct: counts are review counts
            keeps.append((str(Path(spill) / f"{n}.bin"), flags.tobytes(), places))
        if n_reviews == 0:
            raise DataError(f"{path}: holds no reviews; check that this is a {kind} review file")
        features = extractor.features
        chosen = pool.map(_choose_task, ((f, k, features, extractor.max_words) for f, k, _ in keeps))
        tables: list[pa.Table] = []
        seen: dict[tuple[str, str], object] = {}
        no_sentence = 0
        duplicates = 0
        for (table, missing, rows), (_, _, places) in zip(chosen, keeps, strict=True):  # pass 2
            no_sentence += missing
            if table is None:
                continue
            if dup.policy == "error":  # repeated pairs are refused (or, with skip_bad, dropped) here
                table, dropped = _refuse_repeated_pairs(table, [places[k] for k in rows], seen, where,
                                                        skip_bad)
                duplicates += dropped
            tables.append(table)
    if not tables:
        raise DataError(
            f"{path}: none of the {n_reviews} reviews has a feature-opinion sentence; nothing to import"
        )
    source = {
        "kind": kind,
        "path": str(path.resolve()),
        "sha256": source_sha256(path),
        "reviews_read": n_reviews,
        "skipped_lines": bad.to_dict(),
        "duplicates_skipped": duplicates + dup.exact_repeats + dup.pair_repeats + dup.cross_item_repeats,
        "duplicates": dup.to_dict(),
        "reviews_without_sentence": no_sentence,
    }
    del dup, keeps  # the duplicate keys (8 bytes a review each) are not needed to write
    extra = {
        "extractor": {
            "name": "explainbench.data.extractor (VADER lexicon + patterns)",
            "min_feature_count": min_feature_count,
            "max_features": max_features,
            "max_words": extractor.max_words,
            "features_learned": len(extractor.features),
        }
    }
    return write_dataset(
        name,
        pa.concat_tables(tables),
        source=source,
        options=options or PrepareOptions(),
        home=home,
        force=force,
        extra=extra,
    )
