"""Table 4 of the paper: the reference and each model's explanation for chosen test examples.

Samples of the models' chosen runs (explainbench.runner.select) on one split are aligned by
(user_id, item_id) (the data layer refuses duplicated pairs, so a pair names one test record).
Examples are numbered by their position in the first model's samples.jsonl; `--ids` picks them by
that number. By default the examples where the models differ most are chosen: the largest mean
pairwise Jaccard distance between the word sets of the models' explanations, ties broken in favour
of references that name a feature word, then by position. Feature words (every non-empty `feature`
of the test samples, plus the example's ground-truth aspect words on synthetic data) are
highlighted, as the paper underlines fine-grained features.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from explainbench.api.results import Sample
from explainbench.report.sources import RunSource, require_runs
from explainbench.report.tables import Cell, Column, ReportError, Row, Section, Table
from explainbench.runner.select import Rules


@dataclass
class Example:
    """One test record and every model's explanation of it."""

    index: int
    user_id: str
    item_id: str
    rating: float
    reference: str
    feature: str
    outputs: dict[str, str]
    spread: float  # mean pairwise Jaccard distance of the outputs' word sets
    highlight: tuple[str, ...]


def jaccard_distance(a: str, b: str) -> float:
    """1 - |A & B| / |A | B| over the sets of space-separated words (0 for two empty strings)."""
    x, y = set(a.split()), set(b.split())
    union = x | y
    return 0.0 if not union else 1.0 - len(x & y) / len(union)


def spread(texts: Sequence[str]) -> float:
    """Mean Jaccard distance over all pairs of texts (0 for fewer than two)."""
    pairs = list(itertools.combinations(texts, 2))
    return sum(jaccard_distance(a, b) for a, b in pairs) / len(pairs) if pairs else 0.0


def feature_words(samples: Sequence[Sample]) -> set[str]:
    """Every word of every non-empty ground-truth feature in the samples (lower case)."""
    return {w for s in samples if s.feature for w in s.feature.lower().split()}


def align(samples: dict[str, list[Sample]]) -> list[tuple[int, dict[str, Sample]]]:
    """(position in the first model's samples, {model: sample}) for records every model scored."""
    models = list(samples)
    index = {m: {(s.user_id, s.item_id): s for s in samples[m]} for m in models[1:]}
    out = []
    for i, s in enumerate(samples[models[0]]):
        key = (s.user_id, s.item_id)
        if all(key in index[m] for m in models[1:]):
            out.append((i, {models[0]: s, **{m: index[m][key] for m in models[1:]}}))
    return out


def collect_examples(
    samples: dict[str, list[Sample]],
    *,
    n: int = 5,
    ids: Sequence[int] | None = None,
) -> list[Example]:
    """The chosen examples (see the module docstring)."""
    if not samples:
        raise ReportError("Table 4 needs at least one model's samples")
    aligned = align(samples)
    if not aligned:
        raise ReportError("the models' samples share no test record (different datasets or splits?)")
    first = next(iter(samples.values()))
    words = feature_words(first)
    examples = []
    for i, by_model in aligned:
        ref = next(iter(by_model.values()))
        outputs = {m: s.generated for m, s in by_model.items()}
        mine = words | {w.lower() for t in ref.aspect_terms for w in t.split()}
        present = {w.lower() for t in [ref.reference, *outputs.values()] for w in t.split()} & mine
        examples.append(
            Example(
                i,
                ref.user_id,
                ref.item_id,
                ref.rating,
                ref.reference,
                ref.feature,
                outputs,
                spread(list(outputs.values())),
                tuple(sorted(present)),
            )
        )
    if ids:
        by_index = {e.index: e for e in examples}
        missing = [i for i in ids if i not in by_index]
        if missing:
            raise ReportError(
                f"--ids {', '.join(map(str, missing))}: no such example scored by every model "
                f"(numbers run from 0 to {len(first) - 1}, the position in samples.jsonl)"
            )
        return [by_index[i] for i in ids]

    def names_feature(e: Example) -> bool:
        return any(w.lower() in e.highlight for w in e.reference.split())

    examples.sort(key=lambda e: (-e.spread, not names_feature(e), e.index))
    return examples[:n]


def examples_table(examples: Sequence[Example], models: Sequence[str], *, data: str, split: int) -> Table:
    """One section per example: the reference, then each model's explanation, feature words highlighted."""
    sections = []
    for e in examples:
        title = (
            f"#{e.index}: user {e.user_id}, item {e.item_id}, rating {e.rating:g}"
            + (f", feature '{e.feature}'" if e.feature else "")
            + f" (spread {e.spread:.2f})"
        )
        rows = [Row("Reference", {"text": Cell(e.reference, highlight=e.highlight)})]
        rows += [Row(m, {"text": Cell(e.outputs[m], highlight=e.highlight)}) for m in models]
        sections.append(Section(title, rows))
    return Table(
        f"table4-{data}",
        f"Table 4: explanations for test examples of {data} (split {split}); feature words underlined",
        [Column("text", "Explanation", align="left")],
        sections,
        stub="",
        notes=[
            "#n is the example's position in samples.jsonl (use it with --ids). Spread: mean pairwise "
            "Jaccard distance between the models' word sets (examples where models differ most first)."
        ],
    )


def build_examples(
    source: RunSource,
    data: str,
    models: Sequence[str],
    *,
    split: int = 1,
    n: int = 5,
    ids: Sequence[int] | None = None,
    rules: Rules | None = None,
) -> Table:
    """Table 4 from the chosen run (explainbench.runner.select) of each model on one split of a dataset."""
    if not models:
        raise ReportError("--models: name at least one model, e.g. --models peter,mvae")
    require_runs(source, data, models)
    selection = source.select(data, models=models, splits=[split], rules=rules)
    latest = selection.chosen
    missing = [m for m in models if (m, split) not in latest]
    if missing:
        raise ReportError(
            f"no finished run of {', '.join(missing)} on {data!r} split {split}; "
            f"run them or choose another --split"
        )
    samples = {m: latest[(m, split)].samples() for m in models}
    table = examples_table(collect_examples(samples, n=n, ids=ids), models, data=data, split=split)
    table.notes += selection.notes()
    return table
