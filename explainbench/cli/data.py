"""`explainbench data`: prepare the embedded benchmark, import published or raw data, list, stats."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from explainbench.cli.errors import fail
from explainbench.data.buckets import parse_buckets
from explainbench.data.errors import DataError
from explainbench.data.home import dataset_dir, explainbench_home

if TYPE_CHECKING:
    from explainbench.data.store import PrepareOptions

# The commands import the rest of explainbench.data (pyarrow, datasets) when they run, not at start-up.

console = Console()

data_app = typer.Typer(
    help="Prepare, import and inspect datasets.\n\nExample: explainbench data prepare synthetic",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class Domain(str, Enum):
    restaurant = "restaurant"
    movie = "movie"
    hotel = "hotel"


class VocabFrom(str, Enum):
    train = "train"
    all = "all"


class Format(str, Enum):
    rich = "rich"
    markdown = "markdown"
    json = "json"


class ImportSource(str, Enum):
    peter = "peter"
    amazon = "amazon"
    yelp = "yelp"
    tripadvisor = "tripadvisor"


def _options(
    max_reviews: int | None,
    split_seed: int,
    vocab_from: VocabFrom,
    vocab_size: int,
    max_words: int,
    buckets: str,
) -> PrepareOptions:
    from explainbench.data.store import PrepareOptions

    try:
        parsed = parse_buckets(buckets)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    return PrepareOptions(
        max_reviews=max_reviews,
        split_seed=split_seed,
        vocab_from=vocab_from.value,
        vocab_size=vocab_size,
        max_words=max_words,
        buckets=parsed,
    )


# Options shared by prepare and import.
MAX_REVIEWS = typer.Option(
    None,
    "--max-reviews",
    min=1,
    help="The paper's sparsity filter: keep records whose user or item has fewer than N reviews "
    "(15; 20 for Amazon).",
)
SPLIT_SEED = typer.Option(1, "--split-seed", min=0, help="Split k is cut with seed SPLIT_SEED + k - 1.")
VOCAB_FROM = typer.Option(
    VocabFrom.train,
    "--vocab-from",
    help="Build the vocabulary from each split's train records or from all records (PETER).",
)
VOCAB_SIZE = typer.Option(
    20000, "--vocab-size", min=1, help="Most frequent words kept (feature words are added)."
)
MAX_WORDS = typer.Option(
    15, "--max-words", min=1, help="Explanation length in words (the references use 15)."
)
BUCKETS = typer.Option(
    "1,2,3,4,5-9,10-14,15+", "--buckets", help="Sparsity bucket edges (training records per user/item)."
)
FORCE = typer.Option(False, "--force", help="Rebuild the dataset when it exists already.")


def _done(path: Path) -> None:
    from explainbench.data.store import read_manifest

    m = read_manifest(path)
    c = m["counts"]
    console.print(
        f"[green]prepared[/green] {m['name']}: {c['records']:,} records, {c['users']:,} users, "
        f"{c['items']:,} items, "
        f"5 splits, fingerprint {m['fingerprint'][:12]} -> {path}",
        soft_wrap=True,
    )
    dup = (m.get("source") or {}).get("duplicates")
    if dup and dup.get("dropped"):
        console.print(
            f"duplicates dropped: {dup['exact_repeats']:,} exact repeats, {dup['pair_repeats']:,} pairs seen "
            f"again with other text (first kept), {dup['cross_item_repeats']:,} texts a user posted under "
            "another item (kept once per user)",
            soft_wrap=True,
        )


@data_app.command("prepare")
def prepare_cmd(
    name: str = typer.Argument(
        ...,
        help="synthetic-tiny | synthetic | synthetic-dense | synthetic-xl, amazon-2023 (from the Hugging "
        "Face Hub, with --category), or amazon | yelp | tripadvisor.",
    ),
    source: Path | None = typer.Argument(None, help="For amazon | yelp | tripadvisor: the raw review file."),
    category: str | None = typer.Option(
        None, "--category", help="amazon-2023: the category (e.g. All_Beauty; a wrong name lists them)."
    ),
    source_dir: Path | None = typer.Option(
        None,
        "--source-dir",
        help="amazon-2023: a local folder laid out as the Hub repository (raw/review_categories/*.jsonl) "
        "instead of downloading.",
    ),
    domain: Domain = typer.Option(
        Domain.restaurant, "--domain", help="Synthetic world: restaurant, movie or hotel."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the synthetic world (same seed, same data)."),
    as_name: str | None = typer.Option(
        None, "--name", help="Store under this name (default: NAME, plus -DOMAIN when not restaurant)."
    ),
    max_reviews: int | None = MAX_REVIEWS,
    split_seed: int = SPLIT_SEED,
    vocab_from: VocabFrom = VOCAB_FROM,
    vocab_size: int = VOCAB_SIZE,
    max_words: int = MAX_WORDS,
    buckets: str = BUCKETS,
    force: bool = FORCE,
) -> None:
    """Prepare a built-in synthetic dataset, an Amazon 2023 category from the Hub, or a raw dump.

    Example: explainbench data prepare synthetic --domain hotel --seed 1
    Example: explainbench data prepare amazon-2023 --category All_Beauty --max-reviews 20 --name beauty
    """
    from explainbench.data.prepare import PUBLISHED, SyntheticSpec, prepare_synthetic, published_message
    from explainbench.data.sources.raw import import_raw
    from explainbench.data.sources.synthetic import PRESETS
    from explainbench.data.store import DatasetExists, read_manifest

    try:
        options = _options(max_reviews, split_seed, vocab_from, vocab_size, max_words, buckets)
        if name == "amazon-2023":
            from explainbench.data.sources.hub import categories, fetch_category

            if not category:
                raise DataError(
                    "amazon-2023 needs --category; the categories of McAuley-Lab/Amazon-Reviews-2023: "
                    + ", ".join(categories(source_dir))
                )
            path = fetch_category(category, source_dir)
            target = as_name or f"amazon-2023-{category.lower().replace('_', '-')}"
            _done(import_raw("amazon", path, target, options=options, home=None, force=force))
            return
        if source_dir is not None or category is not None:
            raise DataError("--category and --source-dir belong to amazon-2023")
        if name in PUBLISHED:
            if source is None:
                raise DataError(published_message(name))
            _done(import_raw(name, source, as_name or name, options=options, home=None, force=force))
            return
        if name not in PRESETS:
            raise DataError(
                f"unknown dataset {name!r}: prepare one of {', '.join(PRESETS)} or {', '.join(PUBLISHED)}; "
                "import files with `explainbench data import`"
            )
        if source is not None:
            raise DataError(f"{name} is generated, it takes no SOURCE file (got {source})")
        spec = SyntheticSpec(name, domain.value, seed)
        target = as_name or spec.default_name()
        try:
            _done(prepare_synthetic(spec, name=target, options=options, force=force))
        except DatasetExists:
            m = read_manifest(dataset_dir(target))
            console.print(
                f"{target} is already prepared (fingerprint {m['fingerprint'][:12]}); "
                "use --force to rebuild it",
                soft_wrap=True,
            )
    except DataError as exc:
        fail(str(exc))
    except OSError as exc:  # a failed write (disk full): the dataset is built in a temporary folder
        fail(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}; nothing was changed "
             "(the dataset is built in a temporary folder): free space and re-run")


@data_app.command("import")
def import_cmd(
    kind: ImportSource = typer.Argument(
        ..., help="peter (published layout) | amazon | yelp | tripadvisor (raw reviews)."
    ),
    path: Path = typer.Argument(
        ..., help="PETER folder (reviews.pickle + 1..5/), or the raw review file (.json, .json.gz)."
    ),
    name: str = typer.Option(..., "--name", help="Name to store the dataset under."),
    skip_bad: bool = typer.Option(
        False,
        "--skip-bad",
        help="Raw files: skip malformed lines (counted in the manifest).",
    ),
    duplicates: str = typer.Option(
        "drop",
        "--duplicates",
        metavar="drop|error",
        help="Raw files: drop repeated reviews (exact repeats; a pair again with other text keeps the "
        "first; a user's text under another item is kept once per user; each counted), or stop at a "
        "repeated (user, item) pair.",
    ),
    min_feature_count: int = typer.Option(
        3, "--min-feature-count", min=1, help="Raw files: a feature must be found in this many reviews."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Raw files: processes that parse and scan reviews (default: every CPU for files of 4 MB "
        "or more, else 1). The dataset does not depend on it.",
    ),
    max_reviews: int | None = MAX_REVIEWS,
    split_seed: int = SPLIT_SEED,
    vocab_from: VocabFrom = VOCAB_FROM,
    vocab_size: int = VOCAB_SIZE,
    max_words: int = MAX_WORDS,
    buckets: str = BUCKETS,
    force: bool = FORCE,
) -> None:
    """Import published PETER-format data (splits kept exactly) or a raw review dump.

    Example: explainbench data import amazon reviews_Movies_and_TV_5.json.gz --name amazon --max-reviews 20
    """
    from explainbench.data.sources.peter import import_peter
    from explainbench.data.sources.raw import import_raw

    try:
        options = _options(max_reviews, split_seed, vocab_from, vocab_size, max_words, buckets)
        if kind is ImportSource.peter:
            if skip_bad:
                raise DataError(
                    "--skip-bad does not apply to PETER data: its index files point at every record"
                )
            _done(import_peter(path, name, options=options, force=force))
        else:
            _done(
                import_raw(
                    kind.value,
                    path,
                    name,
                    options=options,
                    skip_bad=skip_bad,
                    duplicates=duplicates,
                    force=force,
                    min_feature_count=min_feature_count,
                    workers=workers,
                )
            )
    except DataError as exc:
        fail(str(exc))


@data_app.command("list")
def list_cmd() -> None:
    """List the prepared datasets and the built-in presets.

    Example: explainbench data list
    """
    from explainbench.data.load import list_datasets
    from explainbench.data.sources.synthetic import PRESETS
    from explainbench.data.sources.synthetic_world import DOMAINS

    try:
        manifests = list_datasets()
    except DataError as exc:
        fail(str(exc))
    table = Table(title=f"datasets in {explainbench_home() / 'datasets'}")
    for col in ("name", "source", "records", "users", "items", "filter", "fingerprint"):
        table.add_column(col, justify="right" if col in ("records", "users", "items") else "left")
    for m in manifests:
        c = m["counts"]
        table.add_row(
            m["name"],
            str(m["source"].get("kind")),
            f"{c['records']:,}",
            f"{c['users']:,}",
            f"{c['items']:,}",
            "-" if m["filter"].get("max_reviews") is None else f"< {m['filter']['max_reviews']} reviews",
            m["fingerprint"][:12],
        )
    console.print(table)
    prepared = {m["name"] for m in manifests}
    todo = [p for p in PRESETS if p not in prepared]
    if todo:
        console.print(
            f"built-in, prepared on first use: {', '.join(todo)} (domains: {', '.join(DOMAINS)}); "
            "real data: explainbench data import peter|amazon|yelp|tripadvisor PATH --name NAME",
            soft_wrap=True,
        )


def _cell(key: str, value: float | int) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.2f}"


def render_table1(stats: list[dict], fmt: Format) -> str | Table:
    """Table 1 of the paper: one column per dataset."""
    from explainbench.data.stats import TABLE1_ROWS

    if fmt is Format.json:
        return json.dumps(stats if len(stats) > 1 else stats[0], indent=2)
    names = [s["name"] for s in stats]
    if fmt is Format.markdown:
        lines = ["| Entries | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for key, label in TABLE1_ROWS:
            lines.append(f"| {label} | " + " | ".join(_cell(key, s[key]) for s in stats) + " |")
        return "\n".join(lines)
    table = Table(title="Statistics of the datasets (the paper's Table 1)")
    table.add_column("Entries")
    for n in names:
        table.add_column(n, justify="right")
    for key, label in TABLE1_ROWS:
        table.add_row(label, *(_cell(key, s[key]) for s in stats))
    return table


@data_app.command("stats")
def stats_cmd(
    names: list[str] = typer.Argument(
        ..., help="One or more dataset names (built-in presets are prepared on demand)."
    ),
    fmt: Format = typer.Option(Format.rich, "--format", help="rich table, markdown or json."),
) -> None:
    """Print the paper's Table 1 rows: users, items, reviews, averages, words per explanation.

    Example: explainbench data stats synthetic --format markdown
    """
    from explainbench.data.load import dataset_stats

    try:
        stats = [dataset_stats(n) for n in names]
    except DataError as exc:
        fail(str(exc))
    out = render_table1(stats, fmt)
    if isinstance(out, str):
        typer.echo(out)
    else:
        console.print(out)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
