"""A grid of runs executed by local worker processes: the same RunSpecs `explainbench run` uses, N at a time.

The driver first prepares every dataset the grid names and works out each run's identity (so a run that
already finished is skipped before anything starts), then hands the remaining runs to a
`multiprocessing` pool of spawned processes (`jobs` at a time, a fresh process per run). Each worker calls
`run_experiment` with the torch threads its spec gives and writes its run folder in the home as
`explainbench run` does (atomic writes, a lock per run folder), with its log lines in `grid.log` there.
A run that raises is reported and tried again up to `retries` times; the others go on. An interrupted
grid (Ctrl-C) cancels the queued runs and stops the workers; running it again skips the finished runs
and resumes the interrupted ones from their checkpoints (`RunSpec.resume`).

The run stays the unit: a grid's results are byte-for-byte those of the same runs made one by one.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from explainbench.runner.run import RunSpec

STATES = ("queued", "running", "done", "skipped", "failed")
LOG_FILE = "grid.log"
POLL_S = 0.2


@dataclass
class GridRun:
    """One run of a grid: its spec, or why it could not be specified (a bad config: reported as failed)."""

    label: str
    spec: RunSpec | None
    error: str | None = None


@dataclass
class GridResult:
    """What became of one run of the grid."""

    label: str
    state: str  # done | skipped | failed
    run_id: str | None = None
    run_dir: Path | None = None
    attempts: int = 0
    error: str | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class GridReport:
    results: list[GridResult]

    @property
    def failed(self) -> list[GridResult]:
        return [r for r in self.results if r.state == "failed"]

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.results)


Event = Callable[[str, GridResult], None]  # (state, result so far): queued/running/done/skipped/failed/retry


def default_jobs(threads_per_run: int) -> int:
    """As many runs at once as the machine's cores hold at threads_per_run each (at least one)."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_run))


def _headline(results: dict) -> dict[str, float]:
    metrics = results.get("metrics") or {}
    out = {}
    for name in ("bleu1", "rougeL_f", "usr", "fmr"):
        value = (metrics.get(name) or {}).get("value")
        if value is not None:
            out[name] = float(value)
    return out


def _work(spec: RunSpec) -> dict:
    """Worker: one run end to end; its log lines go to grid.log in its run folder."""
    from explainbench.runner.run import prepare_run, run_experiment

    _, _, rdir, _ = prepare_run(replace(spec))
    rdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(rdir / LOG_FILE, "a", encoding="utf-8") as log:
        def say(message: str) -> None:
            log.write(f"{time.strftime('%H:%M:%S')} {message}\n")
            log.flush()

        try:
            outcome = run_experiment(spec, log=say)
        except BaseException as exc:
            say("".join(traceback.format_exception(exc)).rstrip())
            raise
    return {"run_id": outcome.run_id, "run_dir": str(outcome.run_dir), "status": outcome.status,
            "seconds": time.perf_counter() - started, "metrics": _headline(outcome.results)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_grid(
    runs: Sequence[GridRun],
    *,
    jobs: int = 1,
    retries: int = 0,
    on_event: Event | None = None,
) -> GridReport:
    """Execute a grid's runs with `jobs` local worker processes; finished runs are skipped up front."""
    from explainbench.api.results import read_results
    from explainbench.runner import store
    from explainbench.runner.run import prepare_run

    emit: Event = on_event or (lambda state, result: None)
    results = [GridResult(label=r.label, state="queued") for r in runs]
    todo: list[int] = []
    for k, run in enumerate(runs):
        result = results[k]
        if run.spec is None:
            result.state, result.error = "failed", run.error or "no run specification"
            emit("failed", result)
            continue
        try:  # prepares the dataset once (the first run that names it) and names the run
            _, ident, rdir, _ = prepare_run(run.spec)
        except Exception as exc:  # noqa: BLE001 - a bad spec fails this run only
            result.state, result.error = "failed", _first_line(exc)
            emit("failed", result)
            continue
        result.run_id, result.run_dir = ident.run_id, rdir
        if (rdir / store.RESULTS_FILE).is_file():
            result.state = "skipped"
            result.metrics = _headline(read_results(rdir / store.RESULTS_FILE))
            emit("skipped", result)
        else:
            todo.append(k)
            emit("queued", result)
    if not todo:
        return GridReport(results)

    # spawned, one run per process (no forked torch state or thread pools; each run sets its own threads)
    pool = multiprocessing.get_context("spawn").Pool(processes=max(1, jobs), maxtasksperchild=1)
    running: dict[int, AsyncResult] = {}

    def submit(k: int) -> None:
        results[k].attempts += 1
        results[k].state = "running"
        running[k] = pool.apply_async(_work, (runs[k].spec,))
        emit("running", results[k])

    try:
        for k in todo:
            submit(k)
        while running:
            finished = [k for k, job in running.items() if job.ready()]
            if not finished:
                time.sleep(POLL_S)
                continue
            for k in finished:
                job = running.pop(k)
                result = results[k]
                try:
                    out = job.get()
                except Exception as exc:  # noqa: BLE001 - reported, retried, the others go on
                    result.error = _first_line(exc)
                    if result.attempts <= retries:
                        emit("retry", result)
                        submit(k)
                    else:
                        result.state = "failed"
                        emit("failed", result)
                    continue
                result.state = "done" if out["status"] == "finished" else "skipped"
                result.run_id, result.run_dir = out["run_id"], Path(out["run_dir"])
                result.seconds, result.metrics, result.error = out["seconds"], out["metrics"], None
                emit(result.state, result)
    except BaseException:  # Ctrl-C or a bug in the driver: stop the workers, keep what is finished
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    return GridReport(results)
