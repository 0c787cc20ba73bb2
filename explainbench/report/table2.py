"""Table 2 of the paper across datasets: one section per dataset, one row per model, one table per family.

The numbers, bold best values, the Improvement (%) row and its significance marks all come from the
runner's `explainbench.runner.compare.build_table` (the code behind `explainbench compare`), one
call per dataset; this module only lays several datasets out as the paper does and splits the metric
families into separately labelled tables, which never share a column:

- "ref": the reference-code text metrics the paper prints (BLEU-1/4, ROUGE-1 and ROUGE-L P/R/F);
- "std": the standard implementations (sacreBLEU, rouge-score ROUGE-1/2/L F, NLTK METEOR, distinct-n);
- "explain": explainability, rating and (synthetic data) specificity metrics, and the measures of the
  studies since 2022 (feature precision/recall/F1, feature hallucination, sentiment alignment,
  repetition; metrics/explain.py).

Ablation variants of `against` (models named `<against>-...`) are left to Table 3 unless --models
names them. Models that read the test record's ground-truth feature (Explainer.takes_feature) are
marked with a dagger: they solve an easier task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from explainbench.report.sources import RunSource, require_runs
from explainbench.report.tables import Cell, Column, ReportError, Row, Section, Table
from explainbench.runner.compare import (
    RECENT_COLUMNS,
    CompareError,
    CompareTable,
    build_table,
    lower_is_better,
)
from explainbench.runner.compare import Cell as CompareCell
from explainbench.runner.select import Rules

FAMILY_COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("bleu1", "bleu4", "rouge1_p", "rouge1_r", "rouge1_f", "rougeL_p", "rougeL_r", "rougeL_f"),
    "std": ("sacrebleu", "rs_rouge1", "rs_rouge2", "rs_rougeL", "meteor", "distinct1", "distinct2"),
    "explain": (
        "usr", "fmr", "fcr", "div", "rmse", "mae", "spec_aspect", "spec_detail",
        "feat_p", "feat_r", "feat_f", "hal_feat", "hal_sent", "hal_mean", "sent_rating", "sent_ref",
        "rep_l", "seq_rep_2", "top_share",
    ),
}
# which family of `explainbench compare` holds each column set
COMPARE_FAMILY = {"ref": "ref", "std": "std", "explain": "explain"}
FAMILY_TITLES = {
    "ref": "reference-compatible text metrics (x100; the numbers PETER, NETE, NRT and Att2Seq publish)",
    "std": "standard text metrics (sacreBLEU, rouge-score, NLTK METEOR x100; distinct-n as a ratio)",
    "explain": "explainability, rating and specificity metrics",
}
LABELS = {
    "bleu1": "BLEU-1",
    "bleu4": "BLEU-4",
    "rouge1_p": "ROUGE-1 P",
    "rouge1_r": "ROUGE-1 R",
    "rouge1_f": "ROUGE-1 F",
    "rougeL_p": "ROUGE-L P",
    "rougeL_r": "ROUGE-L R",
    "rougeL_f": "ROUGE-L F",
    "sacrebleu": "sacreBLEU",
    "rs_rouge1": "ROUGE-1",
    "rs_rouge2": "ROUGE-2",
    "rs_rougeL": "ROUGE-L",
    "meteor": "METEOR",
    "distinct1": "Distinct-1",
    "distinct2": "Distinct-2",
    "usr": "USR",
    "fmr": "FMR",
    "fcr": "FCR",
    "div": "DIV ↓",
    "rmse": "RMSE ↓",
    "mae": "MAE ↓",
    "spec_aspect": "Aspect",
    "spec_detail": "Detail",
    "feat_p": "Feat P",
    "feat_r": "Feat R",
    "feat_f": "Feat F1",
    "hal_feat": "Halluc. ↓",
    "hal_sent": "Halluc. sent. ↓",
    "hal_mean": "Halluc. mean ↓",
    "sent_rating": "Sent.=rating",
    "sent_ref": "Sent.=ref",
    "rep_l": "rep/l ↓",
    "seq_rep_2": "seq-rep-2 ↓",
    "top_share": "Top sent. ↓",
}
FEATURE_MARK = "†"


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def decimals(metric: str) -> int:
    """3 decimals for ratios and errors (USR, FMR, FCR, distinct-n, specificity, DIV, RMSE, MAE), else 2."""
    if metric in ("usr", "fmr", "fcr", "distinct1", "distinct2", "spec_aspect", "spec_detail"):
        return 3
    if metric in RECENT_COLUMNS:
        return 3
    if metric in ("rmse", "mae", "div"):
        return 3
    return 2


def format_cell(metric: str, cell: CompareCell) -> str:
    """"12.34 ± 0.56" (mean ± sample std over splits), "12.34" for one split, "-" for no value."""
    if cell.mean is None:
        return "-"
    d = decimals(metric)
    text = f"{cell.mean:.{d}f}"
    if cell.std is not None:
        text += f" ± {cell.std:.{d}f}"
    return text


def takes_feature(model: str) -> bool:
    """Whether a registered explainer reads the ground-truth feature; False for unknown names."""
    try:
        from explainbench.api.registry import get_explainer

        return bool(getattr(get_explainer(model), "takes_feature", False))
    except Exception:  # an uninstalled plugin or a broken import must not stop a report
        return False


@dataclass
class Table2Options:
    """What to compare; see build_table2."""

    datasets: list[str]
    models: list[str] | None = None
    splits: list[int] | None = None
    against: str | None = None
    families: tuple[str, ...] = ("ref", "std", "explain")
    alpha: float = 0.05
    test_n: int = 1000
    test_seed: int = 0
    rules: Rules | None = None
    correction: str = "holm"


def model_order(
    tables: Sequence[CompareTable], against: str | None, given: Sequence[str] | None
) -> list[str]:
    """Row order shared by every section: --models as given, else ascending mean of the first
    reference column over the datasets (as the paper lists weaker models first), `against` last."""
    if given:
        return list(given)
    scores: dict[str, list[float]] = {}
    for t in tables:
        first = t.columns[0] if t.columns else None
        for r in t.rows:
            cell = r.cells.get(first) if first else None
            scores.setdefault(r.model, [])
            if cell is not None and cell.mean is not None:
                scores[r.model].append(cell.mean)

    def key(m: str) -> tuple[int, float, str]:
        vals = scores[m]
        return (1 if m == against else 0, sum(vals) / len(vals) if vals else float("-inf"), m)

    return sorted(scores, key=key)


def default_models(source: RunSource, data: str, against: str | None) -> list[str]:
    """Every model with runs on data, except ablation variants of `against` (Table 3 shows those)."""
    models = source.models(data)
    if against:
        models = [m for m in models if not m.startswith(f"{against}-")]
    return models


def compare_tables(source: RunSource, options: Table2Options, family: str) -> list[CompareTable]:
    """One `build_table` per dataset for the compare family that holds `family`'s columns."""
    out = []
    for data in options.datasets:
        runs = require_runs(source, data, options.models)
        models = options.models or default_models(source, data, options.against)
        against = options.against if options.against in models else None
        try:
            out.append(
                build_table(
                    source.root,
                    data,
                    models=models,
                    splits=options.splits,
                    against=against,
                    family=COMPARE_FAMILY[family],
                    alpha=options.alpha,
                    test_n=options.test_n,
                    test_seed=options.test_seed,
                    runs=runs,
                    rules=options.rules,
                    correction=options.correction,
                )
            )
        except CompareError as exc:
            raise ReportError(str(exc)) from None
    return out


