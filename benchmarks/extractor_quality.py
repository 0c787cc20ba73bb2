"""How good is the light extractor? Statistics and random examples for docs/data.md.

Imports a raw review file as `explainbench data import` does (into a temporary home) and reports:
how many reviews yield a sentence; how often the chosen feature is a noun by WordNet 3.0 (has a noun
sense at all, and is mostly a noun: its noun senses carry at least as many of WordNet's tagged-corpus
counts as any other part of speech, a proxy for how the word is used, not a parse of the sentence);
the most frequent features; and --examples random extractions (seeded) with their sentence.

    .venv/bin/python benchmarks/extractor_quality.py \
        ../shared/data/amazon-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter
from pathlib import Path


def noun_status(word: str, wn) -> str:
    """"noun" (mostly a noun), "also" (a noun sense, mostly something else), "none" (no noun sense)."""
    counts: Counter[str] = Counter()
    for synset in wn.synsets(word):
        pos = "a" if synset.pos() == "s" else synset.pos()
        counts[pos] += sum(lemma.count() for lemma in synset.lemmas() if lemma.name().lower() == word)
    if not wn.synsets(word, pos="n"):
        return "none"
    return "noun" if counts["n"] >= max(counts.values(), default=0) else "also"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="a raw review file (Amazon, Yelp or TripAdvisor)")
    ap.add_argument("--kind", default="amazon", choices=["amazon", "yelp", "tripadvisor"])
    ap.add_argument("--examples", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from explainbench.data import load_manifest, load_records
    from explainbench.data.sources.raw import import_raw
    from explainbench.metrics.wordnet import ensure_nltk_path, wordnet_available

    if (why := wordnet_available()) is not None:
        raise SystemExit(f"WordNet is needed for the noun check: {why}")
    ensure_nltk_path()
    from nltk.corpus import wordnet as wn

    with tempfile.TemporaryDirectory(prefix="extractor-quality-") as home:
        import_raw(args.kind, args.path, "q", home=Path(home))
        rows = load_records("q", Path(home)).select(["feature", "adjective", "sentiment", "explanation"])
        rows = rows.to_pylist()
        source = load_manifest("q", Path(home))["source"]
    read, dropped = source["reviews_read"], source["duplicates"]["dropped"]
    kept = read - dropped
    print(f"{args.path.name}: {read:,} reviews read, {dropped:,} repeats dropped, "
          f"{source['reviews_without_sentence']:,} without a feature-opinion sentence; "
          f"{len(rows):,} records ({100 * len(rows) / kept:.1f}% of the kept reviews; the sparsity "
          "filter and the 1..5 splits may drop more)")
    status = Counter(noun_status(r["feature"], wn) for r in rows)
    features = Counter(r["feature"] for r in rows)
    kinds = Counter(noun_status(f, wn) for f in features)
    print(f"chosen feature mostly a noun (WordNet sense counts): {100 * status['noun'] / len(rows):.1f}% "
          f"of records; a noun sense but mostly another part of speech: "
          f"{100 * status['also'] / len(rows):.1f}%; no noun sense: {100 * status['none'] / len(rows):.1f}%")
    print(f"distinct features {len(features):,}: mostly nouns {kinds['noun']:,}, also nouns "
          f"{kinds['also']:,}, not nouns {kinds['none']:,}")
    print("most frequent features: " + ", ".join(f"{f} {n}" for f, n in features.most_common(15)))
    also = Counter({f: n for f, n in features.items() if noun_status(f, wn) != "noun"})
    print("most frequent features that are not mostly nouns: "
          + ", ".join(f"{f} {n}" for f, n in also.most_common(10)))
    print(f"\n{args.examples} random extractions (seed {args.seed}):\n")
    print("| feature | opinion | sentiment | noun? | sentence |")
    print("|---|---|---|---|---|")
    for r in random.Random(args.seed).sample(rows, min(args.examples, len(rows))):
        print(f"| {r['feature']} | {r['adjective']} | {r['sentiment']:+d} | {noun_status(r['feature'], wn)} "
              f"| {r['explanation']} |")


if __name__ == "__main__":
    main()
