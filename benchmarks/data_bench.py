"""Data-layer benchmark: time and peak memory to prepare datasets (figures go to docs/benchmarks.md).

Each measurement runs in a fresh Python process (so peak RSS is that job's own) preparing into a
temporary EXPLAINBENCH_HOME; the parent reports the median over --repeats runs.

    .venv/bin/python benchmarks/data_bench.py                      # synthetic-xl, once
    .venv/bin/python benchmarks/data_bench.py --jobs tiny synthetic xl peter raw --repeats 3
    .venv/bin/python benchmarks/data_bench.py --jobs yelp --yelp-file /tmp/yelp-1m.json   # 1M reviews

The `yelp` job imports a Yelp-format review.json of --yelp-reviews generated reviews (made once and
kept at --yelp-file): the synthetic world's sentences (synthetic-xl, restaurant domain) each wrapped in
review text of filler sentences, about as long as Yelp's reviews (mean about 100 words), with Yelp's
fields and 22-character ids. Peak memory is reported for the importing process and for the largest of
its worker processes (RUSAGE_CHILDREN).
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
    "yelp": "import a generated Yelp-format review.json (--yelp-reviews reviews, extractor, 5 splits)",
}
YELP_FILLER = [
    "We came here on a Friday night with a group of friends.",
    "Parking was a bit tricky but we found a spot around the corner.",
    "I have been meaning to try this place for months.",
    "My sister recommended it after her birthday dinner here last year.",
    "We waited about twenty minutes for a table, which was fine.",
    "The menu has a lot of choices and the prices are about what you would expect for the area.",
    "Our server checked on us a couple of times during the meal.",
    "The staff was friendly and the place was clean.",
    "It gets loud when it is busy, so come early if you want to talk.",
    "We shared a few plates and took the rest home.",
    "I ordered the special and my husband had the usual.",
    "Dessert was not on our list but we ended up getting one anyway.",
    "They take reservations on weekends, which I did not know.",
    "Overall it was a nice evening out.",
    "Would I come back? Probably, when I am in the neighborhood.",
    "The drinks came out quickly and the bartender knew his stuff.",
    "It is a small place with maybe fifteen tables.",
    "We sat on the patio since the weather was good.",
    "The bill came to about sixty dollars for two with tip.",
    "I will update this review after my next visit.",
]


def yelp_file(path: Path, n_reviews: int) -> Path:
    """A Yelp-format review.json of n_reviews lines (made once; reused when path exists). Beyond
    synthetic-xl's 1,311,676 records the records come again as copies under new user and business ids
    (copy c > 0 of user u is another user), with fresh filler: the reviews and pairs are new, the
    feature-opinion sentences repeat."""
    if path.exists():
        return path
    import base64
    import hashlib

    import numpy as np

    from explainbench.data.sources.synthetic import generate

    records, _ = generate("synthetic-xl", "restaurant", 0)
    rng = np.random.default_rng(0)

    def ident(kind: str, k: int, copy: int) -> str:  # Yelp's ids: 22 URL-safe base64 characters
        key = f"{kind}{k}" if copy == 0 else f"{kind}{k}/{copy}"  # copy 0: the ids of the 1M file
        return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())[:22].decode()

    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        written, copy = 0, 0
        while written < n_reviews:
            part = records.slice(0, n_reviews - written)
            users = part.column("user_id").to_pylist()
            items = part.column("item_id").to_pylist()
            stars = part.column("rating").to_pylist()
            sentences = part.column("explanation").to_pylist()
            n_before = rng.integers(2, 5, len(sentences))
            n_after = rng.integers(4, 7, len(sentences))
            picks = rng.integers(0, len(YELP_FILLER), (len(sentences), 10))
            for k, sentence in enumerate(sentences):
                fill = [YELP_FILLER[j] for j in picks[k]]
                body = sentence[0].upper() + sentence[1:]  # stored tokenised: "the pasta is n't warm ."
                for spaced, joined in ((" n't", "n't"), (" ,", ","), (" .", "."), (" !", "!"), (" ?", "?")):
                    body = body.replace(spaced, joined)
                body = body if body[-1] in ".!?" else body + "."
                text = " ".join([*fill[: n_before[k]], body, *fill[4 : 4 + n_after[k]]])
                fh.write(json.dumps({
                    "review_id": ident("r", written + k, 0), "user_id": ident("u", users[k], copy),
                    "business_id": ident("b", items[k], copy), "stars": float(stars[k]), "useful": 0,
                    "funny": 0, "cool": 0, "text": text, "date": "2019-06-01 12:00:00",
                }) + "\n")
            written += len(sentences)
            copy += 1
    tmp.replace(path)
    return path



def child(job: str, home: Path, yelp: Path | None = None) -> dict:
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
    elif job == "yelp":
        path = import_raw("yelp", yelp, "yelp", home=home)
        stages["import"] = time.perf_counter() - t
    else:
        raise SystemExit(f"unknown job {job!r}; choose from {', '.join(JOBS)}")
    m = read_manifest(path)
    return {
        "job": job,
        "seconds": time.perf_counter() - t0,
        "stages": stages,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "workers_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "reviews_read": m["source"].get("reviews_read"),
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
    ap.add_argument("--yelp-file", type=Path, default=Path(tempfile.gettempdir()) / "yelp-1m.json")
    ap.add_argument("--yelp-reviews", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.yelp_file)))
        return
    if "yelp" in args.jobs:
        t = time.perf_counter()
        yelp_file(args.yelp_file, args.yelp_reviews)
        print(f"yelp file: {args.yelp_file} ({args.yelp_file.stat().st_size / 2**20:.0f} MB, "
              f"{time.perf_counter() - t:.0f} s)")
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    results = []
    for job in args.jobs:
        runs = []
        for _ in range(args.repeats):
            load = os.getloadavg()[0]
            with tempfile.TemporaryDirectory(prefix="eb-bench-") as home:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", job, home, "--yelp-file", str(args.yelp_file)],
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
            "median_workers_peak_rss_mb": statistics.median(r["workers_peak_rss_mb"] for r in runs),
            "reviews_read": runs[0]["reviews_read"],
            "median_reviews_per_s": statistics.median(
                (r["reviews_read"] or r["records"]) / r["seconds"] for r in runs),
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
            f"{job:10s} {med['median_seconds']:7.1f} s  peak {med['median_peak_rss_mb']:7.0f} MB "
            f"(workers {med['median_workers_peak_rss_mb']:.0f} MB)  "
            f"{med['median_reviews_per_s']:,.0f} reviews/s  "
            f"{med['records']:,} records  disk {med['disk_mb']:.0f} MB  "
            f"({stages}; load {med['load_average_before']})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
