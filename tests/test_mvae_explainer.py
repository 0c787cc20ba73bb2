"""MVAE and its variants as registered explainers: conformance suite, train_log contents, learning."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from explainbench.api.explainer import ExplainContext
from explainbench.api.registry import get_explainer
from explainbench.data import ensure_dataset, load_split, load_tokenizer
from explainbench.models.mvae import MVAE, MVAEMSE, MVAENoKL, MVAENoMLF, MVAENoRN
from explainbench.models.mvae.calibrate import a0_from_train_log
from explainbench.models.mvae.config import MVAEConfig
from explainbench.runner.config import apply_overrides, load_recipe
from explainbench.testing import check_explainer

VARIANTS = [MVAE, MVAENoKL, MVAENoMLF, MVAENoRN, MVAEMSE]


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("explainbench-home")
    ensure_dataset("synthetic-tiny", home=home)
    return home


def _quick(cls: type[MVAE]) -> MVAEConfig:
    """The tiny network, a few steps: the conformance suite checks contracts, not quality."""
    return dataclasses.replace(
        cls.config_class.tiny(), max_epochs=1, max_steps_per_epoch=10, warmup_steps=1, gen_max_len=8
    )


@pytest.mark.parametrize("cls", VARIANTS, ids=lambda c: c.name)
def test_registered_under_its_name(cls: type[MVAE]) -> None:
    assert get_explainer(cls.name) is cls


@pytest.mark.parametrize("cls", VARIANTS, ids=lambda c: c.name)
def test_check_explainer_passes(cls: type[MVAE], tiny_home: Path) -> None:
    report = check_explainer(cls, config=_quick(cls), home=tiny_home, n_requests=24)
    assert len(report.passed) == 6, str(report)


def test_learns_on_synthetic_tiny_and_logs_every_kl_term(tiny_home: Path, tmp_path: Path) -> None:
    dd = load_split("synthetic-tiny", 1, home=tiny_home)
    tokenizer = load_tokenizer("synthetic-tiny", 1, home=tiny_home)
    config = dataclasses.replace(MVAEConfig.tiny(), max_epochs=3, max_steps_per_epoch=12, log_every=1)
    context = ExplainContext(tokenizer=tokenizer, run_dir=tmp_path, progress=False)
    explainer = MVAE(config).fit(dd["train"], dd["validation"], context=context)
    history = explainer.train_result.history
    assert history[-1]["val_loss"] < history[0]["val_loss"]  # test-architecture loss falls
    assert history[-1]["train_nll"] < history[0]["train_nll"]
    lines = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in lines if r["kind"] == "step"]
    assert len(steps) == 36
    for s in range(3):
        assert all(f"kl_prior_s{s}" in r and f"kl_std_s{s}" in r for r in steps)
    # beta follows eq. 11 with the tiny config's a0 = 50 (a step line's "step" counts the update just made)
    for r in steps:
        assert r["beta"] == pytest.approx(0.001 / (1 + math.exp(-0.0025 * (r["step"] - 1 - 50))), rel=1e-6)
    best = min(history, key=lambda r: r["val_loss"])
    assert a0_from_train_log(tmp_path) == best["step"] // 2


@pytest.mark.parametrize("scale", ["cpu-small", "paper"])
def test_recipe_scales_resolve_for_every_variant(scale: str) -> None:
    recipe = load_recipe(Path(__file__).resolve().parents[1] / "recipes" / "mvae" / "default.yaml")
    assert recipe.model == "mvae"
    for cls in VARIANTS:
        config = apply_overrides(cls.config_class, [("recipe", recipe.overrides(scale))])
        assert isinstance(config, cls.config_class)
        assert config.n_down == 4 and config.n_scale == 3  # the paper's structure at every scale
    expected = {"cpu-small": [12, 6, 3], "paper": [48, 24, 12]}[scale]
    assert config.latent_dims == expected
