"""Ordered parallel map over worker processes, for the importers' per-chunk work.

`WorkerPool(workers).map(fn, tasks)` (or `in_order(fn, tasks, workers)`, with a pool of its own)
yields fn(task) for each task in order, computing them in `workers` processes with at most two tasks
per worker in flight, so that a reader feeding `tasks` stays a bounded distance ahead. An exception
raised by the task iterator itself (a truncated input) is re-raised only after the results of every
task read before it, so that the first error in input order is the one a caller reports. workers <= 1
runs everything in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_BYTES = 4 << 20  # inputs smaller than this are worked on in this process
MAX_WORKERS = 8


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused for a block that makes many objects and no cycles (a
    chunk's tuples of strings): its runs over the young objects cost the importer's scan 10-15%.
    Reference counting still frees everything; the collector's state is restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_workers(path: Path) -> int:
    """Worker processes for an input: every CPU this process may use (at most MAX_WORKERS) for
    inputs of PARALLEL_MIN_BYTES or more (a file, or the *.json files of a folder), else 1."""
    size = sum(f.stat().st_size for f in path.glob("*.json")) if path.is_dir() else path.stat().st_size
    return 1 if size < PARALLEL_MIN_BYTES else max(1, min(MAX_WORKERS, available_cpus()))


def _context() -> multiprocessing.context.BaseContext:
    # fork where the platform has it: no re-import of the caller's main module (which a script without
    # `if __name__ == "__main__":` does not survive under spawn) and no start-up cost; the workers run
    # pure-Python parsing and text work, none of the libraries whose threads a fork could catch mid-lock
    fork = "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else "spawn")


class WorkerPool:
    """`workers` processes started once (forked while the caller is still small) for several ordered
    maps: a pool forked late, from a process holding hundreds of MB of objects, ran the same tasks
    several times slower (copy-on-write of the parent's pages). workers <= 1: no processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> WorkerPool:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())
            # start them now, before the caller's memory grows (the executor forks on demand)
            for future in [self._pool.submit(os.getpid) for _ in range(self.workers)]:
                future.result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """fn(task) for each task, in order (module docstring)."""
        tasks = iter(tasks)
        if self._pool is None:
            for task in tasks:
                yield fn(task)
            return
        pending: deque = deque()
        failure: BaseException | None = None
        try:
            while True:
                while failure is None and len(pending) < 2 * self.workers:
                    try:
                        task = next(tasks)
                    except StopIteration:
                        break
                    except Exception as exc:  # the reader's error: after the tasks read before it
                        failure = exc
                        break
                    pending.append(self._pool.submit(fn, task))
                if not pending:
                    break
                yield pending.popleft().result()
            if failure is not None:
                raise failure
        finally:
            for future in pending:
                future.cancel()


def in_order(fn: Callable[[T], R], tasks: Iterable[T], workers: int) -> Iterator[R]:
    """fn(task) for each task, in order, in a pool of its own (WorkerPool.map)."""
    with WorkerPool(workers) as pool:
        yield from pool.map(fn, tasks)
