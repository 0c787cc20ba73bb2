"""Recipes: every shipped recipe validates; plans name the right commands; bad recipes are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from explainbench.cli.main import app
from explainbench.cli.recipes import check_command
from explainbench.recipes import (
    ExperimentRecipe,
    ProbeRecipe,
    all_recipes,
    find_recipe,
    load_any,
    model_recipe,
    plan,
    recipes_root,
    shown,
    validate,
)
from explainbench.runner.config import ConfigError, Recipe

ROOT = Path(__file__).resolve().parents[1] / "recipes"
EXPERIMENTS = ("table2", "table3-ablation", "fig4-noise", "fig5-buckets", "fig6-losses")


def test_the_recipes_folder_is_found():
    assert recipes_root().resolve() == ROOT.resolve()
    peter = ROOT / "peter" / "default.yaml"
    assert shown(peter) in ("recipes/peter/default.yaml", str(peter))  # relative below the working folder


@pytest.mark.parametrize("path", all_recipes(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_recipe_validates(path):
    scales = validate(path, ROOT, check_command)
    if path.parent.name != "leaderboard":  # a leaderboard recipe is one scale of the leaderboard (its name)
        assert {"cpu-small", "paper"} <= set(scales)  # every recipe runs here and at the paper's settings


def test_the_paper_experiments_and_model_defaults_are_shipped():
    names = {str(p.relative_to(ROOT).with_suffix("")) for p in all_recipes(ROOT)}
    assert set(EXPERIMENTS) <= names
    assert {
        "peter/default",
        "reference/random-train",
        "reference/global-popular",
        "reference/item-popular",
    } <= names


def test_table2_plan_at_cpu_small_runs_every_model_with_its_recipe_scale():
    recipe = load_any(find_recipe("table2", ROOT))
    assert isinstance(recipe, ExperimentRecipe)
    commands = plan(recipe, "cpu-small", ROOT)
    at = recipe.at("cpu-small")
    runs = [c for c in commands if c.startswith("explainbench run ")]
    assert len(runs) == len(at.datasets) * len(at.models)
    peter = next(c for c in runs if "--model peter " in c and "--data synthetic " in c)
    assert f"--recipe {shown(ROOT / 'peter' / 'default.yaml')} --scale cpu-small" in peter
    assert "--splits 1,2,3" in peter
    mvae = load_any(find_recipe("table3-ablation", ROOT))
    nokl = next(c for c in plan(mvae, "cpu-small", ROOT) if "--model mvae-nokl" in c)
    assert f"--recipe {shown(ROOT / 'mvae' / 'default.yaml')}" in nokl  # variants share MVAE's recipe
    reports = [c for c in commands if not c.startswith("explainbench run ")]
    assert reports[0] == f"explainbench tables --data {','.join(at.datasets)} --table 1,2 --against mvae"
    assert model_recipe("global-popular", ROOT) == ROOT / "reference" / "global-popular.yaml"


def test_fig5_plan_makes_one_plot_per_dataset():
    recipe = load_any(find_recipe("fig5-buckets", ROOT))
    plots = [c for c in plan(recipe, "paper", ROOT) if c.startswith("explainbench plot")]
    assert plots == [
        f"explainbench plot buckets --data {d} --models peter,mvae --metric bleu1,rougeL_f --split 1"
        for d in recipe.at("paper").datasets
    ]


def test_probe_recipe_resolves_its_vae_config():
    recipe = load_any(find_recipe("fig4-noise", ROOT))
    assert isinstance(recipe, ProbeRecipe)
    small, paper = recipe.vae_config("cpu-small"), recipe.vae_config("paper")
    assert small.emb_size < paper.emb_size and recipe.options["bins"] == 80


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [peter]\noutput: []\n",
            "Did you mean 'outputs'",
        ),
        ("kind: experiment\ndatasets: [synthetic]\nsplits: [0]\nmodels: [peter]\n", "splits count from 1"),
        ("kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [petr]\n", "petr"),
        (
            "kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [peter]\nmodel_scale: huge\n",
            "huge",
        ),
        (
            "kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [peter]\n"
            "outputs: ['explainbench plot buckets --data {data} --modles peter']\n",
            "No such option: --modles",
        ),
        (
            "kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [peter]\n"
            "outputs: ['explainbench {what}']\n",
            "unknown placeholder",
        ),
        ("kind: probe\nprobe: noise\ndata: synthetic\nconfig: {emb_size: big}\n", "expected an integer"),
        ("kind: probe\nprobe: noise\ndata: synthetic\noptions: {bins: 0}\n", "options.bins"),
        ("kind: tables\n", "kind 'tables'"),
        ("model: peter\nconfig: {d_modle: 64}\n", "d_modle"),
        ("model: peter\nscales: {cpu-small: {max_epochs: three}}\n", "expected an integer"),
    ],
)
def test_bad_recipes_are_refused_with_the_reason(tmp_path, text, message):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("{", r"\{")):
        validate(path, ROOT, check_command)


def test_recipes_commands(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["recipes", "list"])
    assert listed.exit_code == 0, listed.output
    assert "table2" in listed.stdout and "peter/default" in listed.stdout
    shown = runner.invoke(app, ["recipes", "show", "fig6-losses", "--scale", "cpu-small"])
    assert shown.exit_code == 0, shown.output
    assert (
        "explainbench plot losses --data synthetic --models mvae,mvae-norn,mvae-mse,mvae-nokl --split 1"
        in shown.stdout
    )
    assert isinstance(load_any(find_recipe("peter/default", ROOT)), Recipe)
    bad = write(
        tmp_path, "bad.yaml", "kind: experiment\ndatasets: [synthetic]\nsplits: [1]\nmodels: [nobody]\n"
    )
    result = runner.invoke(app, ["recipes", "validate", str(bad), str(ROOT / "peter" / "default.yaml")])
    assert result.exit_code == 2
    assert "ok  " in result.stdout and "bad " in result.stdout and "1 of 2 recipe(s) invalid" in result.stdout
    missing = runner.invoke(app, ["recipes", "show", "tabel2"])
    assert missing.exit_code == 2 and "table2" in missing.output
