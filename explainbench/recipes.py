"""Recipes: one YAML per experiment of the paper and per model default, each with named scales.

Three kinds share the recipes/ folder (docs/reporting.md has the full format):

- model recipe (no `kind:` key; `recipes/<model>/default.yaml`): the runner's format, read by
  `explainbench.runner.config.load_recipe` (`model, data, splits, config, scales, description`) and
  passed to `explainbench run --recipe FILE --scale NAME`. Validating one resolves its config for every
  scale against the explainer's config dataclass (unknown keys and wrong types are refused).
- experiment recipe (`kind: experiment`; recipes/table2.yaml, ...): which models to run on which
  datasets and splits, at which model scale, and the report commands that turn the runs into the
  paper's table or figure. `explainbench recipes show NAME --scale S` prints that plan as commands.
- probe recipe (`kind: probe`; recipes/fig4-noise.yaml): the initial-noise probe's dataset, VAE
  config (probe.vae.PlainVAEConfig) and options, with scales; `explainbench probe noise --recipe`.

Every scale a recipe names must exist in every model recipe it uses; `cpu-small` runs on this 2-core
CPU and `paper` holds the paper's settings. `explainbench recipes validate` parses every planned command
with the CLI's own parser (explainbench.cli.recipes.check_command), so a recipe cannot name an option
that does not exist.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.runner.config import (
    ConfigError,
    Recipe,
    apply_overrides,
    as_mapping,
    load_recipe,
    parse_splits,
    read_yaml,
    resolve_config,
)

KINDS = ("model", "experiment", "probe")
EXPERIMENT_KEYS = (
    "kind",
    "description",
    "datasets",
    "splits",
    "models",
    "model_scale",
    "limit",
    "outputs",
    "scales",
    "config",
)
EXPERIMENT_SCALE_KEYS = ("datasets", "splits", "models", "model_scale", "limit")
PROBE_KEYS = ("kind", "probe", "description", "data", "split", "config", "options", "scales")
PROBES = ("noise",)
PROBE_OPTIONS = ("fraction", "bins")
PLACEHOLDERS = ("{datasets}", "{data}", "{models}", "{splits}", "{scale}")


def recipes_root() -> Path:
    """$EXPLAINBENCH_RECIPES, else the checkout's recipes/ folder, else ./recipes."""
    env = os.environ.get("EXPLAINBENCH_RECIPES")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[1] / "recipes"
    return repo if repo.is_dir() else Path("recipes")


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    from explainbench.api.registry import did_you_mean

    return did_you_mean(name, list(known))


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of names like [synthetic, amazon-mi]")
    return list(value)


def _limit(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: expected a positive whole number or null, got {value!r}")
    return value


def _unknown(keys: Sequence[str], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown}.{_did_you_mean(unknown[0], allowed)} "
            f"Known keys: {', '.join(allowed)}"
        )


@dataclass
class ExperimentScale:
    datasets: list[str]
    splits: list[int]
    models: list[str]
    model_scale: str | None
    limit: int | None


@dataclass
class ExperimentRecipe:
    """kind: experiment: models x datasets x splits to run, and the commands that report them."""

    path: Path
    description: str
    datasets: list[str]
    splits: list[int]
    models: list[str]
    model_scale: str | None
    limit: int | None
    outputs: list[str]
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> overrides (after its recipe)
    kind: str = "experiment"

    def at(self, scale: str | None) -> ExperimentScale:
        """The experiment at a named scale (the scale's keys replace the top-level ones)."""
        values: dict[str, Any] = {
            "datasets": self.datasets,
            "splits": self.splits,
            "models": self.models,
            "model_scale": self.model_scale,
            "limit": self.limit,
        }
        if scale is not None:
            if scale not in self.scales:
                raise ConfigError(
                    f"{self.path}: no scale {scale!r}.{_did_you_mean(scale, list(self.scales))} "
                    f"Scales: {', '.join(self.scales) or '(none)'}"
                )
            where = f"{self.path}: scales.{scale}"
            over = self.scales[scale]
            if "datasets" in over:
                values["datasets"] = _names(over["datasets"], f"{where}.datasets")
            if "models" in over:
                values["models"] = _names(over["models"], f"{where}.models")
            if "splits" in over:
                values["splits"] = parse_splits(over["splits"], f"{where}.splits")
            if "model_scale" in over:
                values["model_scale"] = over["model_scale"]
            if "limit" in over:
                values["limit"] = _limit(over["limit"], f"{where}.limit")
        return ExperimentScale(**values)


