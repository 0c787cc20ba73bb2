"""A grid of runs executed by local worker processes: the same RunSpecs `explainbench run` uses, N at a time.

The driver first prepares every dataset the grid names and works out each run's identity (so a run that
already finished is skipped before anything starts), then hands the remaining runs to a
`multiprocessing` pool of spawned processes (`jobs` at a time, a fresh process per run). Each worker calls
`run_experiment` with the torch threads its spec gives and writes its run folder in the home as
`explainbench run` does (atomic writes, a lock per run folder), with its log lines in `grid.log` there.
The driver keeps at most `jobs` runs in flight, so "running" means started; while they run it reads each
one's progress (the last epoch line of its train_log.jsonl: in the run folder for local workers, through a
small Ray actor for Ray tasks) for the live status table of `explainbench grid`.
A run that raises is reported and tried again up to `retries` times; the others go on. An interrupted
grid (Ctrl-C) cancels the queued runs and stops the workers; running it again skips the finished runs
and resumes the interrupted ones from their checkpoints (`RunSpec.resume`).

The run stays the unit: a grid's results are byte-for-byte those of the same runs made one by one.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import tarfile
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from explainbench.runner.run import RunSpec

EXECUTORS = ("local", "ray")
STATES = ("queued", "running", "done", "skipped", "failed")
LOG_FILE = "grid.log"
POLL_S = 0.2
PROGRESS_S = 2.0  # how often the driver reads the running runs' progress


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
    started: float | None = None  # time.time() when its current attempt was handed to a worker
    progress: dict[str, Any] | None = None  # its last epoch record (train_log.jsonl) while it runs
    max_epochs: int | None = None  # the config's epoch limit (early stopping may end sooner)

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left if training runs to max_epochs at the pace so far (an upper bound: early
        stopping usually ends it sooner); None before the first epoch or without an epoch limit."""
        epoch = (self.progress or {}).get("epoch")
        if self.started is None or not epoch or not self.max_epochs:
            return None
        elapsed = (now or time.time()) - self.started
        return elapsed / epoch * max(0, self.max_epochs - epoch)


@dataclass
class GridReport:
    results: list[GridResult]

    @property
    def failed(self) -> list[GridResult]:
        return [r for r in self.results if r.state == "failed"]

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.results)


# (state, result so far): queued / running / progress (a new epoch) / retry / done / skipped / failed
Event = Callable[[str, GridResult], None]


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


def _work(spec: RunSpec, rdir: Path) -> dict:
    """Worker: one run end to end; its log lines go to grid.log in its run folder rdir (named by the
    driver, which has worked out the run's identity already)."""
    from explainbench.runner.run import run_experiment

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


def last_epoch(rdir: Path) -> dict[str, Any] | None:
    """The last epoch record of a run folder's train_log.jsonl (read from its end), or None."""
    path = Path(rdir) / "train_log.jsonl"
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            lines = fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if '"kind": "epoch"' in line:
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class LocalExecutor:
    """Spawned worker processes on this machine, `jobs` at a time, a fresh process per run (no forked torch
    state or thread pools; each run sets its own threads). Runs write their folders in the home."""

    def __init__(self, jobs: int) -> None:
        self.pool = multiprocessing.get_context("spawn").Pool(processes=max(1, jobs), maxtasksperchild=1)

    def submit(self, spec: RunSpec, run_id: str, rdir: Path) -> AsyncResult:
        return self.pool.apply_async(_work, (spec, rdir))

    def ready(self, handle: AsyncResult) -> bool:
        return handle.ready()

    def result(self, handle: AsyncResult, spec: RunSpec) -> dict:
        return handle.get()

    def progress(self, run_id: str, rdir: Path) -> dict[str, Any] | None:
        return last_epoch(rdir)  # the worker writes in the driver's home

    def stop(self) -> None:
        self.pool.terminate()
        self.pool.join()

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


RAY_HINT = "Ray is not installed: pip install 'explainbench[ray]' (or use --executor local)"
SKIP_IN_PACK = ("checkpoint", "arrow")  # resume state, and a dataset's split files (rebuilt on the worker)


