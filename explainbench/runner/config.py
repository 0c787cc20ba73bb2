"""Resolving an explainer's config: dataclass defaults < recipe YAML (< its --scale) < --seed/--set.

Every value is checked against the config dataclass's type hints, so `--set lr=1e-3` gives a float
and `--set max_epochs=three` is refused with the key, the expected type and the value. Unknown
keys are refused with the known ones and a "did you mean" (RecBole-style precedence, one source of
defaults: the dataclass).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from explainbench.api.explainer import ExplainerConfig
from explainbench.api.registry import did_you_mean


class ConfigError(ValueError):
    """A bad recipe, --set item or config value (the message names the source and the fix)."""


RECIPE_KEYS = ("model", "data", "splits", "config", "scales", "description")


@dataclass
class Recipe:
    """A recipe YAML: which model on which data and splits, with config overrides and named scales.

    ```yaml
    description: PETER on the synthetic set, CPU-sized
    model: peter
    data: synthetic
    splits: [1, 2, 3]
    config: {lr: 1.0, batch_size: 128}
    scales:
      cpu-small: {d_model: 64, max_epochs: 3}
      paper: {}
    ```
    """

    path: Path | None = None
    model: str | None = None
    data: str | None = None
    splits: list[int] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""

    def overrides(self, scale: str | None) -> dict[str, Any]:
        """config merged with the chosen scale's mapping (the scale wins)."""
        merged = dict(self.config)
        if scale is not None:
            if scale not in self.scales:
                known = ", ".join(self.scales) or "(none defined)"
                raise ConfigError(
                    f"{self.path or 'recipe'}: no scale {scale!r}.{did_you_mean(scale, list(self.scales))} "
                    f"Scales: {known}"
                )
            merged.update(self.scales[scale])
        return merged


def read_yaml(path: Path, *, missing: str) -> Any:
    """The parsed YAML file; ConfigError(missing) when it is not a file, one line when it does not parse."""
    if not path.is_file():
        raise ConfigError(missing)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def as_mapping(value: Any, where: str) -> dict[str, Any]:
    """A YAML mapping with string keys (None = empty); anything else is refused, naming where."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of key: value, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def parse_splits(value: Any, where: str = "--splits") -> list[int]:
    """Split numbers from "1,2,3", 2, or [1, 2]; each a positive integer, no repeats."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected split numbers like 1,2,3, got {value!r}")
    if isinstance(value, int):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise ConfigError(f"{where}: expected split numbers like 1,2,3, got {value!r}")
    out: list[int] = []
    for item in items:
        try:
            number = int(str(item))
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not a split number; use e.g. 1,2,3") from None
        if number < 1:
            raise ConfigError(f"{where}: split {number} is not a positive number; splits count from 1")
        if number in out:
            raise ConfigError(f"{where}: split {number} is listed twice")
        out.append(number)
    if not out:
        raise ConfigError(f"{where}: no split given; use e.g. 1 or 1,2,3")
    return out


