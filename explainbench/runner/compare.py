"""The paper's Table 2 from finished runs only: one row per model, mean (± std) over splits.

Reads results.json (for the numbers) and samples.jsonl (for the paired test) of the run that
explainbench.runner.select chooses for every (model, split) (full before --limit runs, one test set per
split, one scale per table); never trains or generates. Both files are written atomically and
results.json last, so a run still in progress is simply not seen.

Improvement (%) of `against` over the best other model in a column is 100 * (a - b) / |b|, with the
sign turned for lower-is-better metrics (DIV, RMSE, MAE), so a positive number always means
`against` is better. The significance marker comes from explainbench.metrics.paired_test on the
samples of each split (`against` vs that column's best other model); a column is marked when the
p-value is below alpha on every split both models ran (the footnote says so). The p-values of the
columns tested on a split form one family: with correction "holm" (the default) they are
Holm-Bonferroni adjusted across those columns before the comparison with alpha.

This module builds the data only; explainbench.report renders it (runner/ never imports report/).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.runner.select import Rules, Selection, SelectionError, select_runs
from explainbench.runner.store import RunRecord, finished_runs

REF_COLUMNS = (
    "bleu1", "bleu4", "rouge1_p", "rouge1_r", "rouge1_f", "rougeL_p", "rougeL_r", "rougeL_f",
    "usr", "fmr", "fcr", "div", "rmse", "mae", "spec_aspect", "spec_detail",
)
STD_COLUMNS = (
    "sacrebleu", "rs_rouge1", "rs_rouge2", "rs_rougeL", "meteor", "distinct1", "distinct2",
    "usr", "fmr", "fcr", "div", "rmse", "mae", "spec_aspect", "spec_detail",
)
# the explain family of the metrics registry (metrics/explain.py): the measures reported since 2022
RECENT_COLUMNS = (
    "feat_p", "feat_r", "feat_f", "hal_feat", "hal_sent", "hal_mean", "sent_rating", "sent_ref",
    "rep_l", "seq_rep_2", "top_share",
)
EXPLAIN_COLUMNS = (
    "usr", "fmr", "fcr", "div", "rmse", "mae", "spec_aspect", "spec_detail", *RECENT_COLUMNS,
)
FAMILIES = {"ref": REF_COLUMNS, "std": STD_COLUMNS, "explain": EXPLAIN_COLUMNS}
LOWER_IS_BETTER = frozenset({"div", "rmse", "mae"})
CORRECTIONS = ("holm", "none")
LABELS = {
    "bleu1": "BLEU-1", "bleu4": "BLEU-4",
    "rouge1_p": "R1-P", "rouge1_r": "R1-R", "rouge1_f": "R1-F",
    "rouge2_p": "R2-P", "rouge2_r": "R2-R", "rouge2_f": "R2-F",
    "rougeL_p": "RL-P", "rougeL_r": "RL-R", "rougeL_f": "RL-F",
    "usr": "USR", "fmr": "FMR", "fcr": "FCR", "div": "DIV", "rmse": "RMSE", "mae": "MAE",
    "sacrebleu": "sacreBLEU", "rs_rouge1": "ROUGE-1", "rs_rouge2": "ROUGE-2", "rs_rougeL": "ROUGE-L",
    "meteor": "METEOR", "distinct1": "Dist-1", "distinct2": "Dist-2",
    "spec_aspect": "Asp", "spec_detail": "Det",
    "feat_p": "F-P", "feat_r": "F-R", "feat_f": "F-F1", "hal_feat": "Hal", "hal_sent": "Hal-S",
    "hal_mean": "Hal-M", "sent_rating": "Sent-R", "sent_ref": "Sent-Ref", "rep_l": "rep/l",
    "seq_rep_2": "seq-rep-2", "top_share": "Top",
}


def plugin_columns(runs: Iterable[RunRecord]) -> list[str]:
    """Names of the plugin metrics (results family "plugin") the runs hold, sorted."""
    return sorted(
        {name for r in runs for name, m in r.results["metrics"].items() if m.get("family") == "plugin"}
    )


class CompareError(ValueError):
    """Nothing to compare, or a request the finished runs cannot answer."""


def lower_is_better(metric: str) -> bool:
    """Direction of a metric: the metrics registry where it says, else the known lower-is-better set."""
    try:
        from explainbench.metrics import METRICS  # type: ignore[attr-defined]
    except ImportError:
        METRICS = {}  # noqa: N806
    spec = METRICS.get(metric) if isinstance(METRICS, dict) else None
    for attr in ("higher_is_better", "greater_is_better"):
        flag = getattr(spec, attr, None)
        if isinstance(flag, bool):
            return not flag
    return metric in LOWER_IS_BETTER


def _value(run: RunRecord, metric: str) -> float | None:
    entry = run.results.get("metrics", {}).get(metric)
    value = entry.get("value") if isinstance(entry, dict) else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


@dataclass
class Cell:
    """One model's value of one metric: mean over its splits and, where several, the sample std."""

    mean: float | None
    std: float | None
    values: dict[int, float]
    best: bool = False


