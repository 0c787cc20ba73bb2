"""Nothing in explainbench/ imports upward (docs/concepts.md, "Layers").

Every module of the package is parsed (ast, not imported) and every import is checked, at any depth:
top-level, inside functions, under `if TYPE_CHECKING:`, relative ones, and
`importlib.import_module("explainbench....")` with a literal name. The rules:

- a package may import its own layer and the layers below it, never a layer above (LAYER below);
- within one layer, the pairs in FORBIDDEN stay apart: metrics/ scores samples and knows no model, so it
  and the training engine do not import each other; the models and the runner reach each other only
  through the registry;
- explainbench/ never imports baselines/ (models are found through the registry's entry points);
- the package's own `explainbench/__init__.py` sits at the bottom and imports none of its packages.

A new package must be given a layer here before it can ship.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explainbench"

LAYER: dict[str, int] = {
    "explainbench": 0,  # the root package's __init__ (the version string)
    "api": 0,
    "data": 0,
    "metrics": 1,
    "engine": 1,
    "runner": 2,
    "models": 2,
    "testing": 2,
    "report": 3,
    "probe": 3,
    "recipes": 3,  # explainbench/recipes.py
    "cli": 4,
    "__main__": 4,  # explainbench/__main__.py: `python -m explainbench`, the CLI (torchrun launches it so)
}
FORBIDDEN: set[tuple[str, str]] = {
    ("metrics", "engine"),
    ("engine", "metrics"),
    ("models", "runner"),
    ("runner", "models"),
}
# (importing module, imported module) edges that are known and scheduled to go.
KNOWN: set[tuple[str, str]] = set()  # none left


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in source, at any depth.

    `from X import a` yields X.a as well as X, so `from explainbench import cli` names the cli package.
    """
    here = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def part_of(name: str) -> str | None:
    """The layer key of a dotted name inside explainbench ('explainbench.data.x' -> 'data'), else None."""
    parts = name.split(".")
    if parts[0] != "explainbench":
        return None
    if len(parts) == 1 or parts[1] == "__version__":
        return "explainbench"
    return parts[1] if parts[1] in LAYER else None


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """One line per import of source that breaks the rules above (KNOWN edges excepted)."""
    own = part_of(module)
    if own is None:
        return [f"{module}: no layer for this package; add it to LAYER in tests/test_layers.py"]
    bad = []
    seen: set[tuple[int, str | None]] = set()
    for line, name in imported_names(source, module, is_package):
        if (line, part_of(name) or name.split(".")[0]) in seen:
            continue  # one line per import statement and package (`from X import a, b` names X, X.a, X.b)
        seen.add((line, part_of(name) or name.split(".")[0]))
        where = f"{module}:{line} imports {name}"
        if name.split(".")[0] == "baselines":
            bad.append(f"{where}: explainbench never imports baselines (use the registry)")
            continue
        target = part_of(name)
        known = any(m == module and (name == a or name.startswith(a + ".")) for m, a in KNOWN)
        if target is None or target == own or known:
            continue
        if own == "explainbench" and target != "explainbench":
            bad.append(f"{where}: the root package imports none of its packages")
        elif LAYER[target] > LAYER[own]:
            bad.append(f"{where}: {target} (layer {LAYER[target]}) is above {own} (layer {LAYER[own]})")
        elif (own, target) in FORBIDDEN:
            bad.append(f"{where}: {own} and {target} stay apart (same layer)")
    return bad


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_package_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(LAYER), sorted((packages | modules) - set(LAYER))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_import(path):
    found = violations(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    assert not found, "\n".join(found)


def test_the_known_exceptions_are_edges_of_the_table():
    for module, imported in KNOWN:
        assert LAYER[part_of(imported)] > LAYER[part_of(module)], (module, imported)


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from explainbench.engine.module import Vocab\n", "explainbench.data.tokenizer", "engine (layer 1)"),
        (
            "def f():\n    if True:\n        from explainbench.cli.main import app\n",
            "explainbench.report.clidoc",
            "explainbench.report.clidoc:3 imports explainbench.cli.main: cli (layer 4)",
        ),
        ("from ..cli import main\n", "explainbench.report.x", "imports explainbench.cli: cli (layer 4)"),
        ("from explainbench import cli\n", "explainbench.recipes", "imports explainbench.cli: cli"),
        ("import explainbench.runner.run as r\n", "explainbench.data.x", "runner (layer 2)"),
        ("import importlib\nimportlib.import_module('explainbench.probe.vae')\n", "explainbench.models.m",
         "probe (layer 3)"),
        ("from explainbench.engine import trainer\n", "explainbench.metrics.x", "stay apart"),
        ("from baselines.peter import Peter\n", "explainbench.runner.x", "never imports baselines"),
        ("from explainbench.data import x\n", "explainbench", "root package"),
        ("import explainbench.api\n", "explainbench.nowhere.x", "no layer"),
    ],
)
def test_the_checker_finds_upward_imports(source, module, expected):
    found = violations(source, module)
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from explainbench.data.vocab import Vocab\n", "explainbench.engine.module"),
        ("from . import stats\nfrom .errors import MetricsError\n", "explainbench.metrics.report"),
        ("from explainbench.api.results import atomic_write_text\n", "explainbench.data.tokenizer"),
        ("from explainbench import __version__\n", "explainbench.cli.main"),
        ("from explainbench.report.tables import Table\n", "explainbench.probe.latents"),
        ("import numpy\nfrom typing import TYPE_CHECKING\n", "explainbench.api.results"),
    ],
)
def test_the_checker_allows_same_and_lower_layers(source, module):
    assert violations(source, module) == []
