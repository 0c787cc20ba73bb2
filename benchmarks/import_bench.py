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
import time
from pathlib import Path


def child(kind: str, path: Path, home: Path, workers: int | None) -> dict:
    started = time.perf_counter()
    from explainbench.data.sources.raw import import_raw
    from explainbench.data.store import read_manifest

    t = time.perf_counter()
    kwargs = {} if workers is None else {"workers": workers}
    folder = import_raw(kind, path, "bench", home=home, **kwargs)
    seconds = time.perf_counter() - t
    m = read_manifest(folder)
    return {
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
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.kind, args.file, args.child, args.workers)))
        return
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as home:
        cmd = [sys.executable, __file__, "--kind", args.kind, "--file", str(args.file), "--child", home]
        if args.workers is not None:
            cmd += ["--workers", str(args.workers)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_before"] = [round(x, 2) for x in load]
    print(f"{args.file.name}: {result['reviews_read']:,} reviews in {result['import_s']:.1f} s = "
          f"{result['reviews_per_s']:,.0f} reviews/s ({result['records']:,} records); peak RSS "
          f"{result['peak_rss_mb']:.0f} MB, largest worker {result['workers_peak_rss_mb']:.0f} MB; "
          f"load before {result['load_before']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
