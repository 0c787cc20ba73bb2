"""Content fingerprints: sha256 over the records' values and the split positions, independent of how
Parquet happens to lay the bytes out (so two builds of the same content always agree)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from explainbench.data.schema import RECORD_COLUMNS


def _update_array(h: hashlib._Hash, arr: pa.Array) -> None:
    """Feed one (combined, null-free) Arrow array into h: lengths/offsets and values, type-tagged."""
    h.update(f"{arr.type}:{len(arr)};".encode())
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
        data = arr.buffers()[2]
        h.update((offsets - offsets[0]).tobytes())
        if data is not None and offsets[-1] > offsets[0]:
            h.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    elif pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        offsets = arr.offsets.to_numpy().astype(np.int64)
        h.update((offsets - offsets[0]).tobytes())
        _update_array(h, arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0])))
    else:
        h.update(np.ascontiguousarray(arr.to_numpy(zero_copy_only=False)).tobytes())


def table_digest(table: pa.Table, columns: Sequence[str] = RECORD_COLUMNS) -> str:
    h = hashlib.sha256()
    for name in columns:
        h.update(name.encode() + b"\0")
        _update_array(h, table.column(name).combine_chunks())
    return h.hexdigest()


def content_fingerprint(
    records: pa.Table, split_parts: Sequence[dict[str, np.ndarray]], settings: str
) -> str:
    """sha256 of records + every split's positions (in order) + the tokenizer/bucket settings string."""
    h = hashlib.sha256()
    h.update(table_digest(records).encode())
    for k, parts in enumerate(split_parts, 1):
        for part, pos in parts.items():
            h.update(f"split{k}:{part}:{pos.size};".encode())
            h.update(np.ascontiguousarray(pos, dtype=np.int64).tobytes())
    h.update(settings.encode())
    return h.hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def source_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative path + file hash, in sorted order)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path).as_posix()}:{file_sha256(f)};".encode())
    return h.hexdigest()
