"""Orchestration: resolve a run's config, run it stage by stage, find and compare finished runs."""

from explainbench.runner.config import ConfigError, Recipe, load_recipe, resolve_config
from explainbench.runner.run import RunError, RunOutcome, RunSpec, run_experiment

__all__ = [
    "ConfigError",
    "Recipe",
    "RunError",
    "RunOutcome",
    "RunSpec",
    "load_recipe",
    "resolve_config",
    "run_experiment",
]
