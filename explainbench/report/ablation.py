"""Table 3 of the paper: each ablation variant of a model with its relative drop against the model.

The paper prints, for MVAE-NoKL and MVAE-NoMLF on Yelp, "21.03 (↓1.82%)": the variant's score and
100 (base - variant) / |base|, the relative deterioration against MVAE, per metric (BLEU-1, BLEU-4,
ROUGE-1 F, ROUGE-L F, METEOR). The means over splits come from
`explainbench.runner.compare.build_table`, as in Table 2. A variant that scores higher than the base
is printed with ↑ and the relative gain. Variants are the models named `<base>-...` that have runs,
or those given with --models.
"""

from __future__ import annotations

from collections.abc import Sequence

from explainbench.report.sources import RunSource, require_runs
from explainbench.report.table2 import format_cell
from explainbench.report.tables import Cell, Column, ReportError, Row, Section, Table
from explainbench.runner.compare import Cell as CompareCell
from explainbench.runner.compare import CompareError, build_table, lower_is_better
from explainbench.runner.select import Rules

ABLATION_COLUMNS = ("bleu1", "bleu4", "rouge1_f", "rougeL_f", "meteor")
ABLATION_LABELS = {
    "bleu1": "BLEU-1",
    "bleu4": "BLEU-4",
    "rouge1_f": "ROUGE-1",
    "rougeL_f": "ROUGE-L",
    "meteor": "METEOR",
}


def relative_drop(base: float, variant: float, metric: str) -> float | None:
    """100 (base - variant) / |base| (sign turned for lower-is-better metrics); None when base is 0.

    Positive means the variant is worse (printed ↓), negative that it is better (printed ↑).
    """
    if base == 0:
        return None
    diff = (variant - base) if lower_is_better(metric) else (base - variant)
    return 100.0 * diff / abs(base)


def drop_text(drop: float | None) -> str:
    if drop is None:
        return ""
    arrow = "↓" if drop >= 0 else "↑"
    return f" ({arrow}{abs(drop):.2f}%)"


def ablation_table(
    source: RunSource,
    data: str,
    *,
    base: str = "mvae",
    variants: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    columns: Sequence[str] = ABLATION_COLUMNS,
    rules: Rules | None = None,
) -> Table:
    """Table 3 for one dataset: a row per variant (value and relative drop), the base model last."""
    require_runs(source, data, [base])
    names = list(variants) if variants else sorted(m for m in source.models(data) if m.startswith(f"{base}-"))
    names = [m for m in names if m != base]
    if not names:
        raise ReportError(
            f"no ablation variants of {base!r} on {data!r} under {source.describe()}; run e.g. "
            f"`explainbench run --model {base}-nokl --data {data}` or name them with --models"
        )
    models = [*names, base]
    runs = require_runs(source, data, models)
    cells: dict[str, dict[str, CompareCell]] = {m: {} for m in models}
    n_line = ""
    for family in ("ref", "std"):
        try:
            t = build_table(
                source.root, data, models=models, splits=splits, family=family, runs=runs, rules=rules
            )
        except CompareError as exc:
            raise ReportError(str(exc)) from None
        if t.selection is not None:
            n_line = t.selection.n_line()
        for r in t.rows:
            for metric, cell in r.cells.items():
                cells[r.model].setdefault(metric, cell)
    metrics = [m for m in columns if any(cells[x].get(m) is not None for x in models)]
    if not metrics:
        raise ReportError(f"the runs of {', '.join(models)} on {data!r} hold none of {', '.join(columns)}")
    rows = []
    for model in models:
        row: dict[str, Cell] = {}
        for metric in metrics:
            cell = cells[model].get(metric)
            base_cell = cells[base].get(metric)
            if cell is None or cell.mean is None:
                row[metric] = Cell("-")
                continue
            text = format_cell(metric, cell)
            drop = None
            if model != base and base_cell is not None and base_cell.mean is not None:
                drop = relative_drop(base_cell.mean, cell.mean, metric)
                text += drop_text(drop)
            row[metric] = Cell(
                text, value=cell.mean, std=cell.std, extra={} if drop is None else {"relative_drop_pct": drop}
            )
        rows.append(Row(model, row, kind="summary" if model == base else "data"))
    return Table(
        f"table3-{data}",
        f"Table 3: variants of {base} on {data}; (↓x%) is the relative drop against {base}",
        [Column(m, ABLATION_LABELS.get(m, m)) for m in metrics],
        [Section("", rows)],
        notes=[
            f"Relative drop = 100 ({base} - variant) / {base}, on the means over the splits each model ran "
            "(± sample std where several); ↑ marks a variant that scores higher.",
            *([f"{data}: {n_line}"] if n_line else []),
        ],
    )


def print_ablation(
    data: str,
    base: str,
    *,
    variants: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    fmt: str = "rich",
    rules: Rules | None = None,
) -> None:
    """`explainbench compare --ablation BASE`: Table 3 from $EXPLAINBENCH_HOME's runs, printed."""
    from explainbench.report.tables import check_format, print_tables

    check_format(fmt)
    print_tables([ablation_table(
        RunSource.home(), data, base=base, variants=variants, splits=splits, rules=rules
    )], fmt)
