"""Tables 1-3: the renderers, and numbers equal to the results files (never recomputed by the reporter)."""

from __future__ import annotations

import json
import statistics
from html.parser import HTMLParser

import pytest
from report_fixtures import DATA, DATA_B, SPLITS, report_home, results_of
from typer.testing import CliRunner

from explainbench.cli.main import app
from explainbench.report.ablation import ablation_table, relative_drop
from explainbench.report.sources import RunSource
from explainbench.report.table1 import table1_from_stats
from explainbench.report.table2 import FAMILY_COLUMNS, Table2Options, build_table2
from explainbench.report.tables import (
    Cell,
    Column,
    Row,
    Section,
    Table,
    render_html,
    render_json,
    render_latex,
    render_markdown,
    render_rich,
)
from explainbench.runner.compare import lower_is_better


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return report_home(tmp_path_factory)


def mean_std(home, model, metric, data=DATA):
    values = [results_of(home, model, k, data)["metrics"][metric]["value"] for k in SPLITS]
    return statistics.fmean(values), statistics.stdev(values)


def small_table() -> Table:
    rows = [
        Row(
            "a_model",
            {"x": Cell("1.50", 1.5, bold=True), "t": Cell("the crisp sushi .", highlight=("sushi",))},
        ),
        Row("Improvement (%)", {"x": Cell("+2.00*", 2.0)}, kind="summary"),
    ]
    return Table(
        "t1",
        "A 50% table",
        [Column("x", "X|Y"), Column("t", "Text", "left")],
        [Section("data_1", rows)],
        notes=["note & more"],
    )