def _pack(folder: Path) -> bytes:
    """A folder as tar bytes (without checkpoints, locks and temporary files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if rel.parts[0] in SKIP_IN_PACK or path.name.endswith((".lock", ".tmp")) or not path.is_file():
                continue
            tar.add(path, arcname=str(rel), recursive=False)
    return buffer.getvalue()


def _unpack(data: bytes, target: Path) -> None:
    """Write a packed folder to target atomically: extracted beside it, then renamed into place (a
    leftover folder of an interrupted local attempt is replaced)."""
    from explainbench.api.results import replace_folder

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.incoming."))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            tar.extractall(tmp, filter="data")
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class ProgressBoard:
    """A Ray actor: each task posts its run's last epoch record here; the driver reads them all."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def post(self, run_id: str, record: dict[str, Any]) -> None:
        self.records[run_id] = record

    def read(self) -> dict[str, dict[str, Any]]:
        return self.records


@contextmanager
def _posting(board: Any, run_id: str, rdir: Path) -> Iterator[None]:
    """While the body runs, a thread posts the run's last epoch record (rdir's train_log.jsonl) to the
    driver's ProgressBoard whenever it changes (nothing without a board)."""
    stop = threading.Event()

    def report() -> None:
        posted = None
        while not stop.wait(PROGRESS_S):
            record = last_epoch(rdir)
            if record is not None and record != posted:
                board.post.remote(run_id, record)
                posted = record

    if board is not None:
        threading.Thread(target=report, daemon=True).start()
    try:
        yield
    finally:
        stop.set()


def _ray_work(spec: RunSpec, run_id: str, dataset: bytes, board: Any = None) -> dict:
    """Ray task: the run in a home of its own on the worker (its dataset unpacked from the driver's copy);
    returns the outcome and the run folder as tar bytes, so no filesystem is shared with the driver.
    A thread posts the run's last epoch record to the driver's ProgressBoard while it trains."""
    from explainbench.runner import store

    with tempfile.TemporaryDirectory(prefix="explainbench-grid-") as tmp:
        home = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(dataset), mode="r") as tar:
            tar.extractall(home / "datasets" / spec.data, filter="data")
        rdir = store.run_dir(home, spec.data, spec.split, spec.model, run_id)
        with _posting(board, run_id, rdir):
            out = _work(replace(spec, home=home), rdir)
        out["folder"] = _pack(Path(out["run_dir"]))
    return out


def _ray_work_shared(spec: RunSpec, run_id: str, rdir: Path, board: Any = None) -> dict:
    """Ray task of the shared-filesystem mode: the run in the driver's home, which every node mounts at
    the same path; checkpoints stay there, so an interrupted run resumes on whichever node gets it."""
    with _posting(board, run_id, rdir):
        return _work(spec, rdir)


