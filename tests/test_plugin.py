"""The example plugin (tests/plugin_example) is found through its entry point; check_explainer works.

The Makefile installs the plugin editable; when it is missing (a bare checkout) this module installs it
once with `pip install -e tests/plugin_example --no-deps --no-build-isolation` (no network needed).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from baselines.reference import GlobalPopular, ItemPopular, RandomTrain
from explainbench.api import Explanation, RequestError
from explainbench.api.registry import refresh
from explainbench.testing import check_explainer

PLUGIN_DIR = Path(__file__).parent / "plugin_example"
PLUGIN_NAME = "feature-template"
DATA = "synthetic-tiny"


def _installed() -> bool:
    return any(ep.name == PLUGIN_NAME for ep in md.entry_points(group="explainbench.explainers"))


@pytest.fixture(scope="module")
def plugin():
    if not _installed():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "-e", str(PLUGIN_DIR), "--no-deps",
             "--no-build-isolation"],
            check=True,
        )
        refresh()
    assert _installed()
    if str(PLUGIN_DIR) not in sys.path:  # an editable install made inside this process needs its path
        sys.path.insert(0, str(PLUGIN_DIR))
    from explainbench_plugin_example import FeatureTemplate

    return FeatureTemplate


def test_cli_runs_the_plugin_found_by_its_entry_point(plugin, home):
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    listed = subprocess.run([sys.executable, "-m", "explainbench.cli.main", "list", "explainers", "--json"],
                            env=env, capture_output=True, text=True, check=True)
    rows = {r["name"]: r for r in json.loads(listed.stdout)["explainers"]}
    assert rows[PLUGIN_NAME]["package"] == "explainbench-plugin-example"
    assert rows["item-popular"]["package"] == "explainbench"
    proc = subprocess.run(
        [sys.executable, "-m", "explainbench.cli.main", "run", "--model", PLUGIN_NAME, "--data", DATA,
         "--limit", "40", "--n-boot", "20", "--no-meteor", "--no-progress", "--set", "positive_word=fine"],
        env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = (home / "runs" / DATA / "split-1" / PLUGIN_NAME).glob("*/results.json")
    results = json.loads(path.read_text())
    assert results["model_package"] == {"name": "explainbench-plugin-example", "version": "0.1.0"}
    assert results["versions"]["explainbench-plugin-example"] == "0.1.0"
    assert results["config"]["positive_word"] == "fine"
    samples = [json.loads(line) for line in (path.parent / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 40
    for s in samples:
        word = "fine" if s["rating"] >= 3 else "poor"
        assert s["generated"] == f"the {s['predicted_feature']} is {word}"


@pytest.mark.parametrize("cls", [RandomTrain, GlobalPopular, ItemPopular])
def test_reference_explainers_pass_the_conformance_suite(cls, home):
    report = check_explainer(cls, home=home)
    assert len(report.passed) == 6 and report.explainer == cls.name


def test_plugin_passes_the_conformance_suite(plugin, home):
    report = check_explainer(plugin, config={"positive_word": "good"}, home=home)
    assert report.config["positive_word"] == "good"
    assert report.examples[0][1].text.endswith(("good", "poor"))


# -- the suite catches broken explainers ---------------------------------------------------------

class Lenient(ItemPopular):
    """Answers unknown users instead of refusing them."""

    name: ClassVar[str] = "lenient"

    def _check(self, request):
        if request.user_id not in self.users:
            return float(request.rating)
        return super()._check(request)


class Forgetful(ItemPopular):
    """Loses its per-item table on load."""

    name: ClassVar[str] = "forgetful"

    def _set_state(self, state):
        super()._set_state({**state, "by_item": {}})


class Unseeded(RandomTrain):
    """Draws with an unseeded generator: two fits disagree."""

    name: ClassVar[str] = "unseeded"

    def fit(self, train, validation, *, context):
        super().fit(train, validation, context=context)
        self.pool = random.Random().sample(self.pool, len(self.pool))
        return self


class Shouter(ItemPopular):
    name: ClassVar[str] = "shouter"

    def explain(self, requests):
        return [dataclasses.replace(e, rating=float("nan")) for e in super().explain(requests)]


class WrongError(ItemPopular):
    name: ClassVar[str] = "wrong-error"

    def explain(self, requests):
        try:
            return super().explain(requests)
        except RequestError as exc:
            raise KeyError(str(exc)) from None


class Short(ItemPopular):
    name: ClassVar[str] = "short"

    def explain(self, requests):
        return [Explanation("x")] * (len(requests) - 1)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Lenient, "check_explainer\\(lenient\\): a request with an unknown user was answered"),
        (Forgetful, "save\\(\\) then load\\(\\) changed"),
        (Unseeded, "a second fit with the same seed changed"),
        (Shouter, "rating nan is not a finite number"),
        (WrongError, "an unknown user raised KeyError"),
        (Short, "gave 63 explanations for 64 requests"),
    ],
)
def test_broken_explainers_fail_with_a_clear_message(cls, message, home):
    with pytest.raises(AssertionError, match=message):
        check_explainer(cls, home=home)