@dataclass
class Row:
    model: str
    splits: list[int]
    run_ids: dict[int, str]
    cells: dict[str, Cell]


@dataclass
class CompareTable:
    """Everything a renderer needs; to_dict() is the `--format json` output."""

    dataset: str
    family: str
    columns: list[str]
    rows: list[Row]
    against: str | None = None
    improvement: dict[str, float | None] = field(default_factory=dict)
    best_other: dict[str, str | None] = field(default_factory=dict)
    p_values: dict[str, dict[int, float]] = field(default_factory=dict)  # as tested (uncorrected)
    p_adjusted: dict[str, dict[int, float]] = field(default_factory=dict)  # after `correction`
    significant: dict[str, bool] = field(default_factory=dict)
    alpha: float = 0.05
    test: str = ""
    correction: str = "holm"
    footnotes: list[str] = field(default_factory=list)
    selection: Selection | None = None

    def label(self, metric: str) -> str:
        return LABELS.get(metric, metric)

    def row(self, model: str) -> Row:
        for r in self.rows:
            if r.model == model:
                return r
        raise KeyError(model)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "family": self.family,
            "columns": [{"metric": c, "label": self.label(c), "lower_is_better": lower_is_better(c)}
                        for c in self.columns],
            "rows": [
                {
                    "model": r.model,
                    "splits": r.splits,
                    "run_ids": {str(k): v for k, v in r.run_ids.items()},
                    "metrics": {
                        c: {"mean": cell.mean, "std": cell.std, "best": cell.best,
                            "splits": {str(k): v for k, v in cell.values.items()}}
                        for c, cell in r.cells.items()
                    },
                }
                for r in self.rows
            ],
            "against": self.against,
            "improvement_pct": self.improvement,
            "best_other": self.best_other,
            "p_values": {m: {str(k): v for k, v in ps.items()} for m, ps in self.p_values.items()},
            "p_adjusted": {m: {str(k): v for k, v in ps.items()} for m, ps in self.p_adjusted.items()},
            "significant": self.significant,
            "alpha": self.alpha,
            "test": self.test,
            "correction": self.correction,
            "footnotes": self.footnotes,
            "selection": None if self.selection is None else selection_dict(self.selection),
        }


def selection_dict(selection: Selection) -> dict[str, Any]:
    """The chosen runs' scale and n per split, and the runs left out (JSON output)."""
    from explainbench.runner.select import describe_run

    return {
        "scale": selection.scale,
        "n": {str(k): v for k, v in selection.n_by_split().items()},
        "line": selection.n_line(),
        "mixed": list(selection.mixed),
        "left_out": [{"run_id": r.run_id, "model": r.model, "split": r.split, "run": describe_run(r),
                      "why": why} for r, why in selection.left_out],
    }


def _cell(values: dict[int, float]) -> Cell:
    if not values:
        return Cell(None, None, {})
    numbers = list(values.values())
    std = statistics.stdev(numbers) if len(numbers) > 1 else None
    return Cell(statistics.fmean(numbers), std, dict(sorted(values.items())))


def _best_model(rows: Sequence[Row], metric: str, exclude: str | None = None) -> str | None:
    candidates = [(r.cells[metric].mean, r.model) for r in rows
                  if r.model != exclude and r.cells[metric].mean is not None]
    if not candidates:
        return None
    sign = 1.0 if lower_is_better(metric) else -1.0
    return min(candidates, key=lambda mv: (sign * mv[0], mv[1]))[1]


