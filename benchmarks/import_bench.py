"""One raw import, timed: reviews/s end to end and peak memory (the importing process and its largest
worker), for `benchmarks/ab.py` (before/after) and docs/benchmarks.md "Data".

    .venv/bin/python benchmarks/import_bench.py --kind yelp --file /tmp/yelp-1m.json --json out.json

The import runs in a fresh child process (so its peak RSS is its own) into a temporary
EXPLAINBENCH_HOME, with the code on PYTHONPATH; time is wall clock around `import_raw` (read, extract,
duplicates, filter, split, tokenise, write), plus the child's Python start and imports as `total_s`.
Make the Yelp-format file with `benchmarks/data_bench.py --jobs yelp` (it keeps it at --yelp-file).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def distinct_explanations(folder: Path) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from explainbench.data.store import RECORDS_FILE

    return len(pc.unique(pq.read_table(folder / RECORDS_FILE, columns=["explanation"]).column(0)))


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Phases:
    """The importing process's RSS sampled every 20 ms, and its peak per phase: extraction (passes 1
    and 2), then write_dataset, and within it its steps (the rest of it under "write_dataset")."""

    def __init__(self) -> None:
        self.phase = "extract"
        self.peaks: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), _rss_mb())

    def wrap(self, owner: object, name: str, phase: str) -> None:
        inner = getattr(owner, name)

        def wrapped(*args: object, **kwargs: object) -> object:
            before, self.phase = self.phase, phase
            try:
                return inner(*args, **kwargs)
            finally:
                self.peaks[phase] = max(self.peaks.get(phase, 0.0), _rss_mb())
                self.phase = before

        setattr(owner, name, wrapped)


def child(kind: str, path: Path, home: Path, workers: int | None, trace: bool = False) -> dict:
    started = time.perf_counter()
    from explainbench.data.sources import raw
    from explainbench.data.sources.raw import import_raw
    from explainbench.data.store import read_manifest

    phases = Phases() if trace else None
    if phases is not None:
        from explainbench.data import store

        phases.wrap(raw, "write_dataset", "write_dataset")
        for name in ("WordTable", "dense_index", "random_split", "_build_tokenizer", "ContentFingerprint",
                     "table1"):
            phases.wrap(store, name, f"write_dataset: {name}")
        phases.wrap(store.pq, "write_table", "write_dataset: Parquet")
        phases.thread.start()
    t = time.perf_counter()
    kwargs = {} if workers is None else {"workers": workers}
    folder = import_raw(kind, path, "bench", home=home, **kwargs)
    seconds = time.perf_counter() - t
    m = read_manifest(folder)
    if phases is not None:
        phases.stop.set()
        phases.thread.join()
    return {
        **({"peak_rss_mb_by_phase": {k: round(v) for k, v in phases.peaks.items()}} if phases else {}),
        "distinct_explanations": distinct_explanations(folder),
        "import_s": seconds,
        "total_s": time.perf_counter() - started,
        "reviews_read": m["source"]["reviews_read"],
        "records": m["counts"]["records"],
        "reviews_per_s": m["source"]["reviews_read"] / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "workers_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", default="yelp", choices=["amazon", "yelp", "tripadvisor"])
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=None, help="default: the importer's own choice")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--trace", action="store_true",
                    help="also the peak RSS per phase (sampled every 20 ms: a little slower)")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.kind, args.file, args.child, args.workers, args.trace)))
        return
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as home:
        cmd = [sys.executable, __file__, "--kind", args.kind, "--file", str(args.file), "--child", home]
        if args.workers is not None:
            cmd += ["--workers", str(args.workers)]
        if args.trace:
            cmd += ["--trace"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_before"] = [round(x, 2) for x in load]
    print(f"{args.file.name}: {result['reviews_read']:,} reviews in {result['import_s']:.1f} s = "
          f"{result['reviews_per_s']:,.0f} reviews/s ({result['records']:,} records); peak RSS "
          f"{result['peak_rss_mb']:.0f} MB, largest worker {result['workers_peak_rss_mb']:.0f} MB; "
          f"{result['distinct_explanations']:,} distinct explanations; load before {result['load_before']}")
    if "peak_rss_mb_by_phase" in result:
        by_phase = result["peak_rss_mb_by_phase"].items()
        print("peak RSS by phase (MB): " + ", ".join(f"{k} {v}" for k, v in by_phase))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
