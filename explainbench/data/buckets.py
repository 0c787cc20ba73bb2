"""Sparsity buckets: how many training records a test user (or item) has.

The paper's Figure 5 and the per-bucket tables group test examples by these counts. The edges are
part of a dataset's config and recorded in its manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    """Counts lo..hi inclusive; hi=None means open-ended ("15+")."""

    label: str
    lo: int
    hi: int | None = None

    def contains(self, count: int) -> bool:
        return count >= self.lo and (self.hi is None or count <= self.hi)

    def to_dict(self) -> dict:
        return {"label": self.label, "lo": self.lo, "hi": self.hi}

    @classmethod
    def from_dict(cls, d: dict) -> Bucket:
        return cls(str(d["label"]), int(d["lo"]), None if d.get("hi") is None else int(d["hi"]))


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("1", 1, 1),
    Bucket("2", 2, 2),
    Bucket("3", 3, 3),
    Bucket("4", 4, 4),
    Bucket("5-9", 5, 9),
    Bucket("10-14", 10, 14),
    Bucket("15+", 15, None),
)


def bucket_of(count: int, buckets: Sequence[Bucket] = DEFAULT_BUCKETS) -> str | None:
    """Label of the bucket holding count (None for a count no bucket covers, e.g. 0)."""
    for b in buckets:
        if b.contains(count):
            return b.label
    return None


def parse_buckets(spec: str) -> tuple[Bucket, ...]:
    """Parse "1,2,3,4,5-9,10-14,15+" into buckets; raises ValueError naming the bad part."""
    out: list[Bucket] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        try:
            if part.endswith("+"):
                out.append(Bucket(part, int(part[:-1]), None))
            elif "-" in part:
                lo, hi = part.split("-", 1)
                out.append(Bucket(part, int(lo), int(hi)))
            else:
                out.append(Bucket(part, int(part), int(part)))
        except ValueError:
            raise ValueError(
                f"bad bucket edge {part!r} in {spec!r}; use e.g. 1,2,3,4,5-9,10-14,15+"
            ) from None
    return tuple(out)
