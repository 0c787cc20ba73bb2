"""Line readers for raw review files: plain or gzip (detected by its magic bytes), strict UTF-8.

Every failure is a DataError naming the file and line: a missing path, an unreadable or truncated
gzip stream, bytes that are not UTF-8. Bad lines can be skipped (`skip_bad`) and are counted.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from explainbench.data.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class BadLines:
    """Lines skipped under --skip-bad, by reason, with the first few places for the manifest."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, reason: str, where: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {"total": self.total, "by_reason": dict(self.counts), "examples": list(self.examples)}


class BadLine(Exception):
    """A line that is not a review record (turned into a DataError or skipped by the caller)."""

    def __init__(self, reason: str, fix: str = "fix the line or pass --skip-bad to skip such lines") -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_path(path: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(
            f"{path}: no such file or folder; check the path (raw review files may be .json or .json.gz)"
        )
    return path


def _open(path: Path):
    path = check_path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; pass the review file itself")
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _read_error(path: Path, exc: BaseException, lineno: int) -> DataError:
    if isinstance(exc, EOFError):
        return DataError(
            f"{path}: the gzip stream ends early after line {lineno} (truncated download?); "
            "download the file again"
        )
    if isinstance(exc, PermissionError):
        return DataError(f"{path}: permission denied; make the file readable")
    return DataError(f"{path}: unreadable gzip data after line {lineno} ({exc}); download the file again")


_READ_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, PermissionError)


def iter_raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes without the newline) for each non-blank line of a plain or gzip file."""
    lineno = 0
    try:
        with _open(path) as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.rstrip(b"\r\n")
                if line.strip():
                    yield lineno, line
    except _READ_ERRORS as exc:
        raise _read_error(Path(path), exc, lineno) from None


READ_BYTES = 1 << 16  # one read of the file: what a truncated gzip loses at most besides its last line


def iter_raw_blocks(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, a block of whole lines) of about `size` bytes at a time, for workers
    that split the lines themselves (`split_lines`): the reading process only counts line breaks. A
    truncated gzip stream gives the whole lines read before it, then the DataError."""
    lineno = 1  # the number of the block's first line
    parts: list[bytes] = []
    held = 0
    try:
        with _open(path) as fh:
            while data := fh.read1(READ_BYTES):
                parts.append(data)
                held += len(data)
                if held >= size:
                    block = b"".join(parts)
                    cut = block.rfind(b"\n") + 1
                    if cut:
                        yield lineno, block[:cut]
                        lineno += block.count(b"\n", 0, cut)
                    parts, held = [block[cut:]], len(block) - cut
    except _READ_ERRORS as exc:
        block = b"".join(parts)
        cut = block.rfind(b"\n") + 1
        if cut:
            yield lineno, block[:cut]
            lineno += block.count(b"\n", 0, cut)
        raise _read_error(Path(path), exc, lineno - 1) from None
    block = b"".join(parts)
    if block:
        yield lineno, block


def split_lines(first: int, block: bytes) -> Iterator[tuple[int, bytes]]:
    """iter_raw_lines over a block from iter_raw_blocks: (line number, bytes) of its non-blank lines."""
    for lineno, line in enumerate(block.split(b"\n"), first):
        line = line.rstrip(b"\r")
        if line.strip():
            yield lineno, line


def decode_line(raw: bytes) -> str:
    """Strict UTF-8; BadLine naming the byte position otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(
            f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not UTF-8",
            "re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) or pass --skip-bad",
        ) from None