class RayExecutor:
    """Ray tasks: a local Ray started here (`jobs` x threads CPUs) or the cluster at `address`. Each task
    asks for its run's threads as CPUs (and `gpus` GPUs), gets the dataset from the object store (put
    once per dataset) and returns its run folder, which the driver writes into the home. shared=True:
    every node sees the driver's home at the same path, and tasks work in it directly."""

    def __init__(self, jobs: int | None, threads: int, gpus: float, address: str | None, home: Path,
                 shared: bool = False) -> None:
        try:
            import ray
        except ImportError:
            from explainbench.runner.run import RunError

            raise RunError(RAY_HINT) from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            cpus = (jobs or default_jobs(threads)) * max(1, threads)
            kwargs = {"address": address} if address else {"num_cpus": cpus}
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        self.home = home
        self.shared = shared
        work = _ray_work_shared if shared else _ray_work
        self.task = ray.remote(work).options(num_cpus=max(1, threads), num_gpus=gpus, max_retries=0)
        self.board = ray.remote(ProgressBoard).options(num_cpus=0).remote()
        self.records: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, Any] = {}

    def submit(self, spec: RunSpec, run_id: str, rdir: Path) -> Any:
        if self.shared:
            return self.task.remote(replace(spec, home=self.home), run_id, rdir, self.board)
        if spec.data not in self.datasets:
            self.datasets[spec.data] = self.ray.put(_pack(self.home / "datasets" / spec.data))
        return self.task.remote(spec, run_id, self.datasets[spec.data], self.board)

    def progress(self, run_id: str, rdir: Path) -> dict[str, Any] | None:
        return self.records.get(run_id)

    def capacity(self, threads: int) -> int:
        """Runs the cluster's CPUs hold at `threads` each (the default number in flight)."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)) // max(1, threads))

    def refresh(self) -> None:
        """Fetch every task's last posted epoch record (one call to the board)."""
        self.records = self.ray.get(self.board.read.remote())

    def ready(self, handle: Any) -> bool:
        done, _ = self.ray.wait([handle], timeout=0)
        return bool(done)

    def result(self, handle: Any, spec: RunSpec) -> dict:
        from explainbench.runner import store

        try:
            out = self.ray.get(handle)
        except self.ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            raise cause if isinstance(cause, BaseException) else exc from None
        if self.shared:
            return out  # written in the shared home by the task
        target = store.run_dir(self.home, spec.data, spec.split, spec.model, out["run_id"])
        _unpack(out.pop("folder"), target)
        out["run_dir"] = str(target)
        return out

    def stop(self) -> None:
        self.close()

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def run_grid(
    runs: Sequence[GridRun],
    *,
    jobs: int | None = 1,
    retries: int = 0,
    on_event: Event | None = None,
    executor: str = "local",
    threads: int = 1,
    gpus: float = 0,
    address: str | None = None,
    shared_home: bool = False,
) -> GridReport:
    """Execute a grid's runs; finished runs are skipped up front. `executor`: "local" (worker processes,
    `jobs` at a time) or "ray" (Ray tasks; a local Ray of jobs x threads CPUs, or the cluster at address).
    jobs=None: as many at once as the machine's cores (local) or the Ray cluster's CPUs hold."""
    from explainbench.api.results import read_results
    from explainbench.runner import store
    from explainbench.runner.run import prepare_run

    emit: Event = on_event or (lambda state, result: None)
    results = [GridResult(label=r.label, state="queued") for r in runs]
    todo: list[int] = []
    home: Path | None = None
    for k, run in enumerate(runs):
        result = results[k]
        if run.spec is None:
            result.state, result.error = "failed", run.error or "no run specification"
            emit("failed", result)
            continue
        try:  # prepares the dataset once (the first run that names it) and names the run
            home, ident, rdir, _ = prepare_run(run.spec)
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
    if not todo or home is None:
        return GridReport(results)

    if executor == "local":
        jobs = jobs or default_jobs(threads)
        pool: LocalExecutor | RayExecutor = LocalExecutor(jobs)
    elif executor == "ray":
        pool = RayExecutor(jobs, threads, gpus, address, home, shared=shared_home)
        jobs = jobs or pool.capacity(threads)
    else:
        raise ValueError(f"executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    running: dict[int, Any] = {}
    waiting = list(todo)  # in flight: at most `jobs`, so "running" means a worker has it

    def submit(k: int) -> None:
        results[k].attempts += 1
        results[k].state = "running"
        results[k].started, results[k].progress = time.time(), None
        results[k].max_epochs = getattr(runs[k].spec.config, "max_epochs", None)
        running[k] = pool.submit(runs[k].spec, results[k].run_id, results[k].run_dir)
        emit("running", results[k])

    def look() -> None:
        if hasattr(pool, "refresh"):
            pool.refresh()
        for k in running:
            record = pool.progress(results[k].run_id, results[k].run_dir)
            if record is not None and record != results[k].progress:
                results[k].progress = record
                emit("progress", results[k])

    looked = time.perf_counter()
    try:
        while waiting and len(running) < max(1, jobs):
            submit(waiting.pop(0))
        while running:
            if time.perf_counter() - looked >= PROGRESS_S:
                look()
                looked = time.perf_counter()
            finished = [k for k, job in running.items() if pool.ready(job)]
            if not finished:
                time.sleep(POLL_S)
                continue
            for k in finished:
                job = running.pop(k)
                result = results[k]
                try:
                    out = pool.result(job, runs[k].spec)
                except Exception as exc:  # noqa: BLE001 - reported, retried, the others go on
                    result.error = _first_line(exc)
                    if result.attempts <= retries:
                        emit("retry", result)
                        submit(k)
                    else:
                        result.state = "failed"
                        emit("failed", result)
                    continue
                if out["run_id"] != result.run_id:  # the worker runs other code, or sees other data
                    result.state = "failed"
                    result.error = (f"the worker named the run {out['run_id']}, the driver {result.run_id}: "
                                    "does the worker run the same explainbench and data?")
                    emit("failed", result)
                    continue
                result.state = "done" if out["status"] == "finished" else "skipped"
                result.run_dir = Path(out["run_dir"])
                result.seconds, result.metrics, result.error = out["seconds"], out["metrics"], None
                emit(result.state, result)
            while waiting and len(running) < max(1, jobs):
                submit(waiting.pop(0))
    except BaseException:  # Ctrl-C or a bug in the driver: stop the workers, keep what is finished
        pool.stop()
        raise
    pool.close()
    return GridReport(results)
