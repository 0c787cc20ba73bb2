"""Fault injection at named points where a run writes, for the reliability suite (tests/reliability/).

EXPLAINBENCH_FAULT="POINT:AT:ACTION[,POINT:AT:ACTION...]" makes the AT-th visit of POINT in this process
(1-based; for "step", the optimiser step number) do ACTION:
  kill    SIGKILL this process (as a crash or `kill -9` would: no cleanup runs)
  raise   raise InjectedFault (a RuntimeError)
  enospc  raise OSError(ENOSPC), as a full disk does
Points (see docs/reliability.md): step (after optimiser step AT of the training loop), checkpoint
(a checkpoint's temporary file is written, not yet renamed), model (the saved model folder is complete,
not yet renamed into place), samples, results, log (train_log.jsonl append) and write (any other atomic
text write) - each between writing the temporary file and renaming it. Unset, fault_point costs one
dictionary lookup; the points are deterministic, so a test interrupts a run where it chooses, not by
a timing race.
"""

from __future__ import annotations

import errno
import os
import signal
from dataclasses import dataclass
from pathlib import Path

ENV = "EXPLAINBENCH_FAULT"
POINTS = ("step", "checkpoint", "model", "samples", "results", "log", "write")
ACTIONS = ("kill", "raise", "enospc")


class InjectedFault(RuntimeError):
    """The failure an EXPLAINBENCH_FAULT "raise" action throws."""


@dataclass(frozen=True)
class Fault:
    point: str
    at: int
    action: str


def parse(spec: str) -> list[Fault]:
    """The faults an EXPLAINBENCH_FAULT value names; ValueError naming the bad part otherwise."""
    out: list[Fault] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        bits = part.split(":")
        if len(bits) != 3 or bits[0] not in POINTS or bits[2] not in ACTIONS or not bits[1].isdigit():
            raise ValueError(
                f"{ENV}={spec!r}: {part!r} is not POINT:AT:ACTION with POINT one of {', '.join(POINTS)}, "
                f"AT a whole number and ACTION one of {', '.join(ACTIONS)}"
            )
        out.append(Fault(bits[0], int(bits[1]), bits[2]))
    return out


_visits: dict[str, int] = {}


def point_for(path: Path | str) -> str:
    """The fault point of an atomic write to path: samples, results, log or write."""
    name = Path(path).name
    if name.startswith("samples.jsonl"):
        return "samples"
    if name == "results.json":
        return "results"
    if name.startswith("train_log.jsonl"):
        return "log"
    return "write"


def fault_point(point: str, *, at: int | None = None, path: Path | str | None = None) -> None:
    """Count a visit of point (or use at, e.g. the step number) and act when EXPLAINBENCH_FAULT says so."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    count = _visits.get(point, 0) + 1
    _visits[point] = count
    visit = count if at is None else at
    for fault in parse(spec):
        if fault.point != point or fault.at != visit:
            continue
        where = f" ({path})" if path is not None else ""
        if fault.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault.action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path) if path is not None else None)
        raise InjectedFault(f"injected fault at {point} {visit}{where}")
