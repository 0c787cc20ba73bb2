"""Table 4 (`explainbench examples`): chosen examples, texts equal to samples.jsonl, feature words marked."""

from __future__ import annotations

import json

import pytest
from report_fixtures import DATA, report_home, run_dir_of
from typer.testing import CliRunner

from explainbench.api.results import Sample, read_samples
from explainbench.cli.main import app
from explainbench.report.examples import collect_examples, examples_table, jaccard_distance, spread
from explainbench.report.tables import ReportError, render_markdown


def sample(i: int, generated: str, feature: str = "") -> Sample:
    return Sample(
        user_id=f"u{i}",
        item_id=f"i{i}",
        rating=4.0,
        reference=f"the {feature or 'x'} is good .",
        generated=generated,
        feature=feature,
    )


def test_jaccard_and_spread_by_hand():
    assert jaccard_distance("a b c", "b c d") == pytest.approx(1 - 2 / 4)
    assert jaccard_distance("", "") == 0.0
    assert spread(["a b", "a b", "c"]) == pytest.approx((0 + 1 + 1) / 3)


def test_the_examples_where_models_differ_most_come_first():
    a = [
        sample(0, "same words here", "pizza"),
        sample(1, "the pizza is great", "pizza"),
        sample(2, "x y", "staff"),
        sample(3, "alpha", ""),
    ]
    b = [
        sample(0, "same words here", "pizza"),
        sample(1, "a wholly other sentence", "pizza"),
        sample(2, "x z", "staff"),
        sample(3, "beta", ""),
    ]
    # spreads: 0 -> 0.0, 1 -> 1.0, 2 -> 1 - 1/3, 3 -> 1.0 (3's reference names no feature: after 1)
    chosen = collect_examples({"a": a, "b": b}, n=3)
    assert [e.index for e in chosen] == [1, 3, 2]
    assert chosen[0].outputs == {"a": "the pizza is great", "b": "a wholly other sentence"}
    assert chosen[0].highlight == ("pizza",)
    assert [e.index for e in collect_examples({"a": a, "b": b}, ids=[0, 2])] == [0, 2]
    with pytest.raises(ReportError, match="--ids 9"):
        collect_examples({"a": a, "b": b}, ids=[9])
    md = render_markdown(examples_table(chosen[:1], ["a", "b"], data="d", split=1))
    assert "| Reference | the <ins>pizza</ins> is good . |" in md
    assert "| a | the <ins>pizza</ins> is great |" in md


def test_samples_are_aligned_by_user_and_item():
    a = [sample(0, "one"), sample(1, "two")]
    b = [sample(1, "deux"), sample(0, "un")]  # another order
    (e,) = collect_examples({"a": a, "b": b}, ids=[1])
    assert e.outputs == {"a": "two", "b": "deux"}


def test_examples_command_prints_the_samples_of_each_run(tmp_path_factory):
    home = report_home(tmp_path_factory)
    models = ["global-popular", "item-popular", "random-train"]
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["examples", "--data", DATA, "--models", ",".join(models), "--ids", "4,0", "--format", "json"],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    samples = {m: read_samples(run_dir_of(home, m, 1) / "samples.jsonl") for m in models}
    assert [s["title"].split(":")[0] for s in table["sections"]] == ["#4", "#0"]
    for section, index in zip(table["sections"], (4, 0), strict=True):
        rows = {r["label"]: r["cells"]["text"]["text"] for r in section["rows"]}
        assert list(rows) == ["Reference", *models]
        assert rows["Reference"] == samples[models[0]][index].reference
        for m in models:
            assert rows[m] == samples[m][index].generated
        features = {s.feature for s in samples[models[0]] if s.feature}
        marked = set(section["rows"][0]["cells"]["text"].get("highlight", []))
        words = " ".join(rows.values()).split()
        assert (
            {w for w in words if w in features} <= marked <= set(words)
        )  # feature words, and only words shown
    default = runner.invoke(
        app,
        ["examples", "--data", DATA, "--models", ",".join(models), "--n", "3", "--format", "json"],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    spreads = [
        float(s["title"].rsplit("spread ", 1)[1].rstrip(")")) for s in json.loads(default.stdout)["sections"]
    ]
    assert len(spreads) == 3 and spreads == sorted(spreads, reverse=True)
    all_spreads = sorted(
        (spread([samples[m][i].generated for m in models]) for i in range(len(samples[models[0]]))),
        reverse=True,
    )
    assert spreads == pytest.approx([round(x, 2) for x in all_spreads[:3]], abs=0.005)
    bad = runner.invoke(
        app, ["examples", "--data", DATA, "--models", "peter"], env={"EXPLAINBENCH_HOME": str(home)}
    )
    assert bad.exit_code == 2 and "peter" in bad.output
