"""Preparing datasets: the built-in synthetic presets (on demand) and the published sources' message.

Importers of files live in explainbench.data.sources (peter.py, raw.py); all of them end in
store.write_dataset, which filters, splits, tokenizes and writes atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explainbench.data.errors import DataError
from explainbench.data.home import dataset_dir, explainbench_home
from explainbench.data.sources.synthetic import GENERATOR_VERSION, PRESETS, generate
from explainbench.data.sources.synthetic_world import DOMAINS
from explainbench.data.store import MANIFEST_FILE, DatasetExists, PrepareOptions, write_dataset

DEFAULT_DOMAIN = "restaurant"

# The published data (Lei Li's PETER-format releases) and the paper's filter for each source.
PUBLISHED: dict[str, tuple[str, int]] = {
    "amazon": ("Amazon Movies & TV (5-core)", 20),
    "yelp": ("Yelp 2019 (restaurants)", 15),
    "tripadvisor": ("TripAdvisor (Hong Kong hotels)", 15),
}


@dataclass(frozen=True)
class SyntheticSpec:
    """What a synthetic dataset name stands for: preset, domain, generator seed."""

    preset: str
    domain: str = DEFAULT_DOMAIN
    seed: int = 0

    def default_name(self) -> str:
        return self.preset if self.domain == DEFAULT_DOMAIN else f"{self.preset}-{self.domain}"


def parse_synthetic_name(name: str) -> SyntheticSpec | None:
    """A built-in preset (`synthetic-tiny`, `synthetic`, `synthetic-dense`, `synthetic-xl`), optionally
    followed by `-<domain>`."""
    if name in PRESETS:
        return SyntheticSpec(name)
    for preset in PRESETS:
        for domain in DOMAINS:
            if name == f"{preset}-{domain}":
                return SyntheticSpec(preset, domain)
    return None


def published_message(source: str) -> str:
    """The one-line answer to `data prepare amazon|yelp|tripadvisor` without a file."""
    title, n = PUBLISHED[source]
    hub = (
        "; or, with a network, `explainbench data prepare amazon-2023 --category Movies_and_TV "
        f"--max-reviews {n} --name {source}` builds it from the 2023 release on the Hugging Face Hub "
        "(other reviews and extracted sentences than the paper's, so not its numbers)"
        if source == "amazon"
        else ""
    )
    return (
        f"no {source} data is bundled: download Lei Li's PETER-format release of {title} "
        "(reviews.pickle + 1..5 split folders, linked from github.com/lileipisces/PETER) and run "
        f"`explainbench data import peter PATH --name {source}` (this matches the paper's numbers); from the "
        f"raw reviews instead run `explainbench data import {source} PATH --name {source} --max-reviews {n}` "
        f"(the paper's filter){hub}"
    )


def prepare_synthetic(
    spec: SyntheticSpec,
    *,
    name: str | None = None,
    options: PrepareOptions | None = None,
    home: Path | None = None,
    force: bool = False,
) -> Path:
    """Generate, split and store a synthetic dataset; returns its folder."""
    if spec.preset not in PRESETS:
        raise DataError(f"unknown synthetic preset {spec.preset!r}; choose one of {', '.join(PRESETS)}")
    if spec.domain not in DOMAINS:
        raise DataError(f"unknown domain {spec.domain!r}; choose one of {', '.join(DOMAINS)}")
    records, _ = generate(spec.preset, spec.domain, spec.seed)
    source = {
        "kind": "synthetic",
        "path": None,
        "sha256": None,
        "generator": GENERATOR_VERSION,
        "preset": spec.preset,
        "domain": spec.domain,
        "seed": spec.seed,
    }
    return write_dataset(
        name or spec.default_name(),
        records,
        source=source,
        options=options or PrepareOptions(),
        home=home,
        force=force,
    )


def ensure_dataset(name: str, home: Path | None = None) -> Path:
    """datasets/<name>/ under home; built-in synthetic presets are prepared on first use."""
    home = Path(home) if home is not None else explainbench_home()
    path = dataset_dir(name, home)
    if (path / MANIFEST_FILE).exists():
        return path
    spec = parse_synthetic_name(name)
    if spec is None:
        hint = (
            published_message(name)
            if name in PUBLISHED
            else "import it with `explainbench data import peter|amazon|yelp|tripadvisor PATH --name "
            f"{name}` (see `explainbench data list`)"
        )
        raise DataError(f"dataset {name!r} not found in {path.parent}; {hint}")
    try:
        return prepare_synthetic(spec, name=name, home=home)
    except DatasetExists:  # prepared meanwhile by another process
        return path
