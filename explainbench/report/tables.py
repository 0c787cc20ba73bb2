"""One table model for every table of the paper, and its renderers: rich, Markdown, LaTeX, HTML, JSON.

A builder (table1.py, table2.py, ablation.py, examples.py) turns results files into a `Table`: the
numbers are formatted once there, so every renderer prints the same text and `--format json` carries
the unformatted values beside it. A table has a stub column (row labels, e.g. the model), data
columns, and sections (one per dataset in Table 2, the paper's layout); a row of kind "summary" (the
paper's "Improvement (%)" row) is set off by a rule. A cell may be bold (best in its column) and may
name words to highlight (Table 4's feature words, underlined as in the paper).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("rich", "markdown", "latex", "html", "json")


class ReportError(ValueError):
    """A table, figure or report that the results on disk cannot give (the message says what to run)."""


@dataclass
class Cell:
    """One formatted value. value/std/ci keep the numbers behind text for JSON output."""

    text: str
    value: float | None = None
    std: float | None = None
    bold: bool = False
    highlight: tuple[str, ...] = ()  # whole words of text to highlight (feature words)
    extra: dict[str, Any] = field(default_factory=dict)  # anything else a JSON reader needs

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.value is not None:
            out["value"] = self.value
        if self.std is not None:
            out["std"] = self.std
        if self.bold:
            out["bold"] = True
        if self.highlight:
            out["highlight"] = list(self.highlight)
        out.update(self.extra)
        return out


@dataclass
class Column:
    key: str
    label: str
    align: str = "right"  # "right" for numbers, "left" for text


@dataclass
class Row:
    """A labelled row; kind "summary" rows (Improvement (%)) are separated from the data rows."""

    label: str
    cells: dict[str, Cell]
    kind: str = "data"  # data | summary
    note: str = ""  # a short mark after the label (e.g. "†" for models given the feature)

    @property
    def display_label(self) -> str:
        return f"{self.label} {self.note}".strip()


@dataclass
class Section:
    """A group of rows under a heading (the dataset in Table 2); title "" prints no heading."""

    title: str
    rows: list[Row]


@dataclass
class Table:
    """A titled table: stub header, data columns, sections of rows, notes printed under it."""

    key: str  # a stable id: "table1", "table2-ref", ... (HTML id, JSON key)
    title: str
    columns: list[Column]
    sections: list[Section]
    stub: str = "Model"
    stub_align: str = "left"
    notes: list[str] = field(default_factory=list)

    def rows(self) -> Iterable[Row]:
        for section in self.sections:
            yield from section.rows

    def cell(self, section: str, row: str, column: str) -> Cell:
        """The cell of row label `row` in section `section` (tests and callers look numbers up)."""
        for s in self.sections:
            if s.title == section:
                for r in s.rows:
                    if r.label == row:
                        return r.cells[column]
        raise KeyError((section, row, column))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "stub": self.stub,
            "columns": [{"key": c.key, "label": c.label} for c in self.columns],
            "sections": [
                {
                    "title": s.title,
                    "rows": [
                        {
                            "label": r.label,
                            "kind": r.kind,
                            **({"note": r.note} if r.note else {}),
                            "cells": {k: c.to_dict() for k, c in r.cells.items()},
                        }
                        for r in s.rows
                    ],
                }
                for s in self.sections
            ],
            "notes": list(self.notes),
        }


def _empty() -> Cell:
    return Cell("-")


def _cells(table: Table, row: Row) -> list[Cell]:
    return [row.cells.get(c.key) or _empty() for c in table.columns]


def _words(cell: Cell, mark: Any, plain: Any) -> str:
    """cell.text word by word (split on spaces): highlighted words through mark(), others plain()."""
    if not cell.highlight:
        return plain(cell.text)
    wanted = {w.lower() for w in cell.highlight}
    return " ".join(mark(w) if w.lower() in wanted else plain(w) for w in cell.text.split(" "))


# -- Markdown ------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _md_cell(cell: Cell) -> str:
    text = _words(cell, lambda w: f"<ins>{_md_escape(w)}</ins>", _md_escape)
    return f"**{text}**" if cell.bold and text not in ("", "-") else text


def render_markdown(table: Table) -> str:
    """GitHub Markdown: bold title line, one pipe table, section titles as bold rows, notes below."""
    align = {"left": ":---", "right": "---:", "center": ":---:"}
    head = [table.stub, *[c.label for c in table.columns]]
    lines = [
        "| " + " | ".join(_md_escape(h) for h in head) + " |",
        "| " + " | ".join([align[table.stub_align], *[align[c.align] for c in table.columns]]) + " |",
    ]
    for section in table.sections:
        if section.title:
            lines.append(
                "| " + " | ".join([f"**{_md_escape(section.title)}**"] + [""] * len(table.columns)) + " |"
            )
        for row in section.rows:
            label = _md_escape(row.display_label)
            if row.kind == "summary":
                label = f"*{label}*"
            lines.append("| " + " | ".join([label, *[_md_cell(c) for c in _cells(table, row)]]) + " |")
    out = f"**{_md_escape(table.title)}**\n\n" + "\n".join(lines) + "\n"
    for note in table.notes:
        out += f"\n{note}\n"
    return out


# -- LaTeX ---------------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    out = "".join(_LATEX.get(ch, ch) for ch in text)
    return (
        out.replace("±", r"$\pm$")
        .replace("↓", r"$\downarrow$")
        .replace("↑", r"$\uparrow$")
        .replace("†", r"$^\dagger$")
    )


def _latex_cell(cell: Cell) -> str:
    text = _words(cell, lambda w: rf"\underline{{{latex_escape(w)}}}", latex_escape)
    return rf"\textbf{{{text}}}" if cell.bold and cell.text not in ("", "-") else text


def render_latex(table: Table) -> str:
    """A booktabs table (needs \\usepackage{booktabs}); sections as italic spanning rows."""
    spec = {"left": "l", "right": "r", "center": "c"}
    n_text = sum(c.align == "left" for c in table.columns)
    text_width = f"p{{{0.75 / max(n_text, 1):.2f}\\linewidth}}"
    cols = spec[table.stub_align] + "".join(
        (text_width if c.align == "left" else spec[c.align]) for c in table.columns
    )
    width = len(table.columns) + 1
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in [table.stub, *[c.label for c in table.columns]]) + r" \\",
        r"\midrule",
    ]
    for n, section in enumerate(table.sections):
        if section.title:
            if n:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{width}}}{{l}}{{\textit{{{latex_escape(section.title)}}}}} \\")
        for row in section.rows:
            if row.kind == "summary":
                lines.append(r"\cmidrule(l){2-" + str(width) + "}")
            label = latex_escape(row.display_label)
            lines.append(" & ".join([label, *[_latex_cell(c) for c in _cells(table, row)]]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    caption = latex_escape(table.title)
    if table.notes:
        caption += " " + " ".join(latex_escape(n) for n in table.notes)
    lines += [rf"\caption{{{caption}}}", rf"\label{{tab:{table.key}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# -- HTML ----------------------------------------------------------------------------------------


def _html_cell(cell: Cell, tag: str, align: str) -> str:
    text = _words(cell, lambda w: f'<u class="feature">{html.escape(w)}</u>', html.escape)
    if cell.bold and cell.text not in ("", "-"):
        text = f"<strong>{text}</strong>"
    return f'<{tag} class="{align}">{text}</{tag}>'


def render_html(table: Table) -> str:
    """A <table> element (id = table.key) with caption, one <tbody> per section, notes as <tfoot>."""
    width = len(table.columns) + 1
    out = [
        f'<table class="eb-table" id="{html.escape(table.key)}">',
        f"<caption>{html.escape(table.title)}</caption>",
        "<thead><tr>",
        f'<th class="{table.stub_align}">{html.escape(table.stub)}</th>',
    ]
    out += [f'<th class="{c.align}">{html.escape(c.label)}</th>' for c in table.columns]
    out.append("</tr></thead>")
    for section in table.sections:
        out.append("<tbody>")
        if section.title:
            out.append(f'<tr class="section"><th colspan="{width}">{html.escape(section.title)}</th></tr>')
        for row in section.rows:
            out.append(f'<tr class="{row.kind}">')
            out.append(f'<th class="{table.stub_align}">{html.escape(row.display_label)}</th>')
            out += [
                _html_cell(c, "td", col.align)
                for c, col in zip(_cells(table, row), table.columns, strict=True)
            ]
            out.append("</tr>")
        out.append("</tbody>")
    if table.notes:
        out.append("<tfoot>")
        out += [f'<tr><td colspan="{width}">{html.escape(n)}</td></tr>' for n in table.notes]
        out.append("</tfoot>")
    out.append("</table>")
    return "\n".join(out) + "\n"


# -- rich ----------------------------------------------------------------------------------------


def render_rich(table: Table) -> Any:
    """A rich.table.Table: bold best values, underlined feature words, sections split by rules."""
    from rich.markup import escape
    from rich.table import Table as RichTable

    out = RichTable(
        title=table.title, caption="\n".join(escape(n) for n in table.notes) or None, caption_justify="left"
    )
    out.add_column(table.stub, style="cyan", justify=table.stub_align)
    for c in table.columns:
        out.add_column(c.label, justify=c.align, overflow="fold")
    for n, section in enumerate(table.sections):
        if n:
            out.add_section()
        if section.title:
            title = f"[bold magenta]{escape(section.title)}[/bold magenta]"
            if len(table.columns) == 1 and not table.stub:  # a text table: the title fits the wide column
                out.add_row("", title)
            else:
                out.add_row(title, *[""] * len(table.columns))
        for row in section.rows:
            if row.kind == "summary":
                out.add_section()
            cells = []
            for cell in _cells(table, row):
                text = _words(cell, lambda w: f"[underline yellow]{escape(w)}[/underline yellow]", escape)
                cells.append(f"[bold]{text}[/bold]" if cell.bold and cell.text not in ("", "-") else text)
            out.add_row(escape(row.display_label), *cells)
    return out


# -- JSON and dispatch ---------------------------------------------------------------------------


def render_json(tables: Table | list[Table]) -> str:
    """One table as an object, several as a list (strict JSON, NaN never written)."""
    from explainbench.api.results import json_safe

    payload = tables.to_dict() if isinstance(tables, Table) else [t.to_dict() for t in tables]
    return json.dumps(json_safe(payload), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ReportError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def render_text(tables: list[Table], fmt: str) -> str:
    """Tables in a text format (markdown, latex, html, json), separated by a blank line; JSON gives one
    object for one table and a list for several."""
    check_format(fmt)
    if fmt == "json":
        return render_json(tables[0] if len(tables) == 1 else tables)
    render = {"markdown": render_markdown, "latex": render_latex, "html": render_html}.get(fmt)
    if render is None:
        raise ReportError("rich output is printed to a console, not rendered to text")
    return "\n".join(render(t) for t in tables)


def print_tables(tables: list[Table], fmt: str) -> None:
    """Print tables to stdout: rich tables to a console (wide when piped), other formats as text."""
    import typer
    from rich.console import Console

    if check_format(fmt) == "rich":
        console = Console()
        if not console.is_terminal:
            console = Console(width=250)
        for t in tables:
            console.print(render_rich(t))
    else:
        typer.echo(render_text(tables, fmt), nl=False)
