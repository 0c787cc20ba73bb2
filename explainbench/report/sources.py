"""Where the reporter finds finished runs: a home's runs/ tree or the committed leaderboard/ tree.

Both give `explainbench.runner.store.RunRecord`s (results.json read and checked), so every table and
figure is built by the same code whichever tree it reads. The reporter reads results.json,
samples.jsonl and train_log.jsonl only: it never trains or generates.

Layouts:
    home:        <home>/runs/<dataset>/split-<k>/<model>/<run-id>/results.json   (explainbench run)
    leaderboard: <root>/<dataset>/<scale>/<model>/split-<k>/results.json           (leaderboard add)

<scale> is the run's recipe scale (`--scale`; `default` for a run made without one), so runs of one
model and split at two scales (cpu-small and reference) are both kept. A source may be restricted to one
scale (`RunSource.leaderboard(root, scale="reference")`): then runs() returns only that scale's runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from explainbench.api.results import read_results
from explainbench.report.tables import ReportError
from explainbench.runner.select import Rules, Selection, SelectionError, run_scale, select_runs
from explainbench.runner.store import RESULTS_FILE, RunRecord, finished_runs, runs_root

_SPLIT_DIR = re.compile(r"^split-(\d+)$")
NO_SCALE = "default"  # the leaderboard folder of runs made without --scale


def scale_folder(results: dict) -> str:
    """The leaderboard folder name of a run's scale: results.json's `scale`, else "default"."""
    return str(results.get("scale") or NO_SCALE)


@dataclass(frozen=True)
class RunSource:
    """A tree of finished runs: kind "home" ($EXPLAINBENCH_HOME) or "leaderboard" (leaderboard/)."""

    root: Path
    kind: str = "home"
    scale: str | None = None  # only runs at this scale (None: every scale)

    @classmethod
    def home(cls, home: Path | None = None) -> RunSource:
        from explainbench.data import explainbench_home

        return cls(Path(home) if home is not None else explainbench_home(), "home")

    @classmethod
    def leaderboard(cls, root: Path, scale: str | None = None) -> RunSource:
        return cls(Path(root), "leaderboard", scale)

    def at_scale(self, scale: str | None) -> RunSource:
        """The same tree restricted to one scale."""
        return RunSource(self.root, self.kind, scale)

    def describe(self) -> str:
        return str(runs_root(self.root) if self.kind == "home" else self.root)

    def datasets(self) -> list[str]:
        """Names of the datasets with at least one folder of runs, sorted."""
        base = runs_root(self.root) if self.kind == "home" else self.root
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))

    def runs(
        self, data: str, *, models: Sequence[str] | None = None, splits: Sequence[int] | None = None
    ) -> list[RunRecord]:
        """Every finished run of a dataset (results.json present), optionally filtered."""
        if self.kind == "home":
            runs = finished_runs(self.root, data, models=models, splits=splits)
            return runs if self.scale is None else [r for r in runs if _scale_of(r) == self.scale]
        scales = None if self.scale is None else [self.scale]
        return leaderboard_runs(self.root, data, models=models, splits=splits, scales=scales)

    def scales(self, data: str) -> list[str]:
        """The scales of a dataset's runs ("default" for runs without one), "reference" first, then sorted."""
        found = {_scale_of(r) for r in self.runs(data)}
        return sorted(found, key=lambda s: (s != "reference", s))

    def select(
        self,
        data: str,
        *,
        models: Sequence[str] | None = None,
        splits: Sequence[int] | None = None,
        rules: Rules | None = None,
    ) -> Selection:
        """One run per (model, split) by explainbench.runner.select's rules (ReportError if they disagree)."""
        try:
            return select_runs(self.runs(data, models=models, splits=splits), rules)
        except SelectionError as exc:
            raise ReportError(f"{data}: {exc}") from None

    def latest(
        self,
        data: str,
        *,
        models: Sequence[str] | None = None,
        splits: Sequence[int] | None = None,
        rules: Rules | None = None,
    ) -> dict[tuple[str, int], RunRecord]:
        """The chosen run per (model, split) (see select(); the name is kept for callers)."""
        return self.select(data, models=models, splits=splits, rules=rules).chosen

    def models(self, data: str) -> list[str]:
        return sorted({r.model for r in self.runs(data)})


def _scale_of(run: RunRecord) -> str:
    return run_scale(run) or NO_SCALE


def leaderboard_runs(
    root: Path,
    data: str,
    *,
    models: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    scales: Sequence[str] | None = None,
) -> list[RunRecord]:
    """Runs stored as <root>/<data>/<scale>/<model>/split-<k>/results.json (one per scale, model, split)."""
    base = Path(root) / data
    out: list[RunRecord] = []
    if not base.is_dir():
        return out
    for scale_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if scales is not None and scale_dir.name not in scales:
            continue
        for model_dir in sorted(p for p in scale_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if models is not None and model_dir.name not in models:
                continue
            for split_dir in sorted(p for p in model_dir.iterdir() if p.is_dir()):
                match = _SPLIT_DIR.match(split_dir.name)
                path = split_dir / RESULTS_FILE
                if not match or not path.is_file():
                    continue
                split = int(match.group(1))
                if splits is not None and split not in splits:
                    continue
                results = read_results(path)
                where = f"{data}/{scale_dir.name}/{model_dir.name}/split-{split}"
                if (
                    results["model"] != model_dir.name
                    or int(results["split"]) != split
                    or results["dataset"] != data
                    or scale_folder(results) != scale_dir.name
                ):
                    raise ReportError(
                        f"{path}: holds {results['model']} on {results['dataset']} split {results['split']} "
                        f"at scale {scale_folder(results)}, not what its folder says ({where}); move it"
                    )
                out.append(RunRecord(model_dir.name, data, split, str(results["run_id"]), split_dir, results))
    return out


def require_runs(source: RunSource, data: str, models: Sequence[str] | None = None) -> list[RunRecord]:
    """The dataset's finished runs, or a ReportError that says what to run."""
    runs = source.runs(data, models=models)
    if not runs:
        what = f" of {', '.join(models)}" if models else ""
        raise ReportError(
            f"no finished runs{what} on dataset {data!r} under {source.describe()}; "
            f"run `explainbench run --model NAME --data {data}` first"
        )
    if models:
        missing = [m for m in models if m not in {r.model for r in runs}]
        if missing:
            raise ReportError(
                f"no finished runs of {', '.join(missing)} on {data!r} under {source.describe()}; "
                f"models with runs: {', '.join(sorted({r.model for r in runs}))}"
            )
    return runs
