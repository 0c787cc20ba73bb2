"""Config resolution: dataclass defaults < recipe config < recipe scale < --seed < --set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from baselines.reference import ReferenceConfig
from explainbench.api.explainer import ExplainerConfig
from explainbench.runner.config import (
    ConfigError,
    coerce,
    load_recipe,
    parse_set_items,
    parse_splits,
    resolve_config,
)


@dataclass
class ToyConfig(ExplainerConfig):
    lr: float = 1.0
    max_epochs: int = 100
    clip_norm: float | None = 1.0
    peter_mask: bool = True
    optimizer: Literal["sgd", "adam"] = "sgd"
    layers: list[int] = field(default_factory=lambda: [512, 512])
    name_suffix: str = ""


def write(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


RECIPE = """\
description: toy
model: toy
data: synthetic
splits: [1, 2]
config:
  lr: 1e-3          # PyYAML reads this as text: the dataclass type makes it a float
  max_epochs: 10
  peter_mask: false
scales:
  cpu-small: {max_epochs: 2, layers: [8, 8]}
  paper: {}
"""


def test_defaults_only():
    assert resolve_config(ToyConfig) == ToyConfig()


def test_precedence_recipe_then_scale_then_seed_then_set(tmp_path):
    recipe = load_recipe(write(tmp_path, RECIPE))
    assert recipe.splits == [1, 2] and recipe.model == "toy" and recipe.data == "synthetic"
    c = resolve_config(ToyConfig, recipe=recipe)
    assert (c.lr, c.max_epochs, c.peter_mask, c.layers, c.seed) == (1e-3, 10, False, [512, 512], 1111)
    c = resolve_config(ToyConfig, recipe=recipe, scale="cpu-small")
    assert (c.lr, c.max_epochs, c.layers) == (1e-3, 2, [8, 8])
    c = resolve_config(
        ToyConfig, recipe=recipe, scale="cpu-small", seed=7, set_items=["max_epochs=5", "clip_norm=none"]
    )
    assert (c.lr, c.max_epochs, c.layers, c.seed, c.clip_norm) == (1e-3, 5, [8, 8], 7, None)
    assert resolve_config(ToyConfig, recipe=recipe, scale="paper").max_epochs == 10


def test_typed_parsing_of_set_values():
    c = resolve_config(
        ToyConfig,
        set_items=[
            "lr=2.5e-4", "peter_mask=no", "optimizer=adam", "layers=16,32", "name_suffix=007", "seed=3"
        ],
    )
    assert c.lr == 2.5e-4 and isinstance(c.lr, float)
    assert c.peter_mask is False
    assert c.optimizer == "adam"
    assert c.layers == [16, 32]
    assert c.name_suffix == "007"  # text stays text
    assert c.seed == 3 and isinstance(c.seed, int)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("max_epochs=three", "--set: max_epochs: expected an integer, got 'three'"),
        ("lr=fast", "--set: lr: expected a number, got 'fast'"),
        ("peter_mask=maybe", "expected true or false"),
        ("optimizer=rmsprop", "'rmsprop' is not one of \\['sgd', 'adam'\\]"),
        ("max_epoch=3", "unknown config key 'max_epoch' for ToyConfig. Did you mean 'max_epochs'\\?"),
    ],
)
def test_bad_values_are_refused_with_key_and_type(item, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(ToyConfig, set_items=[item])


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        resolve_config(ReferenceConfig, set_items=["sede=1"])
    assert "Known keys: positive_threshold, seed, unknown_ids" in str(err.value)


def test_set_syntax():
    assert parse_set_items(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    for bad in (["novalue"], ["=3"], ["two words=1"]):
        with pytest.raises(ConfigError, match="expected key=value"):
            parse_set_items(bad)
    with pytest.raises(ConfigError, match="given twice"):
        parse_set_items(["a=1", "a=2"])


def test_seed_conflict_and_post_init_validation():
    with pytest.raises(ConfigError, match="disagree"):
        resolve_config(ToyConfig, seed=1, set_items=["seed=2"])
    assert resolve_config(ToyConfig, seed=2, set_items=["seed=2"]).seed == 2
    with pytest.raises(ConfigError, match="unknown_ids must be 'error' or 'fallback'"):
        resolve_config(ReferenceConfig, set_items=["unknown_ids=ignore"])


def test_recipe_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key\\(s\\) \\['split'\\]. Did you mean 'splits'"):
        load_recipe(write(tmp_path, "model: x\nsplit: 1\n"))
    with pytest.raises(ConfigError, match="config: expected a mapping"):
        load_recipe(write(tmp_path, "config: [1, 2]\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_recipe(tmp_path / "missing.yaml")
    recipe = load_recipe(write(tmp_path, RECIPE))
    with pytest.raises(ConfigError, match="no scale 'cpu'.*Scales: cpu-small, paper"):
        resolve_config(ToyConfig, recipe=recipe, scale="cpu")
    with pytest.raises(ConfigError, match="needs a --recipe"):
        resolve_config(ToyConfig, scale="cpu-small")
    bad = load_recipe(write(tmp_path, "config: {max_epochs: 1.5}\n"))
    with pytest.raises(ConfigError, match="recipe.yaml config: max_epochs: expected an integer, got 1.5"):
        resolve_config(ToyConfig, recipe=bad)


def test_splits():
    assert parse_splits("1,2,3") == [1, 2, 3]
    assert parse_splits(2) == [2]
    assert parse_splits([3, 1]) == [3, 1]
    bad_cases = (("0", "count from 1"), ("a", "not a split number"), ("1,1", "twice"), ("", "no split"))
    for bad, message in bad_cases:
        with pytest.raises(ConfigError, match=message):
            parse_splits(bad)


def test_coerce_optional_and_int_from_float_text():
    assert coerce("null", int | None, "k") is None
    assert coerce(3.0, int, "k") == 3
    with pytest.raises(ConfigError):
        coerce(True, int, "k")