def improvement_pct(a: float, b: float, metric: str) -> float | None:
    """100 * (a - b) / |b|, sign turned for lower-is-better metrics; None when b is 0."""
    if b == 0:
        return None
    diff = (b - a) if lower_is_better(metric) else (a - b)
    return 100.0 * diff / abs(b)


def build_table(
    home: Path,
    data: str,
    *,
    models: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    against: str | None = None,
    family: str = "ref",
    alpha: float = 0.05,
    test_method: str = "bootstrap",
    test_n: int = 1000,
    test_seed: int = 0,
    runs: Sequence[RunRecord] | None = None,
    rules: Rules | None = None,
    correction: str = "holm",
) -> CompareTable:
    """Choose one finished run per (model, split) (explainbench.runner.select) and build the comparison.

    runs: finished runs found elsewhere (e.g. the committed leaderboard/) instead of home's runs/.
    rules: --run / --scale / --allow-mixed overrides of the selection. correction: "holm" or "none".
    """
    if family not in FAMILIES:
        raise CompareError(f"unknown family {family!r}; use one of {', '.join(FAMILIES)}")
    if correction not in CORRECTIONS:
        raise CompareError(f"--correction {correction!r}: use one of {', '.join(CORRECTIONS)}")
    found = finished_runs(home, data, models=models, splits=splits) if runs is None else [
        r for r in runs if r.dataset == data and (models is None or r.model in models)
        and (splits is None or r.split in splits)]
    try:
        selection = select_runs(found, rules)
    except SelectionError as exc:
        raise CompareError(f"{data}: {exc}") from None
    runs = selection.chosen
    if not runs:
        what = f" for models {', '.join(models)}" if models else ""
        where = f" on splits {', '.join(map(str, splits))}" if splits else ""
        raise CompareError(
            f"no finished runs of dataset {data!r}{what}{where} under {Path(home) / 'runs'}; "
            f"run `explainbench run --model NAME --data {data}` first"
        )
    by_model: dict[str, dict[int, RunRecord]] = {}
    for (model, split), run in sorted(runs.items()):
        by_model.setdefault(model, {})[split] = run
    if models is not None:
        missing = [m for m in models if m not in by_model]
        if missing:
            raise CompareError(f"no finished runs of {', '.join(missing)} on {data!r}; run them first")
    if against is not None and against not in by_model:
        raise CompareError(
            f"--against {against!r} has no finished run on {data!r}; models with runs: {', '.join(by_model)}"
        )
    present = {m for runs_of in by_model.values() for r in runs_of.values() for m in r.results["metrics"]}
    columns = [c for c in FAMILIES[family] if c in present]
    if family == "explain":  # metrics of plugin packages (family "plugin"), after the built-in ones
        columns += plugin_columns(r for runs_of in by_model.values() for r in runs_of.values())
    order = list(models) if models is not None else sorted(by_model)
    rows = []
    for model in order:
        runs_of = by_model[model]
        cells = {}
        for metric in columns:
            values = {k: v for k, run in runs_of.items() if (v := _value(run, metric)) is not None}
            cells[metric] = _cell(values)
        rows.append(Row(model, sorted(runs_of), {k: r.run_id for k, r in sorted(runs_of.items())}, cells))
    columns = [c for c in columns if any(r.cells[c].mean is not None for r in rows)]
    for metric in columns:
        best = _best_model(rows, metric)
        best_value = next(r.cells[metric].mean for r in rows if r.model == best)
        for r in rows:
            r.cells[metric].best = r.cells[metric].mean is not None and r.cells[metric].mean == best_value
    table = CompareTable(data, family, columns, rows, against=against, alpha=alpha, correction=correction,
                         selection=selection)
    table.footnotes += selection.notes()
    split_sets = {tuple(r.splits) for r in rows}
    if len(split_sets) > 1:
        table.footnotes.append(
            "models ran on different splits: " + "; ".join(f"{r.model} {r.splits}" for r in rows)
        )
    if against is not None and len(rows) > 1:
        _against(table, by_model, alpha, test_method, test_n, test_seed)
    return table


