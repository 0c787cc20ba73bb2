"""Orchestration: resolve a run's config, run it stage by stage, find and compare finished runs.

The names below load on first use (PEP 562), so `import explainbench.runner.config` (which the CLI does
at start-up) does not import the run stages, the results schemas and pydantic with it.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "ConfigError": "explainbench.runner.config",
    "GridRun": "explainbench.runner.grid",
    "run_grid": "explainbench.runner.grid",
    "Recipe": "explainbench.runner.config",
    "load_recipe": "explainbench.runner.config",
    "resolve_config": "explainbench.runner.config",
    "RunError": "explainbench.runner.run",
    "RunOutcome": "explainbench.runner.run",
    "RunSpec": "explainbench.runner.run",
    "run_experiment": "explainbench.runner.run",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'explainbench.runner' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
