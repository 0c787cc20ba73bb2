"""Data-layer benchmark: time and peak memory to prepare datasets (figures go to docs/benchmarks.md).

Each measurement runs in a fresh Python process (so peak RSS is that job's own) preparing into a
temporary EXPLAINBENCH_HOME; the parent reports the median over --repeats runs.

    .venv/bin/python benchmarks/data_bench.py                      # synthetic-xl, once
    .venv/bin/python benchmarks/data_bench.py --jobs tiny synthetic xl peter raw --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon-musical-instruments-5core"
JOBS = {
    "tiny": "synthetic-tiny: generate + 5 splits + buckets + 5 tokenizers",
    "synthetic": "synthetic (20k records): same",
    "xl": "synthetic-xl (1.3M records, 333k users, 305k items): same",
    "peter": "import PETER-format Amazon Musical Instruments (5,787 records, published splits)",
    "raw": "import raw Amazon Musical Instruments 5-core (10,261 reviews, extractor, 5 splits)",
}


def child(job: str, home: Path) -> dict:
    """Run one job in this process; return seconds per stage and peak RSS."""
    os.environ["EXPLAINBENCH_HOME"] = str(home)
    t0 = time.perf_counter()
    from explainbench.data.prepare import SyntheticSpec
    from explainbench.data.sources.peter import import_peter
    from explainbench.data.sources.raw import import_raw
    from explainbench.data.sources.synthetic import generate
    from explainbench.data.store import PrepareOptions, read_manifest, write_dataset

    t_import = time.perf_counter() - t0
    stages: dict[str, float] = {"python_imports": t_import}
    t = time.perf_counter()
    if job in ("tiny", "synthetic", "xl"):
        preset = {"tiny": "synthetic-tiny", "synthetic": "synthetic", "xl": "synthetic-xl"}[job]
        records, _ = generate(preset, "restaurant", 0)
        stages["generate"] = time.perf_counter() - t
        t = time.perf_counter()
        source = {"kind": "synthetic", "preset": SyntheticSpec(preset).preset, "seed": 0}
        path = write_dataset(preset, records, source=source, options=PrepareOptions(), home=home)
        stages["filter_split_buckets_tokenize_write"] = time.perf_counter() - t
    elif job == "peter":
        path = import_peter(SHARED / "peter-format", "mi-peter", home=home)
        stages["import"] = time.perf_counter() - t
    elif job == "raw":
        path = import_raw("amazon", SHARED / "reviews_Musical_Instruments_5.json.gz", "mi-raw", home=home)
        stages["import"] = time.perf_counter() - t
    else:
        raise SystemExit(f"unknown job {job!r}; choose from {', '.join(JOBS)}")
    m = read_manifest(path)
    return {
        "job": job,
        "seconds": time.perf_counter() - t0,
        "stages": stages,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": m["counts"]["records"],
        "users": m["counts"]["users"],
        "items": m["counts"]["items"],
        "disk_mb": sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", nargs="+", default=["xl"], choices=list(JOBS))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("JOB", "HOME"), help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    results = []
    for job in args.jobs:
        runs = []
        for _ in range(args.repeats):
            load = os.getloadavg()[0]
            with tempfile.TemporaryDirectory(prefix="eb-bench-") as home:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", job, home],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            run["load_before"] = load
            runs.append(run)
        med = {
            "job": job,
            "what": JOBS[job],
            "repeats": len(runs),
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
            "median_stages": {k: statistics.median(r["stages"][k] for r in runs) for k in runs[0]["stages"]},
            "records": runs[0]["records"],
            "users": runs[0]["users"],
            "items": runs[0]["items"],
            "disk_mb": runs[0]["disk_mb"],
            "load_average_before": [round(r["load_before"], 1) for r in runs],
        }
        results.append(med)
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in med["median_stages"].items())
        print(
            f"{job:10s} {med['median_seconds']:7.1f} s  peak {med['median_peak_rss_mb']:7.0f} MB  "
            f"{med['records']:,} records  disk {med['disk_mb']:.0f} MB  "
            f"({stages}; load {med['load_average_before']})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
