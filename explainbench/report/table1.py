"""Table 1 of the paper: dataset statistics, one column per dataset (numbers from the data layer).

The statistics are `explainbench.data.dataset_stats` (the rows of `explainbench data stats`): users,
items, reviews, average reviews per user and per item, average words per explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explainbench.report.tables import Cell, Column, ReportError, Row, Section, Table

if TYPE_CHECKING:  # pragma: no cover
    from explainbench.report.sources import RunSource


def _text(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{float(value):.2f}"


def table1_from_stats(stats: Sequence[dict[str, Any]]) -> Table:
    """Table 1 from dataset_stats() dictionaries (as `data stats --format json` prints them)."""
    from explainbench.data.stats import TABLE1_ROWS

    if not stats:
        raise ReportError("Table 1 needs at least one dataset")
    columns = [Column(s["name"], s["name"]) for s in stats]
    rows = []
    for key, label in TABLE1_ROWS:
        cells = {}
        for s in stats:
            if key not in s:
                raise ReportError(
                    f"statistics of {s.get('name')!r} lack {key!r}; re-run `explainbench data stats`"
                )
            cells[s["name"]] = Cell(_text(s[key]), value=float(s[key]))
        rows.append(Row(label, cells))
    return Table(
        "table1", "Table 1: statistics of the datasets", columns, [Section("", rows)], stub="Entries"
    )


def dataset_is_prepared(name: str, home: Path | None = None) -> bool:
    """True when datasets/<name>/manifest.json exists (the reporter never prepares data itself)."""
    from explainbench.data.home import datasets_root

    return (datasets_root(home) / name / "manifest.json").is_file()


def table1(names: Sequence[str], home: Path | None = None) -> Table:
    """Table 1 for prepared datasets; an unprepared one is a ReportError naming the command to run."""
    from explainbench.data import dataset_stats

    missing = [n for n in names if not dataset_is_prepared(n, home)]
    if missing:
        raise ReportError(
            f"dataset(s) {', '.join(missing)} not prepared; run `explainbench data prepare NAME` "
            "or `explainbench data import ...` first"
        )
    return table1_from_stats([dataset_stats(n, home) for n in names])


def table1_from_source(
    source: RunSource, names: Sequence[str], home: Path | None = None
) -> tuple[Table | None, list[str]]:
    """Table 1 for the datasets whose statistics are at hand, and the names left out.

    A leaderboard keeps them in <root>/<dataset>/dataset.json; otherwise the dataset must be prepared
    under home (the reporter reads manifests, it does not prepare data).
    """
    import json

    from explainbench.data import dataset_stats
    from explainbench.report.leaderboard import DATASET_FILE

    stats, missing = [], []
    for name in names:
        stored = source.root / name / DATASET_FILE
        if source.kind == "leaderboard" and stored.is_file():
            stats.append(json.loads(stored.read_text(encoding="utf-8")))
        elif dataset_is_prepared(name, home):
            stats.append(dataset_stats(name, home))
        else:
            missing.append(name)
    return (table1_from_stats(stats) if stats else None), missing