def _improvement_cell(t: CompareTable, metric: str) -> Cell:
    value = t.improvement.get(metric)
    if value is None:
        return Cell("-")
    star = "*" if t.significant.get(metric) else ""
    return Cell(
        f"{value:+.2f}{star}",
        value=value,
        extra={
            "significant": bool(t.significant.get(metric)),
            "versus": t.best_other.get(metric),
            "p_values": {str(k): v for k, v in t.p_values.get(metric, {}).items()},
            "p_adjusted": {str(k): v for k, v in t.p_adjusted.get(metric, {}).items()},
            "correction": t.correction,
        },
    )


def family_table(
    compared: Sequence[CompareTable], family: str, options: Table2Options, order: Sequence[str] | None = None
) -> Table:
    """Lay out one family's columns of several datasets' CompareTables (the paper's Table 2).

    order: the row order (build_table2 passes one order to every family); default model_order.
    """
    present = {c for t in compared for c in t.columns}
    metrics = [m for m in FAMILY_COLUMNS[family] if m in present]
    if family == "explain":  # plugin metrics (compare puts them after the built-in explain columns)
        known = {m for cols in FAMILY_COLUMNS.values() for m in cols}
        metrics += sorted({c for t in compared for c in t.columns if c not in known})
    if not metrics:
        raise ReportError(f"no {family} metrics in these results files")
    order = list(order) if order is not None else model_order(compared, options.against, options.models)
    sections: list[Section] = []
    marked = False
    for t in compared:
        rows: list[Row] = []
        by_model = {r.model: r for r in t.rows}
        for model in order:
            r = by_model.get(model)
            if r is None:
                continue
            cells = {}
            for m in metrics:
                c = r.cells.get(m)
                if c is None:
                    continue
                cells[m] = Cell(
                    format_cell(m, c),
                    value=c.mean,
                    std=c.std,
                    bold=c.best,
                    extra={"splits": {str(k): v for k, v in c.values.items()}},
                )
            note = FEATURE_MARK if takes_feature(model) else ""
            marked = marked or bool(note)
            rows.append(Row(model, cells, note=note))
        if t.against and t.improvement:
            rows.append(Row("Improvement (%)", {m: _improvement_cell(t, m) for m in metrics}, kind="summary"))
        sections.append(Section(t.dataset, rows))
    notes = ["Mean over the splits each model ran (± sample std where several); best per column in bold."]
    if options.against and any(t.against for t in compared):
        test = next(t.test for t in compared if t.test)
        notes.append(
            f"Improvement (%): {options.against} over the best other model in each column (positive = "
            f"{options.against} better); * p < {options.alpha:g} on every split both ran and every split's "
            f"difference in the same direction ({test})."
        )
        holm = next((n for t in compared for n in t.footnotes if n.startswith("Significance: Holm")), None)
        if holm:
            notes.append(holm)
    for t in compared:
        own = [n for n in t.footnotes if not n.startswith(("Improvement (%)", "Significance:"))]
        notes += [f"{t.dataset}: {n}" for n in own]
    if marked:
        notes.append(f"{FEATURE_MARK} given the test record's ground-truth feature (an easier task).")
    title = f"Table 2 ({family}): {FAMILY_TITLES[family]}"
    return Table(f"table2-{family}", title, [Column(m, label(m)) for m in metrics], sections, notes=notes)