class Cells(HTMLParser):
    """Collects every table id and the text of every <td>/<th> row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.rows: list[list[str]] = []
        self.marks: list[str] = []
        self._cell: list[str] | None = None
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.ids.append(dict(attrs).get("id", ""))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("u", "strong"):
            self._tag = tag

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag in ("u", "strong"):
            self._tag = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._tag:
            self.marks.append(f"{self._tag}:{data}")


def test_renderers_agree_on_a_hand_built_table():
    t = small_table()
    md = render_markdown(t)
    assert md.splitlines()[:6] == [
        "**A 50% table**",
        "",
        "| Model | X\\|Y | Text |",
        "| :--- | ---: | :--- |",
        "| **data\\_1** |  |  |",
        "| a\\_model | **1.50** | the crisp <ins>sushi</ins> . |",
    ]
    assert "| *Improvement (%)* | +2.00\\* | - |" in md and md.rstrip().endswith("note & more")
    tex = render_latex(t)
    assert r"\textbf{1.50}" in tex and r"\underline{sushi}" in tex and r"A 50\% table" in tex
    assert r"a\_model" in tex and r"note \& more" in tex and r"\cmidrule(l){2-3}" in tex
    parser = Cells()
    parser.feed(render_html(t))
    assert parser.ids == ["t1"]
    assert ["a_model", "1.50", "the crisp sushi ."] in parser.rows
    assert {"strong:1.50", "u:sushi"} <= set(parser.marks)
    data = json.loads(render_json(t))
    assert data["sections"][0]["rows"][0]["cells"]["x"] == {"text": "1.50", "value": 1.5, "bold": True}
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(render_rich(t))
    text = console.export_text()
    assert "a_model" in text and "+2.00*" in text and "the crisp sushi ." in text


def test_table1_puts_datasets_side_by_side():
    stats = [
        {
            "name": "a",
            "users": 1389,
            "items": 895,
            "reviews": 5787,
            "reviews_per_user": 4.17,
            "reviews_per_item": 6.47,
            "words_per_explanation": 14.5,
        },
        {
            "name": "b",
            "users": 10,
            "items": 5,
            "reviews": 20,
            "reviews_per_user": 2.0,
            "reviews_per_item": 4.0,
            "words_per_explanation": 9.25,
        },
    ]
    t = table1_from_stats(stats)
    assert [c.key for c in t.columns] == ["a", "b"]
    assert t.cell("", "# of users", "a").text == "1,389" and t.cell("", "# of reviews", "b").value == 20
    assert t.cell("", "Avg. # of words/explanation", "b").text == "9.25"


def test_table2_numbers_equal_the_results_files(home):
    source = RunSource.home(home)
    models = ["random-train", "global-popular", "mvae"]
    tables = build_table2(source, Table2Options([DATA, DATA_B], models=models, against="mvae", test_n=200))
    assert [t.key for t in tables] == ["table2-ref", "table2-std", "table2-explain"]
    keys = {t.key: [c.key for c in t.columns] for t in tables}
    assert keys["table2-ref"] == list(FAMILY_COLUMNS["ref"])
    assert not set(keys["table2-ref"]) & set(keys["table2-std"])  # families never share a column
    assert "meteor" not in keys["table2-std"]  # the fixture runs were scored without METEOR
    for t in tables:
        assert [s.title for s in t.sections] == [DATA, DATA_B]
        for section in t.sections:
            labels = [r.label for r in section.rows]
            assert labels == models + ["Improvement (%)"]  # --models order, summary row last
            for model in models:
                for metric in keys[t.key]:
                    mean, std = mean_std(home, model, metric, section.title)
                    cell = t.cell(section.title, model, metric)
                    assert cell.value == pytest.approx(mean, abs=1e-12)
                    assert cell.std == pytest.approx(std, abs=1e-12)
                    digits = (
                        2 if metric in FAMILY_COLUMNS["ref"] or metric in FAMILY_COLUMNS["std"][:4] else 3
                    )
                    assert cell.text == f"{mean:.{digits}f} ± {std:.{digits}f}"
            for metric in keys[t.key]:
                lower = lower_is_better(metric)  # the registry's direction (hal_*, rep_l, ... too)
                means = {m: mean_std(home, m, metric, section.title)[0] for m in models}
                best = (min if lower else max)(means.values())
                assert {m for m in models if t.cell(section.title, m, metric).bold} == {
                    m for m, v in means.items() if v == best
                }
                others = {m: v for m, v in means.items() if m != "mvae"}
                b = (min if lower else max)(others.values())
                a = means["mvae"]
                expected = None if b == 0 else 100 * ((b - a) if lower else (a - b)) / abs(b)
                imp = t.cell(section.title, "Improvement (%)", metric)
                if expected is None:
                    assert imp.text == "-"
                else:
                    assert imp.value == pytest.approx(expected, rel=1e-9, abs=1e-9)
                    assert imp.text.rstrip("*") == f"{expected:+.2f}"
                    assert imp.text.endswith("*") == imp.extra["significant"]
                    # Holm-corrected (the default): adjusted p >= raw p, and the mark follows the adjusted
                    adjusted, raw = imp.extra["p_adjusted"], imp.extra["p_values"]
                    assert imp.extra["correction"] == "holm" and adjusted.keys() == raw.keys()
                    assert all(adjusted[k] >= raw[k] for k in raw)
                    if adjusted:
                        assert imp.extra["significant"] == (max(adjusted.values()) < 0.05)
                    else:  # the hallucination rates: no paired test without the dataset's items
                        assert metric.startswith("hal_") and not imp.extra["significant"]
    assert any(n.startswith("Significance: Holm-Bonferroni") for n in tables[0].notes)
    assert any(n.startswith(f"{DATA}: scale unknown; test records n = ") for n in tables[0].notes)


def test_table2_leaves_ablation_variants_to_table3(home):
    (t,) = build_table2(
        RunSource.home(home), Table2Options([DATA], against="mvae", families=("ref",), test_n=50)
    )
    assert [r.label for r in t.sections[0].rows][-2:] == ["mvae", "Improvement (%)"]
    assert not any(r.label.startswith("mvae-") for r in t.rows())


def test_table3_relative_drop_against_the_base(home):
    t = ablation_table(RunSource.home(home), DATA, base="mvae")
    assert [r.label for r in t.rows()] == ["mvae-nokl", "mvae-nomlf", "mvae"]
    assert [c.key for c in t.columns] == [
        "bleu1",
        "bleu4",
        "rouge1_f",
        "rougeL_f",
    ]  # no METEOR in the fixture
    for variant in ("mvae-nokl", "mvae-nomlf"):
        for metric in ("bleu1", "bleu4", "rouge1_f", "rougeL_f"):
            base, _ = mean_std(home, "mvae", metric)
            value, std = mean_std(home, variant, metric)
            drop = 100 * (base - value) / base
            cell = t.cell("", variant, metric)
            assert cell.value == pytest.approx(value, abs=1e-12)
            assert cell.extra["relative_drop_pct"] == pytest.approx(drop, abs=1e-9)
            arrow = "↓" if drop >= 0 else "↑"
            assert cell.text == f"{value:.2f} ± {std:.2f} ({arrow}{abs(drop):.2f}%)"
    assert t.cell("", "mvae", "bleu1").text == "{:.2f} ± {:.2f}".format(*mean_std(home, "mvae", "bleu1"))
    assert relative_drop(21.42, 21.03, "bleu1") == pytest.approx(1.82, abs=0.005)  # the paper's MVAE-NoKL
    assert relative_drop(2.25, 1.56, "bleu4") == pytest.approx(30.67, abs=0.005)  # MVAE-NoMLF BLEU-4


def test_compare_ablation_and_tables_commands(home):
    env = {"EXPLAINBENCH_HOME": str(home)}
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["compare", "--data", DATA, "--ablation", "mvae", "--models", "mvae-nokl", "--format", "json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert [r["label"] for r in table["sections"][0]["rows"]] == ["mvae-nokl", "mvae"]
    value = table["sections"][0]["rows"][0]["cells"]["bleu1"]["value"]
    assert value == pytest.approx(mean_std(home, "mvae-nokl", "bleu1")[0], abs=1e-12)

    result = runner.invoke(
        app,
        [
            "tables",
            "--data",
            f"{DATA},{DATA_B}",
            "--table",
            "2",
            "--family",
            "ref",
            "--against",
            "none",
            "--format",
            "latex",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count(r"\begin{tabular}") == 1
    assert rf"\textit{{{DATA_B}}}" in result.stdout
    assert "Improvement" not in result.stdout

    result = runner.invoke(app, ["tables", "--data", DATA, "--table", "1", "--format", "markdown"], env=env)
    assert result.exit_code == 0, result.output
    from explainbench.data import dataset_stats

    users = dataset_stats(DATA, home)["users"]
    assert f"| # of users | {users:,} |" in result.stdout

    bad = runner.invoke(app, ["compare", "--data", DATA, "--ablation", "peter"], env=env)
    assert bad.exit_code == 2 and "no finished runs of peter" in bad.output
    bad = runner.invoke(app, ["tables", "--data", DATA, "--format", "docx"], env=env)
    assert bad.exit_code == 2 and "--format 'docx'" in bad.output