@dataclass
class ProbeRecipe:
    """kind: probe: the initial-noise probe's dataset, split, VAE config, options and scales."""

    path: Path
    probe: str
    description: str
    data: str
    split: int
    config: dict[str, Any]
    options: dict[str, Any]
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind: str = "probe"

    def vae_config(self, scale: str | None) -> Any:
        """PlainVAEConfig from defaults < config < scales.<scale> (types checked)."""
        from explainbench.probe.vae import PlainVAEConfig

        layers: list[tuple[str, Mapping[str, Any]]] = [(f"{self.path} config", self.config)]
        if scale is not None:
            if scale not in self.scales:
                raise ConfigError(
                    f"{self.path}: no scale {scale!r}.{_did_you_mean(scale, list(self.scales))} "
                    f"Scales: {', '.join(self.scales) or '(none)'}"
                )
            layers.append((f"{self.path} scale {scale}", self.scales[scale]))
        return apply_overrides(PlainVAEConfig, layers)


AnyRecipe = Recipe | ExperimentRecipe | ProbeRecipe


def kind_of(recipe: AnyRecipe) -> str:
    return "model" if isinstance(recipe, Recipe) else recipe.kind


def _read_yaml(path: Path) -> dict[str, Any]:
    return as_mapping(read_yaml(path, missing=f"recipe {path} not found"), str(path))


def load_any(path: Path | str) -> AnyRecipe:
    """Read a recipe of any kind (model recipes through the runner's load_recipe)."""
    path = Path(path)
    data = _read_yaml(path)
    kind = data.get("kind", "model")
    if kind == "model":
        return load_recipe(path)
    if kind == "experiment":
        return _experiment(path, data)
    if kind == "probe":
        return _probe(path, data)
    raise ConfigError(
        f"{path}: kind {kind!r} is not one of {', '.join(KINDS)}.{_did_you_mean(str(kind), KINDS)}"
    )


def _experiment(path: Path, data: dict[str, Any]) -> ExperimentRecipe:
    where = str(path)
    _unknown(list(data), EXPERIMENT_KEYS, where)
    for key in ("datasets", "splits", "models"):
        if key not in data:
            raise ConfigError(f"{where}: missing {key}:")
    scales = {
        str(k): as_mapping(v, f"{where}: scales.{k}")
        for k, v in as_mapping(data.get("scales"), f"{where}: scales").items()
    }
    for name, over in scales.items():
        _unknown(list(over), EXPERIMENT_SCALE_KEYS, f"{where}: scales.{name}")
    outputs = data.get("outputs") or []
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise ConfigError(f"{where}: outputs must be a list of explainbench commands (strings)")
    model_scale = data.get("model_scale")
    if model_scale is not None and not isinstance(model_scale, str):
        raise ConfigError(f"{where}: model_scale must be a scale name like cpu-small")
    return ExperimentRecipe(
        path=path,
        description=str(data.get("description") or ""),
        datasets=_names(data["datasets"], f"{where}: datasets"),
        splits=parse_splits(data["splits"], f"{where}: splits"),
        models=_names(data["models"], f"{where}: models"),
        model_scale=model_scale,
        limit=_limit(data.get("limit"), f"{where}: limit"),
        outputs=list(outputs),
        scales=scales,
        config={
            str(m): as_mapping(v, f"{where}: config.{m}")
            for m, v in as_mapping(data.get("config"), f"{where}: config").items()
        },
    )