def build_table2(source: RunSource, options: Table2Options) -> list[Table]:
    """One Table per requested family (ref, std, explain), each with a section per dataset."""
    unknown = [f for f in options.families if f not in FAMILY_COLUMNS]
    if unknown:
        raise ReportError(f"unknown family {unknown[0]!r}; use {', '.join(FAMILY_COLUMNS)}")
    cache: dict[str, list[CompareTable]] = {}
    for family in options.families:
        key = COMPARE_FAMILY[family]
        if key not in cache:
            cache[key] = compare_tables(source, options, family)
    # one row order for every family: by BLEU-1 (the ref family's first column) where it was built
    order = model_order(cache.get("ref") or next(iter(cache.values())), options.against, options.models)
    out = []
    for family in options.families:
        key = COMPARE_FAMILY[family]
        present = {c for t in cache[key] for c in t.columns}
        if any(m in present for m in FAMILY_COLUMNS[family]):
            out.append(family_table(cache[key], family, options, order))
    if not out:
        raise ReportError("the results files hold none of the requested families' metrics")
    return out


def compare_view(t: CompareTable) -> Table:
    """One CompareTable as `explainbench compare` prints it: its own columns (short labels, ↑/↓), best in
    bold, the Improvement (%) row when --against was given, its footnotes (n and scale first) below."""
    from explainbench.runner.compare import LABELS as SHORT

    columns = [Column(c, f"{SHORT.get(c, c)}{'↓' if lower_is_better(c) else '↑'}") for c in t.columns]
    rows = []
    for r in t.rows:
        cells = {
            c: Cell(format_cell(c, cell), value=cell.mean, std=cell.std, bold=cell.best,
                    extra={"splits": {str(k): v for k, v in cell.values.items()}})
            for c, cell in r.cells.items()
        }
        rows.append(Row(r.model, cells))
    if t.against and t.improvement:
        rows.append(Row("Improvement (%)", {c: _improvement_cell(t, c) for c in t.columns}, kind="summary"))
    title = f"{t.dataset}: {t.family} metrics (mean ± std over splits where several)"
    return Table(f"compare-{t.family}", title, columns, [Section("", rows)], notes=list(t.footnotes))
