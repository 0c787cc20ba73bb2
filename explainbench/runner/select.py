"""Which finished runs one table may combine: the one rule every reporting command uses.

`compare`, `tables`, `report`, `examples`, `plot` and `leaderboard render` all pick their runs here, so a
table never silently mixes test sets or scales. For each (model, split) the eligible runs are ordered:

1. `--run RUN_ID` (repeatable) names the run of its (model, split) outright;
2. `--scale NAME` leaves out runs made at another scale (or at an unknown one);
3. a full run (`limit` None) before a `--limit` run;
4. a run at the table's scale (the scale of most (model, split) pairs' best full runs) before others;
5. the newest (results.json `created`, then run id).

The chosen runs must then agree: one test set per split (the same `n.effective`, and the same
`test_ids_sha256` where both runs record it) and one scale per table (an unknown scale, None, counts
as a scale of its own unless every run is unknown). Otherwise `SelectionError` names the runs, unless
the caller passed `allow_mixed`. A run's scale is results.json's `scale` (schema 2); for older results,
the `--scale X` of the run folder's command.txt (leaderboard/), else unknown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from explainbench.runner.store import RunRecord

COMMAND_FILE = "command.txt"
_SCALE_ARG = re.compile(r"--scale(?:=|\s+)(\S+)")


class SelectionError(ValueError):
    """The runs a table would combine disagree (test set or scale), or an override names no run."""


@dataclass(frozen=True)
class Rules:
    """The caller's overrides: runs named by id, the scale wanted, and whether mixing is allowed."""

    run_ids: tuple[str, ...] = ()
    scale: str | None = None
    allow_mixed: bool = False


def run_scale(run: RunRecord) -> str | None:
    """results.json's `scale`; for results without one, `--scale X` in command.txt; else None."""
    scale = run.results.get("scale")
    if scale:
        return str(scale)
    command = run.path / COMMAND_FILE
    if command.is_file():
        match = _SCALE_ARG.search(command.read_text(encoding="utf-8"))
        if match:
            return match.group(1).strip("'\"")
    return None


def run_limit(run: RunRecord) -> int | None:
    limit = run.results.get("limit")
    return None if limit is None else int(limit)


def run_n(run: RunRecord) -> int | None:
    """The number of scored test records (`n.effective`), None where the results do not say."""
    n = (run.results.get("n") or {}).get("effective")
    return None if n is None else int(n)


def run_test_ids(run: RunRecord) -> str | None:
    return run.results.get("test_ids_sha256") or None


def describe_run(run: RunRecord) -> str:
    """"global-popular split 1 run 1a2b3c4d5e6f (n 20, scale unknown, limit 20)"."""
    n, limit = run_n(run), run_limit(run)
    return (
        f"{run.model} split {run.split} run {run.run_id} (n {'?' if n is None else n}, "
        f"scale {run_scale(run) or 'unknown'}, limit {'none' if limit is None else limit})"
    )


def _newest(run: RunRecord) -> tuple[str, str]:
    return (run.created, run.run_id)


@dataclass
class Selection:
    """The run chosen per (model, split), the eligible runs left out (with why), and what they share."""

    chosen: dict[tuple[str, int], RunRecord]
    left_out: list[tuple[RunRecord, str]] = field(default_factory=list)
    scale: str | None = None
    mixed: list[str] = field(default_factory=list)  # what --allow-mixed let through, one phrase each

    def runs(self) -> list[RunRecord]:
        return [self.chosen[k] for k in sorted(self.chosen)]

    def n_by_split(self) -> dict[int, list[int | None]]:
        out: dict[int, set[int | None]] = {}
        for (_, split), run in self.chosen.items():
            out.setdefault(split, set()).add(run_n(run))
        return {k: sorted(v, key=lambda n: -1 if n is None else n) for k, v in sorted(out.items())}

    def n_line(self) -> str:
        """"scale cpu-small; test records n = 1,996 (split 1)": the line every table states."""
        scales = sorted({run_scale(r) or "unknown" for r in self.chosen.values()})
        parts = []
        for split, ns in self.n_by_split().items():
            text = " or ".join("?" if n is None else f"{n:,}" for n in ns)
            parts.append(f"{text} (split {split})")
        line = f"scale {' + '.join(scales) if scales else 'unknown'}; test records n = {', '.join(parts)}"
        if self.mixed:
            line += "; mixed on request (--allow-mixed): " + "; ".join(self.mixed)
        return line

    def notes(self) -> list[str]:
        """The n-and-scale line, then one line per run left out."""
        out = [self.n_line()]
        out += [f"left out {describe_run(run)}: {why}" for run, why in self.left_out]
        return out