def _probe(path: Path, data: dict[str, Any]) -> ProbeRecipe:
    where = str(path)
    _unknown(list(data), PROBE_KEYS, where)
    probe = data.get("probe")
    if probe not in PROBES:
        raise ConfigError(f"{where}: probe {probe!r} is not one of {', '.join(PROBES)}")
    if not isinstance(data.get("data"), str):
        raise ConfigError(f"{where}: data must name a dataset, e.g. data: synthetic")
    options = as_mapping(data.get("options"), f"{where}: options")
    _unknown(list(options), PROBE_OPTIONS, f"{where}: options")
    split = parse_splits(data.get("split", 1), f"{where}: split")
    if len(split) != 1:
        raise ConfigError(f"{where}: split must be one split number")
    recipe = ProbeRecipe(
        path=path,
        probe=str(probe),
        description=str(data.get("description") or ""),
        data=data["data"],
        split=split[0],
        config=as_mapping(data.get("config"), f"{where}: config"),
        options=options,
        scales={
            str(k): as_mapping(v, f"{where}: scales.{k}")
            for k, v in as_mapping(data.get("scales"), f"{where}: scales").items()
        },
    )
    fraction = options.get("fraction", 0.5)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ConfigError(f"{where}: options.fraction must be a number in (0, 1], got {fraction!r}")
    bins = options.get("bins", 80)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"{where}: options.bins must be a positive whole number, got {bins!r}")
    return recipe


# -- finding recipes ---------------------------------------------------------------------------------


def all_recipes(root: Path | None = None) -> list[Path]:
    """Every *.yaml under the recipes folder, sorted (top-level experiments first)."""
    root = Path(root) if root is not None else recipes_root()
    if not root.is_dir():
        return []
    return sorted(root.rglob("*.yaml"), key=lambda p: (len(p.relative_to(root).parts), str(p)))


def recipe_name(path: Path, root: Path | None = None) -> str:
    root = Path(root) if root is not None else recipes_root()
    try:
        return str(Path(path).relative_to(root).with_suffix(""))
    except ValueError:
        return str(path)


def find_recipe(name: str, root: Path | None = None) -> Path:
    """A recipe by path, or by name under the recipes folder ("table2", "peter/default")."""
    root = Path(root) if root is not None else recipes_root()
    direct = Path(name)
    if direct.is_file():
        return direct
    for candidate in (root / name, root / f"{name}.yaml", root / name / "default.yaml"):
        if candidate.is_file():
            return candidate
    known = [recipe_name(p, root) for p in all_recipes(root)]
    raise ConfigError(
        f"no recipe {name!r} under {root}.{_did_you_mean(name, known)} See `explainbench recipes list`."
    )


def model_recipe(model: str, root: Path | None = None) -> Path | None:
    """The default recipe of a model: <root>/<model>/default.yaml, else a model recipe whose `model:` is
    this model (one named <model>.yaml first), else the recipe of its base model for a variant
    (mvae-nokl -> <root>/mvae/default.yaml, whose scales the variants share)."""
    root = Path(root) if root is not None else recipes_root()
    default = root / model / "default.yaml"
    if default.is_file():
        return default
    candidates = []
    for path in all_recipes(root):
        try:
            data = _read_yaml(path)
        except ConfigError:
            continue
        if "kind" not in data and data.get("model") == model:
            candidates.append(path)
    candidates.sort(key=lambda p: (p.stem != model, str(p)))
    if candidates:
        return candidates[0]
    if model.endswith("+") and (root / model[:-1] / "default.yaml").is_file():  # peter+ -> recipes/peter/
        return root / model[:-1] / "default.yaml"
    parts = model.split("-")  # a variant shares its base model's recipe: mvae-nokl -> recipes/mvae/
    for n in range(len(parts) - 1, 0, -1):
        base = root / "-".join(parts[:n]) / "default.yaml"
        if base.is_file():
            return base
    return None


# -- plans and validation ----------------------------------------------------------------------------


def _fill(template: str, values: dict[str, str]) -> list[str]:
    """Substitute placeholders; {data} makes one command per dataset."""
    if "{data}" in template:
        return [
            template.replace("{data}", d).format(**{k: v for k, v in values.items() if k != "data"})
            for d in values["data"].split(",")
        ]
    return [template.format(**{k: v for k, v in values.items() if k != "data"})]


