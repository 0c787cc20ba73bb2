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


def _update_column(h: hashlib._Hash, column: pa.ChunkedArray) -> None:
    """_update_array of the combined column, chunk by chunk: the same bytes without a copy of the
    column (strings: every chunk's offsets, rebased to the column's start, then every chunk's data)."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            _update_array(h, column.combine_chunks())
            return
        h.update(f"{column.type}:{len(column)};".encode())
        for chunk in column.chunks:
            h.update(np.ascontiguousarray(chunk.to_numpy(zero_copy_only=False)).tobytes())
        return
    h.update(f"{column.type}:{len(column)};".encode())
    h.update(np.zeros(1, dtype=np.int64).tobytes())
    base = 0
    for chunk in column.chunks:  # offsets after the first (0), each chunk's shifted by the data before
        if len(chunk):
            offsets = _string_offsets(chunk)
            h.update((offsets[1:] - offsets[0] + base).tobytes())
            base += int(offsets[-1] - offsets[0])
    for chunk in column.chunks:
        if len(chunk):
            offsets = _string_offsets(chunk)
            data = chunk.buffers()[2]
            if data is not None and offsets[-1] > offsets[0]:
                h.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


def _string_offsets(chunk: pa.Array) -> np.ndarray:
    dtype = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], dtype=dtype)[chunk.offset : chunk.offset + len(chunk) + 1]
    return offsets.astype(np.int64)


def table_digest(table: pa.Table, columns: Sequence[str] = RECORD_COLUMNS) -> str:
    h = hashlib.sha256()
    for name in columns:
        h.update(name.encode() + b"\0")
        _update_column(h, table.column(name))
    return h.hexdigest()


class ContentFingerprint:
    """sha256 of records + every split's positions (in order) + the tokenizer/bucket settings string,
    fed a split at a time (so the splits need not all be in memory at once)."""

    def __init__(self, records: pa.Table) -> None:
        self._h = hashlib.sha256()
        self._h.update(table_digest(records).encode())
        self._splits = 0

    def add_split(self, parts: dict[str, np.ndarray]) -> None:
        self._splits += 1
        for part, pos in parts.items():
            self._h.update(f"split{self._splits}:{part}:{pos.size};".encode())
            self._h.update(np.ascontiguousarray(pos, dtype=np.int64).tobytes())

    def hexdigest(self, settings: str) -> str:
        self._h.update(settings.encode())
        return self._h.hexdigest()


def content_fingerprint(
    records: pa.Table, split_parts: Sequence[dict[str, np.ndarray]], settings: str
) -> str:
    """ContentFingerprint of records, the splits' parts in order, and settings, in one call."""
    fingerprint = ContentFingerprint(records)
    for parts in split_parts:
        fingerprint.add_split(parts)
    return fingerprint.hexdigest(settings)


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