def load_recipe(path: Path | str) -> Recipe:
    """Read a recipe YAML; unknown top-level keys and malformed sections are refused."""
    path = Path(path)
    data = as_mapping(read_yaml(path, missing=f"recipe {path} not found"), str(path))
    unknown = sorted(set(data) - set(RECIPE_KEYS))
    if unknown:
        hint = did_you_mean(unknown[0], list(RECIPE_KEYS))
        raise ConfigError(f"{path}: unknown key(s) {unknown}.{hint} Known keys: {', '.join(RECIPE_KEYS)}")
    scales = {str(name): as_mapping(m, f"{path}: scales.{name}") for name, m in as_mapping(
        data.get("scales"), f"{path}: scales").items()}
    for key in ("model", "data", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be a string, got {data[key]!r}")
    return Recipe(
        path=path,
        model=data.get("model"),
        data=data.get("data"),
        splits=None if data.get("splits") is None else parse_splits(data["splits"], f"{path}: splits"),
        config=as_mapping(data.get("config"), f"{path}: config"),
        scales=scales,
        description=str(data.get("description") or ""),
    )


def parse_set_items(items: Sequence[str]) -> dict[str, str]:
    """["lr=1e-3", "max_epochs=2"] -> {"lr": "1e-3", "max_epochs": "2"} (values stay text)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.isidentifier():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set max_epochs=3")
        if key in out:
            raise ConfigError(f"--set {key} given twice")
        out[key] = value.strip()
    return out


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null", "~", ""}


def coerce(value: Any, annotation: Any, where: str) -> Any:
    """value checked (and converted from text) against a dataclass field annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return yaml.safe_load(value) if isinstance(value, str) else value
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and (value is None or (isinstance(value, str) and value.lower() in _NONE)):
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {args}")
    if origin is typing.Literal:
        for option in args:
            try:
                if coerce(value, type(option), where) == option:
                    return option
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
    if origin in (list, tuple, Sequence) or annotation in (list, tuple):
        if isinstance(value, str):
            text = value.strip()
            parsed = yaml.safe_load(text) if text.startswith("[") else [p for p in text.split(",") if p]
        else:
            parsed = value
        if not isinstance(parsed, (list, tuple)):
            raise ConfigError(f"{where}: expected a list like a,b,c or [a, b], got {value!r}")
        inner = args[0] if args else Any
        items = [coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(parsed)]
        return tuple(items) if origin is tuple or annotation is tuple else items
    if origin in (dict, Mapping) or annotation is dict:
        parsed = yaml.safe_load(value) if isinstance(value, str) else value
        if not isinstance(parsed, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{a: 1}}, got {value!r}")
        return dict(parsed)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip().replace("_", ""))
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where}: expected text, got {value!r}")
    # Any other class: accept an instance as is.
    if isinstance(annotation, type) and isinstance(value, annotation):
        return value
    raise ConfigError(f"{where}: cannot read {value!r} as {annotation!r}")


def config_fields(config_class: type[ExplainerConfig]) -> dict[str, Any]:
    """Field name -> resolved type annotation of a config dataclass."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class) if f.init}


def apply_overrides(
    config_class: type[ExplainerConfig],
    layers: Sequence[tuple[str, Mapping[str, Any]]],
) -> ExplainerConfig:
    """Defaults, then each (source label, overrides) layer in order; later layers win."""
    fields = config_fields(config_class)
    values: dict[str, Any] = {}
    for source, overrides in layers:
        for key, raw in overrides.items():
            if key not in fields:
                raise ConfigError(
                    f"{source}: unknown config key {key!r} for {config_class.__name__}."
                    f"{did_you_mean(key, list(fields))} Known keys: {', '.join(sorted(fields))}"
                )
            values[key] = coerce(raw, fields[key], f"{source}: {key}")
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config_class.__name__}: {exc}") from None


def resolve_config(
    config_class: type[ExplainerConfig],
    *,
    recipe: Recipe | None = None,
    scale: str | None = None,
    seed: int | None = None,
    set_items: Sequence[str] = (),
) -> ExplainerConfig:
    """The config a run uses: dataclass defaults < recipe config < recipe scale < --seed < --set."""
    sets = parse_set_items(set_items)
    if seed is not None and "seed" in sets and coerce(sets["seed"], int, "--set seed") != seed:
        raise ConfigError(f"--seed {seed} and --set seed={sets['seed']} disagree; give one")
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if recipe is not None:
        where = str(recipe.path or "recipe")
        layers.append((f"{where} config", recipe.config))
        if scale is not None:
            layers.append((f"{where} scale {scale}", recipe.overrides(scale)))
    elif scale is not None:
        raise ConfigError(f"--scale {scale} needs a --recipe that defines scales")
    if seed is not None:
        layers.append(("--seed", {"seed": seed}))
    layers.append(("--set", sets))
    return apply_overrides(config_class, layers)