def shown(path: Path) -> str:
    """A path as a command shows it: relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plan(recipe: AnyRecipe, scale: str | None = None, root: Path | None = None) -> list[str]:
    """The commands that carry out a recipe at a scale (the run commands, then the report commands)."""
    if isinstance(recipe, Recipe):
        args = ["explainbench", "run", "--recipe", shown(recipe.path)]
        if scale:
            recipe.overrides(scale)  # refuses an unknown scale
            args += ["--scale", scale]
        return [shlex.join(args)]
    if isinstance(recipe, ProbeRecipe):
        args = ["explainbench", "probe", "noise", "--recipe", shown(recipe.path)]
        if scale:
            recipe.vae_config(scale)
            args += ["--scale", scale]
        return [shlex.join(args)]
    at = recipe.at(scale)
    commands = []
    splits = ",".join(map(str, at.splits))
    for data in at.datasets:
        for model in at.models:
            args = ["explainbench", "run", "--model", model, "--data", data, "--splits", splits]
            path = model_recipe(model, root)
            if path is not None:
                args += ["--recipe", shown(path)]
                if at.model_scale:
                    args += ["--scale", at.model_scale]
            for key, value in recipe.config.get(model, {}).items():
                args += ["--set", f"{key}={value}"]
            if at.limit:
                args += ["--limit", str(at.limit)]
            commands.append(shlex.join(args))
    values = {
        "datasets": ",".join(at.datasets),
        "data": ",".join(at.datasets),
        "models": ",".join(at.models),
        "splits": splits,
        "scale": scale or "",
    }
    for template in recipe.outputs:
        try:
            commands += _fill(template, values)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"{recipe.path}: output {template!r}: unknown placeholder {exc}; "
                f"use {', '.join(PLACEHOLDERS)}"
            ) from None
    return commands


def validate(
    path: Path, root: Path | None = None, check_command: Callable[[str, str], None] | None = None
) -> list[str]:
    """Check a recipe completely; returns the scales checked. Raises ConfigError on the first problem.

    model: the explainer is registered and its config resolves at the top level and at every scale.
    experiment: every model has a registered explainer; at every scale, each model's recipe has the
    model scale; every planned command is built. probe: the VAE config resolves at every scale.
    check_command(command, where) parses each planned command and raises ConfigError when it does not
    parse; the CLI passes explainbench.cli.recipes.check_command (its own parser: this module sits
    below the CLI and does not import it). Without it, commands are built but not parsed.
    """
    from explainbench.api.registry import RegistryError, get_explainer

    recipe = load_any(path)
    scales = list(recipe.scales)
    if isinstance(recipe, Recipe):
        if not recipe.model:
            raise ConfigError(f"{path}: a model recipe needs model:")
        try:
            cls = get_explainer(recipe.model)
        except RegistryError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        for scale in [None, *scales]:
            resolve_config(cls.config_class, recipe=recipe, scale=scale)
    elif isinstance(recipe, ProbeRecipe):
        for scale in [None, *scales]:
            recipe.vae_config(scale)
    else:
        for scale in [None, *scales]:
            at = recipe.at(scale)
            for model in at.models:
                try:
                    get_explainer(model)
                except RegistryError as exc:
                    raise ConfigError(f"{path}: {exc}") from None
                mpath = model_recipe(model, root)
                if at.model_scale and mpath is not None:
                    mrecipe = load_recipe(mpath)
                    if at.model_scale not in mrecipe.scales:
                        raise ConfigError(
                            f"{path}: model scale {at.model_scale!r} is not defined in {mpath} "
                            f"(scales: {', '.join(mrecipe.scales) or 'none'})"
                        )
    for scale in [None, *scales]:
        for command in plan(recipe, scale, root):
            if check_command is not None:
                check_command(command, f"{path}" + (f" (scale {scale})" if scale else ""))
    return scales


# -- grids: a recipe as run specifications -----------------------------------------------------------


def grid_runs(
    recipe: AnyRecipe,
    scale: str | None = None,
    *,
    seeds: Sequence[int] = (),
    set_items: Sequence[str] = (),
    threads: int | None = 1,
    device: str | None = None,
    n_boot: int = 1000,
    meteor: bool = True,
    cold: str = "skip",
    home: Path | None = None,
    root: Path | None = None,
    models: Sequence[str] = (),
) -> list[Any]:
    """The runs a recipe asks for, as the RunSpecs `explainbench run` would build (datasets x models x
    splits x seeds; no seeds = the config's own). A model recipe is one model on its data and splits.
    `--set` items and seeds go to the models whose config has that key; a key no model has is refused.
    A run whose config cannot be resolved (unknown model, bad --set value) comes back with its error
    instead of a spec, so the grid reports it and runs the others. `models`: only these of the recipe's
    models (a name the recipe does not have is refused)."""
    from explainbench.api.registry import get_explainer
    from explainbench.runner.grid import GridRun
    from explainbench.runner.run import RunSpec

    if isinstance(recipe, ProbeRecipe):
        raise ConfigError(f"{recipe.path}: a probe recipe is not a grid of runs (`explainbench probe noise`)")
    if isinstance(recipe, Recipe):
        if not recipe.model or not recipe.data:
            raise ConfigError(f"{recipe.path}: a model recipe needs model: and data: to be a grid")
        if scale:
            recipe.overrides(scale)  # refuses an unknown scale
        cells = [(recipe.data, recipe.model, k, recipe, scale) for k in (recipe.splits or [1])]
        limit = None
        per_model = {}
    else:
        at = recipe.at(scale)
        per_model = recipe.config
        cells = []
        for data in at.datasets:
            for model in at.models:
                path = model_recipe(model, root)
                mrec = load_recipe(path) if path is not None else None
                for k in at.splits:
                    cells.append((data, model, k, mrec, at.model_scale if mrec is not None else None))
        limit = at.limit
    from explainbench.runner.config import config_fields, parse_set_items

    sets = parse_set_items(set_items)
    fields: dict[str, set[str]] = {}
    for model in dict.fromkeys(cell[1] for cell in cells):
        try:
            fields[model] = set(config_fields(get_explainer(model).config_class))
        except Exception:  # noqa: BLE001 - the unknown model is reported as its runs' failure below
            fields[model] = set()
    unused = sorted(set(sets) - set().union(*fields.values()))
    if unused:
        raise ConfigError(f"--set {', '.join(unused)}: no model of this grid has such a config key")
    if models:
        missing = [m for m in models if m not in fields]
        if missing:
            raise ConfigError(f"--models {', '.join(missing)}: not in the recipe's models "
                              f"({', '.join(sorted(fields))})")
        cells = [cell for cell in cells if cell[1] in models]
    runs = []
    for data, model, split, mrec, model_scale in cells:
        # --set and --seeds reach the models whose config has the key (floors have no dropout, ...)
        merged = {**{k: str(v) for k, v in per_model.get(model, {}).items()},
                  **{k: v for k, v in sets.items() if k in fields[model]}}
        own = [f"{k}={v}" for k, v in merged.items()]
        for seed in (list(seeds) if "seed" in fields[model] else []) or [None]:
            label = f"{model} on {data} split {split}" + (f" seed {seed}" if seed is not None else "")
            try:
                cls = get_explainer(model)
                config = resolve_config(
                    cls.config_class, recipe=mrec, scale=model_scale, seed=seed, set_items=own
                )
            except Exception as exc:  # noqa: BLE001 - reported as this run's failure
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                runs.append(GridRun(label, None, why))
                continue
            spec = RunSpec(
                model=model, data=data, config=config, split=split, limit=limit, cold=cold, device=device,
                threads=threads, scale=model_scale, resume=True, home=home, n_boot=n_boot, meteor=meteor,
                progress=False, score_workers=1,  # a grid task scores in its own process, no pool
            )
            runs.append(GridRun(label, spec))
    return runs