def _against(
    table: CompareTable,
    by_model: dict[str, dict[int, RunRecord]],
    alpha: float,
    method: str,
    n: int,
    seed: int,
) -> None:
    from explainbench.metrics import paired_test

    against = table.against
    assert against is not None
    mine = table.row(against)
    tests: dict[tuple[str, int], dict[str, float]] = {}
    mismatched: set[str] = set()
    for metric in table.columns:
        other = _best_model(table.rows, metric, exclude=against)
        table.best_other[metric] = other
        a, b = mine.cells[metric].mean, None if other is None else table.row(other).cells[metric].mean
        table.improvement[metric] = None if a is None or b is None else improvement_pct(a, b, metric)
        if other is None or a is None:
            continue
        common = sorted(set(by_model[against]) & set(by_model[other]))
        p_by_split: dict[int, float] = {}
        for split in common:
            key = (other, split)
            if key not in tests:
                sa = by_model[against][split].samples()
                sb = by_model[other][split].samples()
                if [(s.user_id, s.item_id) for s in sa] != [(s.user_id, s.item_id) for s in sb]:
                    mismatched.add(f"{other} split {split}")
                    tests[key] = {}
                else:
                    results = by_model[against][split].results
                    lo, hi = results.get("rating_range") or (1.0, 5.0)
                    tests[key] = dict(paired_test(
                        sa, sb, method=method, n=n, seed=seed, rating_range=(float(lo), float(hi)),
                        meteor="meteor" in table.columns,
                    ))
            p = tests[key].get(metric)
            if p is not None and not math.isnan(p):
                p_by_split[split] = float(p)
        table.p_values[metric] = p_by_split
    table.p_adjusted = _adjust(table.p_values, table.correction)
    for metric in table.columns:
        adjusted = table.p_adjusted.get(metric) or {}
        below = bool(adjusted) and max(adjusted.values()) < alpha
        table.significant[metric] = below and _one_direction(table, mine, metric, adjusted)
    kind = "paired bootstrap" if method == "bootstrap" else "paired approximate randomisation"
    table.test = f"{kind} (n={n}, seed {seed}) on each split's test samples"
    table.footnotes.append(
        f"Improvement (%): {against} over the best other model in each column (positive = {against} better). "
        f"* p < {alpha:g} on every split both ran, each split's difference in the same direction, "
        f"{table.test}, {against} vs that model."
    )
    table.footnotes.append(correction_note(table))
    if mismatched:
        table.footnotes.append(
            "no paired test where the test samples differ (different --limit?): "
            + ", ".join(sorted(mismatched))
        )


def _one_direction(table: CompareTable, mine: Row, metric: str, splits: dict[int, float]) -> bool:
    """Whether on every tested split `against` differs from the best other model in the direction of
    the mean improvement: a two-sided test significant on every split says nothing when one split
    goes the other way."""
    improvement = table.improvement.get(metric)
    other = table.best_other.get(metric)
    if not improvement or other is None:
        return False
    theirs = table.row(other).cells[metric].values
    sign = 1.0 if improvement > 0 else -1.0
    for split in splits:
        a, b = mine.cells[metric].values.get(split), theirs.get(split)
        if a is None or b is None:
            return False
        delta = (b - a) if lower_is_better(metric) else (a - b)
        if delta * sign <= 0:
            return False
    return True


def _adjust(p_values: dict[str, dict[int, float]], correction: str) -> dict[str, dict[int, float]]:
    """Per split, Holm-Bonferroni across the columns tested on it (correction "holm"), else a copy."""
    if correction == "none":
        return {m: dict(ps) for m, ps in p_values.items()}
    from explainbench.metrics.significance import holm_adjust

    out: dict[str, dict[int, float]] = {m: {} for m in p_values}
    for split in sorted({k for ps in p_values.values() for k in ps}):
        metrics = [m for m, ps in p_values.items() if split in ps]
        for m, p in zip(metrics, holm_adjust([p_values[m][split] for m in metrics]), strict=True):
            out[m][split] = p
    return out


def correction_note(table: CompareTable) -> str:
    """The line under a table that says how its significance marks were corrected."""
    if table.correction == "none":
        return "Significance: no correction for testing several columns (--correction none)."
    tested = max((sum(1 for ps in table.p_values.values() if k in ps)
                  for k in {k for ps in table.p_values.values() for k in ps}), default=0)
    return (f"Significance: Holm-Bonferroni adjusted across the {tested} columns tested on each split "
            f"({table.family} family; --correction none for raw p-values).")
