"""`explainbench report`: one self-contained HTML page with the paper's tables, figures and examples.

Everything is inside the file: tables as HTML, figures as SVG embedded as base64 data URIs (vector,
so the page prints sharply), a small print-friendly stylesheet, no scripts and no external requests.
Built from results files only (a home's runs or the leaderboard): Table 1 where the dataset's
statistics are available, Table 2 (three families, one section per dataset), Table 3 where ablation
variants of the compared model exist, Figure 5, Figure 6 where runs have training logs, Table 4.
"""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from explainbench import __version__
from explainbench.report.ablation import ablation_table
from explainbench.report.examples import build_examples
from explainbench.report.figures import buckets_figure, losses_figure
from explainbench.report.plots import find_train_log
from explainbench.report.sources import RunSource, require_runs
from explainbench.report.table1 import table1_from_source
from explainbench.report.table2 import Table2Options, build_table2, default_models
from explainbench.report.tables import ReportError, Table, render_html
from explainbench.runner.select import Rules

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #111; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; }
p.meta { color: #555; font-size: 0.9em; margin-top: 0; }
table.eb-table { border-collapse: collapse; margin: 1em 0 1.6em; font-size: 0.86em; }
table.eb-table caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.4em; }
table.eb-table th, table.eb-table td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }
table.eb-table thead th { border-bottom: 2px solid #333; background: #f3f6fa; }
table.eb-table .right { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.eb-table .left { text-align: left; }
table.eb-table tr.section th { background: #e8eef6; text-align: left; font-style: italic; }
table.eb-table tr.summary th, table.eb-table tr.summary td { border-top: 2px solid #333; font-style: italic; }
table.eb-table tfoot td { font-size: 0.85em; color: #444; border: none; }
u.feature { text-decoration-thickness: 2px; text-decoration-color: #D55E00; background: #fff3d6; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #333; }
p.note { color: #8a4b00; }
details { font-size: 0.85em; margin: 1em 0; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-before: always; }
  table.eb-table, figure { page-break-inside: avoid; } }
"""


@dataclass
class ReportOptions:
    """What goes into the page; see build_report."""

    datasets: list[str]
    models: list[str] | None = None
    against: str | None = "auto"  # "auto": mvae when it has runs, else no Improvement row
    split: int = 1  # split of the figures and examples
    bucket_metrics: tuple[str, ...] = ("bleu1", "rougeL_f")
    max_models: int = 4  # lines in Figure 5 and models in Table 4
    min_n: int = 5
    n_examples: int = 5
    test_n: int = 1000
    rules: Rules | None = None  # --run / --scale / --allow-mixed (explainbench.runner.select)
    correction: str = "holm"
    title: str = ""
    notes: list[str] = field(default_factory=list)


def _figure(paths: Sequence[Path], caption: str, fig_id: str) -> str:
    svg = next(p for p in paths if p.suffix == ".svg")
    data = base64.b64encode(svg.read_bytes()).decode("ascii")
    return (
        f'<figure id="{fig_id}"><img alt="{html.escape(caption)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(table: Table) -> str:
    return render_html(table)


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _against(source: RunSource, data: str, against: str | None) -> str | None:
    models = source.models(data)
    if against == "auto":
        return "mvae" if "mvae" in models else None
    return against if against in models else None


def _top_models(source: RunSource, data: str, options: ReportOptions, against: str | None) -> list[str]:
    """Models for Figure 5 and Table 4: --models, else the compared model plus the best by BLEU-1."""
    latest = source.latest(data, splits=[options.split], rules=options.rules)
    candidates = options.models or default_models(source, data, against)
    candidates = [m for m in candidates if (m, options.split) in latest]

    def score(m: str) -> float:
        entry = latest[(m, options.split)].results.get("metrics", {}).get("bleu1") or {}
        return float(entry.get("value") or 0.0)

    if options.models:
        return candidates[: max(options.max_models, len(candidates))]
    ranked = sorted(candidates, key=lambda m: (-score(m), m))
    chosen = ([against] if against in ranked else []) + [m for m in ranked if m != against]
    return chosen[: options.max_models]


def _figure5(source: RunSource, data: str, models: list[str], options: ReportOptions, tmp: Path) -> str:
    try:
        fig = buckets_figure(
            source,
            data,
            models,
            options.bucket_metrics,
            tmp / f"fig5-{data}",
            split=options.split,
            min_n=options.min_n,
            rules=options.rules,
        )
    except ReportError as exc:
        return _note(f"Figure 5 left out: {exc}")
    caption = (
        f"Figure 5: {', '.join(options.bucket_metrics)} against the user's training samples on {data} "
        f"(split {options.split}); bands are 95% bootstrap CIs, dashed lines weighted least-squares trends."
    )
    return _figure(fig.paths, caption, f"fig5-{data}")


def _figure6(source: RunSource, data: str, options: ReportOptions, tmp: Path) -> str:
    logs = []
    chosen = source.latest(data, splits=[options.split], rules=options.rules)
    for (model, _split), run in sorted(chosen.items()):
        if options.models and model not in options.models:
            continue
        try:
            logs.append(find_train_log(run.path))
        except ReportError:
            continue
    if not logs:
        return _note(
            "Figure 6 left out: no run on this split has a training log "
            "(reference explainers train no network)."
        )
    fig = losses_figure(
        logs,
        tmp / f"fig6-{data}",
        title=f"Figure 6: training and validation loss on {data} (split {options.split})",
    )
    return _figure(
        fig.paths,
        f"Figure 6: loss per epoch of every run with a training log on {data} (split {options.split}).",
        f"fig6-{data}",
    )


def _table4(source: RunSource, data: str, models: list[str], options: ReportOptions) -> str:
    try:
        return _table(build_examples(
            source, data, models, split=options.split, n=options.n_examples, rules=options.rules
        ))
    except ReportError as exc:
        return _note(f"Table 4 left out: {exc}")


def _header(source: RunSource, options: ReportOptions, title: str) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs = [
        r
        for d in options.datasets
        for r in sorted(source.latest(d, rules=options.rules).values(), key=lambda r: (r.model, r.split))
    ]
    items = "".join(
        f"<li>{html.escape(r.dataset)} / {html.escape(r.model)} / split {r.split}: run "
        f"{html.escape(r.run_id)} ({html.escape(str(r.path))})</li>"
        for r in runs
    )
    links = ", ".join(f'<a href="#ds-{html.escape(d)}">{html.escape(d)}</a>' for d in options.datasets)
    return (
        f'<h1>{html.escape(title)}</h1><p class="meta">explainbench {__version__}; results from '
        f"{html.escape(source.describe())}; generated {when}. Every number comes from the runs' results.json "
        f"and samples.jsonl files; nothing was trained or generated to make this page.</p>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in options.notes)
        + f"<p>Sections: {links}</p><details><summary>Runs read</summary><ul>{items}</ul></details>"
    )


def build_report(source: RunSource, options: ReportOptions, *, home: Path | None = None) -> str:
    """The HTML text of the report (figures are drawn in a temporary folder and embedded).

    Tables 1 and 2 cover every dataset; then, per dataset: Table 3 (when ablation variants of the
    compared model ran), Figure 5, Figure 6 and Table 4. A figure or table the runs cannot give is
    replaced by a note saying why, so one missing series never loses the whole page.
    """
    if not options.datasets:
        raise ReportError("--data: name at least one dataset")
    for data in options.datasets:
        require_runs(source, data, options.models)
    parts: list[str] = []
    table1, missing = table1_from_source(source, options.datasets, home)
    if table1 is not None:
        parts.append(_table(table1))
    if missing:
        parts.append(_note(f"Table 1 left out for {', '.join(missing)}: dataset not prepared here."))
    base_of = {d: _against(source, d, options.against) for d in options.datasets}
    if options.against == "auto":
        against = "mvae" if all(base_of[d] == "mvae" for d in options.datasets) else None
    else:
        against = options.against
    table2 = Table2Options(
        options.datasets,
        models=options.models,
        against=against,
        test_n=options.test_n,
        rules=options.rules,
        correction=options.correction,
    )
    parts += [_table(t) for t in build_table2(source, table2)]
    with tempfile.TemporaryDirectory(prefix="eb-report-") as tmp:
        for data in options.datasets:
            base = base_of[data]
            parts.append(f'<h2 id="ds-{html.escape(data)}">{html.escape(data)}</h2>')
            if base and any(m.startswith(f"{base}-") for m in source.models(data)):
                parts.append(_table(ablation_table(source, data, base=base, rules=options.rules)))
            models = _top_models(source, data, options, base)
            if models:
                parts.append(_figure5(source, data, models, options, Path(tmp)))
            parts.append(_figure6(source, data, options, Path(tmp)))
            if models:
                parts.append(_table4(source, data, models, options))
    title = options.title or f"explainbench report: {', '.join(options.datasets)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
        f"{_header(source, options, title)}\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def write_report(source: RunSource, options: ReportOptions, out: Path, *, home: Path | None = None) -> Path:
    """Build the report and write it atomically to out."""
    from explainbench.api.results import atomic_write_text

    text = build_report(source, options, home=home)
    atomic_write_text(Path(out), text)
    return Path(out)
