"""`explainbench list`: what is installed (explainers, datasets, metrics) and which package provides it."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from explainbench.api.registry import GROUPS, available
from explainbench.cli.run import cli_errors, wide_console
from explainbench.runner.config import ConfigError


def _builtin_metrics() -> list[dict[str, str]]:
    """Metrics built into explainbench.metrics (METRICS registry), beside any entry-point metrics."""
    try:
        from explainbench.metrics import METRICS  # type: ignore[attr-defined]
    except ImportError:
        return []
    from explainbench import __version__

    rows = []
    for name, spec in (METRICS.items() if isinstance(METRICS, dict) else []):
        family = getattr(spec, "family", None) or (spec.get("family") if isinstance(spec, dict) else "")
        rows.append({"name": str(name), "package": "explainbench", "version": __version__,
                     "target": f"explainbench.metrics ({family})" if family else "explainbench.metrics"})
    return rows


def _builtin_datasets() -> list[dict[str, str]]:
    """Synthetic presets the data layer builds on demand, then the datasets prepared in the home."""
    from explainbench import __version__
    from explainbench.data import list_datasets
    from explainbench.data.sources.synthetic import PRESETS

    rows = [{"name": str(n), "package": "explainbench", "version": __version__,
             "target": "built-in synthetic preset (prepared on demand)"} for n in PRESETS]
    names = {r["name"] for r in rows}
    for manifest in list_datasets():
        name = str(manifest.get("name", ""))
        source = manifest.get("source") or {}
        kind = source.get("kind", "?") if isinstance(source, dict) else "?"
        target = f"prepared ({kind}, fingerprint {str(manifest.get('fingerprint', ''))[:12]})"
        if name in names:
            next(r for r in rows if r["name"] == name)["target"] = target
        else:
            rows.append({"name": name, "package": "explainbench",
                         "version": str(manifest.get("explainbench_version", "")), "target": target})
    return rows


def listing(group: str) -> list[dict[str, Any]]:
    """Rows (name, package, version, target) of one group, entry points first then built-ins."""
    rows = [{"name": e.name, "package": e.package, "version": e.version, "target": e.target}
            for e in available(group)]
    seen = {r["name"] for r in rows}
    extra = _builtin_metrics() if group == "metrics" else _builtin_datasets() if group == "datasets" else []
    rows += [r for r in extra if r["name"] not in seen]
    return rows


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_(
        group: str = typer.Argument(None, help="explainers | datasets | metrics (default: all three)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    ) -> None:
        """Show the installed explainers, datasets and metrics, each with its source package."""
        with cli_errors():
            if group is not None and group not in GROUPS:
                raise ConfigError(f"unknown group {group!r}; use one of {', '.join(GROUPS)}")
            groups = [group] if group else list(GROUPS)
            found = {g: listing(g) for g in groups}
        if as_json:
            typer.echo(json.dumps(found, indent=2))
            return
        console = wide_console()
        for g, rows in found.items():
            table = Table(title=f"{g} ({GROUPS[g]})", title_justify="left")
            for column in ("name", "package", "version", "target"):
                table.add_column(column, style="cyan" if column == "name" else None)
            for r in rows:
                table.add_row(*(escape(str(r[c])) for c in ("name", "package", "version", "target")))
            if not rows:
                table.add_row("(none installed)", "", "", "")
            console.print(table)
