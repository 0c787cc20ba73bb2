"""`explainbench report`: one self-contained HTML page; a reader (Chromium when installed, else Python's
html.parser) finds the tables with the numbers of the results files and the embedded figures."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_fixtures import DATA, report_home, results_of
from typer.testing import CliRunner

from explainbench.cli.main import app

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class Page(HTMLParser):
    """Tables (id -> rows of cell texts), images (src), and every external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.external: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag in ("script", "link", "iframe"):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def load_page(path: Path) -> str:
    """The DOM as a browser builds it (chromium --dump-dom) where Chromium is installed, else the file."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", path.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    home = report_home(tmp_path_factory)
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--data", DATA, "-o", str(out)], env={"EXPLAINBENCH_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    return home, out


def test_the_page_holds_every_table_with_the_results_numbers(report):
    home, out = report
    page = Page()
    page.feed(load_page(out))
    assert set(page.tables) >= {
        "table1",
        "table2-ref",
        "table2-std",
        "table2-explain",
        f"table3-{DATA}",
        f"table4-{DATA}",
    }
    rows = {r[0]: r[1:] for r in page.tables["table2-ref"] if r}
    header = rows.pop("Model")
    assert header[:2] == ["BLEU-1", "BLEU-4"]
    for model in ("random-train", "global-popular", "item-popular", "mvae"):
        values = [results_of(home, model, k)["metrics"]["bleu1"]["value"] for k in (1, 2)]
        mean = sum(values) / 2
        assert rows[model][0].startswith(f"{mean:.2f} ± ")
    assert "Improvement (%)" in rows  # mvae has runs: the paper's improvement row
    ablation = {r[0]: r[1:] for r in page.tables[f"table3-{DATA}"] if r}
    assert set(ablation) >= {"mvae-nokl", "mvae-nomlf", "mvae"} and "%)" in ablation["mvae-nokl"][0]
    examples = page.tables[f"table4-{DATA}"]
    assert sum(1 for r in examples if r and r[0] == "Reference") == 5


def test_the_page_is_self_contained_with_figures_as_svg(report):
    _, out = report
    text = out.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    assert page.external == []  # no scripts, stylesheets or links to fetch
    assert len(page.images) == 2  # Figure 5 and Figure 6 (the fixture's mvae runs have train logs)
    for src in page.images:
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        assert "<svg" in svg and re.search(r"Figure [56]", svg)
    assert 'id="fig5-synthetic-tiny"' in text and 'id="fig6-synthetic-tiny"' in text
