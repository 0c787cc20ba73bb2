"""The plugin registry: explainers, datasets and metrics found through Python entry points.

Built-in models register in explainbench's own pyproject.toml exactly as an outside package does:

    [project.entry-points."explainbench.explainers"]
    my-model = "my_package.module:MyExplainer"

Values are "module:attr" strings, imported only when the name is asked for (lazy, as in
lm-evaluation-harness' api/registry.py), so `explainbench list` never imports torch models.
An unknown name raises RegistryError listing the known names and a difflib "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as md
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GROUPS: dict[str, str] = {
    "explainers": "explainbench.explainers",
    "datasets": "explainbench.datasets",
    "metrics": "explainbench.metrics",
}
_KIND = {"explainers": "explainer", "datasets": "dataset", "metrics": "metric"}


class RegistryError(LookupError):
    """An unknown, ambiguous or broken registry name (the message says what to do)."""

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class RegistryEntry:
    """One registered name: where it points and which installed distribution declared it."""

    name: str
    group: str  # short group name: explainers | datasets | metrics
    target: str  # "module:attr"
    package: str  # distribution that declares it ("" for runtime registrations)
    version: str = ""

    def load(self) -> Any:
        """Import the module and return the attribute (raises RegistryError naming the package)."""
        module_name, _, attr = self.target.partition(":")
        if not module_name or not attr:
            raise RegistryError(
                f"{_KIND[self.group]} {self.name!r} from package {self.package or '?'} points to "
                f"{self.target!r}; entry point values must look like 'module.path:ClassName'"
            )
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise RegistryError(
                f"{_KIND[self.group]} {self.name!r} (package {self.package or '?'}) points to "
                f"{self.target!r}, which cannot be loaded: {exc}; reinstall or fix that package"
            ) from exc
        return obj


def _short_group(group: str) -> str:
    if group in GROUPS:
        return group
    for short, full in GROUPS.items():
        if group == full:
            return short
    raise RegistryError(f"unknown registry group {group!r}; known groups: {', '.join(GROUPS)}")


def did_you_mean(name: str, known: list[str]) -> str:
    """' Did you mean 'x'?' for the closest known names, or '' when none is close."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


class Registry:
    """Names of one entry-point group, scanned once and loaded lazily.

    `register()` adds a name for this process only (a notebook, a test); a name that an installed
    package already declares is refused, so every result stays attributable to one package.
    """

    def __init__(self, group: str) -> None:
        self.group = _short_group(group)
        self._scanned: dict[str, list[RegistryEntry]] | None = None
        self._runtime: dict[str, RegistryEntry] = {}
        self._runtime_objects: dict[str, Any] = {}
        self._loaded: dict[str, Any] = {}

    # -- discovery -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Forget the scan (call after installing a plugin in a running process)."""
        self._scanned = None
        self._loaded.clear()

    def _scan(self) -> dict[str, list[RegistryEntry]]:
        if self._scanned is None:
            found: dict[str, list[RegistryEntry]] = {}
            seen: set[tuple[str, str, str]] = set()
            for ep in md.entry_points(group=GROUPS[self.group]):
                dist = getattr(ep, "dist", None)
                package = dist.metadata["Name"] if dist is not None else ""
                version = dist.version if dist is not None else ""
                key = (ep.name, ep.value, package)
                if key in seen:  # the same distribution seen twice on sys.path
                    continue
                seen.add(key)
                entry = RegistryEntry(ep.name, self.group, ep.value, package or "", version or "")
                found.setdefault(ep.name, []).append(entry)
            self._scanned = found
        return self._scanned

    def entries(self) -> dict[str, RegistryEntry]:
        """Every name with its entry, sorted by name (the first declaration where one is ambiguous)."""
        merged = {name: options[0] for name, options in self._scan().items()}
        merged.update(self._runtime)
        return dict(sorted(merged.items()))

    def names(self) -> list[str]:
        return list(self.entries())

    def entry(self, name: str) -> RegistryEntry:
        """The entry for name; RegistryError with the known names and a did-you-mean otherwise."""
        if name in self._runtime:
            return self._runtime[name]
        options = self._scan().get(name)
        if not options:
            known = self.names()
            listing = ", ".join(known) if known else "(none installed)"
            raise RegistryError(
                f"unknown {_KIND[self.group]} {name!r}.{did_you_mean(name, known)} "
                f"Known {self.group}: {listing}"
            )
        if len({o.target for o in options}) > 1:
            who = "; ".join(f"{o.package or '?'} -> {o.target}" for o in options)
            raise RegistryError(
                f"{_KIND[self.group]} {name!r} is declared by several packages ({who}); uninstall one"
            )
        return options[0]

    def get(self, name: str) -> Any:
        """Load (once) and return the object registered under name."""
        if name in self._runtime_objects:
            return self._runtime_objects[name]
        if name not in self._loaded:
            self._loaded[name] = self.entry(name).load()
        return self._loaded[name]

    def register(self, name: str, obj: Any, *, target: str = "") -> None:
        """Register obj under name for this process only (not visible to other processes)."""
        if name in self._scan():
            raise RegistryError(
                f"{_KIND[self.group]} {name!r} is already declared by package "
                f"{self._scan()[name][0].package}; pick another name"
            )
        label = target or f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"
        self._runtime[name] = RegistryEntry(name, self.group, label, "", "")
        self._runtime_objects[name] = obj

    def unregister(self, name: str) -> None:
        """Remove a runtime registration (installed entry points cannot be removed)."""
        self._runtime.pop(name, None)
        self._runtime_objects.pop(name, None)


_REGISTRIES: dict[str, Registry] = {}


def registry(group: str) -> Registry:
    """The process-wide registry of a group ("explainers", "datasets", "metrics" or the full name)."""
    short = _short_group(group)
    if short not in _REGISTRIES:
        _REGISTRIES[short] = Registry(short)
    return _REGISTRIES[short]


def available(group: str) -> list[RegistryEntry]:
    """Installed entries of a group, sorted by name."""
    return list(registry(group).entries().values())


def refresh() -> None:
    """Re-scan every group (after `pip install` of a plugin inside a running process)."""
    for reg in _REGISTRIES.values():
        reg.refresh()


def get_explainer(name: str) -> type:
    """The Explainer subclass registered under name (imported on first use)."""
    from explainbench.api.explainer import Explainer

    obj = registry("explainers").get(name)
    if not (isinstance(obj, type) and issubclass(obj, Explainer)):
        entry = registry("explainers").entry(name)
        raise RegistryError(
            f"explainer {name!r} (package {entry.package or '?'}) points to {entry.target}, "
            "which is not a subclass of explainbench.api.Explainer"
        )
    return obj


def get_dataset(name: str) -> Any:
    """The object a dataset entry point registers (a source or preset defined by the data package)."""
    return registry("datasets").get(name)


def get_metric(name: str) -> Callable[..., Any] | Any:
    """The object a metric entry point registers."""
    return registry("metrics").get(name)


def explainer_package(name: str) -> tuple[str, str]:
    """(distribution name, version) that provides an explainer; ("", "") for runtime ones."""
    entry = registry("explainers").entry(name)
    return entry.package, entry.version