def _table_scale(groups: dict[tuple[str, int], list[RunRecord]]) -> str | None:
    """The scale of most groups' best full runs (else best runs); ties go to the name first sorted."""
    votes: Counter[str | None] = Counter()
    for runs in groups.values():
        full = [r for r in runs if run_limit(r) is None] or runs
        votes[run_scale(max(full, key=_newest))] += 1
    if not votes:
        return None
    known = [(c, s) for s, c in votes.items() if s is not None]
    if known:
        top = max(c for c, _ in known)
        return min(s for c, s in known if c == top)
    return None


def select_runs(runs: Iterable[RunRecord], rules: Rules | None = None) -> Selection:
    """Choose one run per (model, split) by the module's rules and check that they may share a table."""
    rules = rules or Rules()
    runs = list(runs)
    groups: dict[tuple[str, int], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.model, run.split), []).append(run)
    named: dict[tuple[str, int], RunRecord] = {}
    for run_id in rules.run_ids:
        hits = [r for r in runs if r.run_id == run_id]
        if not hits:
            raise SelectionError(
                f"--run {run_id}: no finished run with that id among these runs "
                f"({', '.join(sorted({r.run_id for r in runs})) or 'none'})"
            )
        for hit in hits:
            key = (hit.model, hit.split)
            if key in named and named[key].run_id != run_id:
                raise SelectionError(
                    f"--run {named[key].run_id} and --run {run_id} both name {hit.model} split {hit.split}; "
                    "keep one"
                )
            named[key] = hit
    left_out: list[tuple[RunRecord, str]] = []
    if rules.scale is not None:
        for key in list(groups):
            if key in named:
                continue
            keep = [r for r in groups[key] if run_scale(r) == rules.scale]
            left_out += [(r, f"scale is not {rules.scale}") for r in groups[key] if r not in keep]
            if keep:
                groups[key] = keep
            else:
                del groups[key]
    scale = rules.scale or _table_scale({k: v for k, v in groups.items() if k not in named})
    chosen: dict[tuple[str, int], RunRecord] = {}
    for key in sorted(set(groups) | set(named)):
        if key in named:
            best = named[key]
            why = f"--run {best.run_id} chose another run"
        else:
            best = max(
                groups[key],
                key=lambda r: (run_limit(r) is None, run_scale(r) == scale, _newest(r)),
            )
            why = ""
        chosen[key] = best
        for other in groups.get(key, []):
            if other is best:
                continue
            if not why:
                if run_limit(best) is None and run_limit(other) is not None:
                    reason = f"a full run ({best.run_id}) comes before a --limit run"
                elif run_scale(best) == scale and run_scale(other) != scale:
                    reason = f"the table's scale is {scale or 'unknown'}"
                else:
                    reason = f"a newer run ({best.run_id}) was chosen"
            else:
                reason = why
            left_out.append((other, reason))
    selection = Selection(chosen, left_out, scale)
    _check(selection, rules.allow_mixed)
    return selection


def _check(selection: Selection, allow_mixed: bool) -> None:
    """Refuse (or, with allow_mixed, record) different test sets on a split or different scales."""
    runs = selection.runs()
    problems: list[tuple[str, list[RunRecord]]] = []
    by_split: dict[int, list[RunRecord]] = {}
    for run in runs:
        by_split.setdefault(run.split, []).append(run)
    for split, group in sorted(by_split.items()):
        ns = {run_n(r) for r in group}
        ids = {run_test_ids(r) for r in group} - {None}
        if len(ns) > 1 or len(ids) > 1:
            problems.append((f"different test sets on split {split}", group))
    scales = {run_scale(r) for r in runs}
    if len(scales) > 1:
        off = [r for r in runs if run_scale(r) != selection.scale]
        problems.append((f"different scales (the table's is {selection.scale or 'unknown'})", off))
    if not problems:
        return
    if allow_mixed:
        selection.mixed = [what for what, _ in problems]
        return
    what, group = problems[0]
    raise SelectionError(
        f"refusing to combine {what}: " + "; ".join(describe_run(r) for r in group)
        + ". Choose runs with --run RUN_ID or --scale NAME, or pass --allow-mixed"
    )


def rules_from(run_ids: Sequence[str] | None, scale: str | None, allow_mixed: bool) -> Rules:
    """Rules from the CLI options --run (repeatable), --scale and --allow-mixed."""
    return Rules(tuple(run_ids or ()), scale, bool(allow_mixed))
