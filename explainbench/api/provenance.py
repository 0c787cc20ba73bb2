"""Provenance of a result: the git state of the checkout, hashes of the code that made it, and the
versions of every library that computes a number.

runner/ (results of `run`) and metrics/ (results of `evaluate`) both record these in results.json,
so they live here, beside the results schema, where both can import them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import platform
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # explainbench/
CHECKOUT = PACKAGE_ROOT.parent  # the source checkout (or site-packages when installed)

# Distributions whose code computes a number in results.json: the training stack (torch, numpy,
# transformers, tokenizers), the data stack (datasets, pyarrow) and every metric backend.
NUMERIC_PACKAGES = (
    "explainbench",
    "torch",
    "numpy",
    "datasets",
    "pyarrow",
    "tokenizers",
    "transformers",
    "sacrebleu",
    "regex",
    "rouge-score",
    "nltk",
    "vaderSentiment",
    "pydantic",
    "rank-bm25",  # the retrieve floor's BM25
    "bert-score",  # BERTScore, where asked for
)

# The paths left out of the dirty flag and the diff hash: the committed results themselves.
GIT_IGNORED_PATHS = ("leaderboard",)


def package_versions(extra: Sequence[str] = ()) -> dict[str, str]:
    """Versions of python and of the installed packages that can change a number in results.json."""
    out = {"python": platform.python_version()}
    for name in [*NUMERIC_PACKAGES, *extra]:
        if not name or name in out:
            continue
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def _git(args: Sequence[str], where: Path | None) -> bytes | None:
    """stdout of `git -C where ARGS`, or None outside a checkout (or without git)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(where or CHECKOUT), *args], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _pathspec() -> list[str]:
    return ["--", ".", *(f":(exclude){p}" for p in GIT_IGNORED_PATHS)]


def git_commit(path: Path | None = None) -> str | None:
    """HEAD of the git checkout holding explainbench (None outside a checkout or before a commit)."""
    out = _git(["rev-parse", "HEAD"], path)
    commit = out.decode().strip() if out is not None else ""
    return commit if len(commit) == 40 else None


def git_dirty(path: Path | None = None) -> bool | None:
    """Whether tracked files differ from HEAD (`git status --porcelain`, untracked files and
    leaderboard/ left out); None outside a checkout."""
    if git_commit(path) is None:
        return None
    out = _git(["status", "--porcelain", "--untracked-files=no", *_pathspec()], path)
    return None if out is None else bool(out.strip())


def git_diff_sha256(path: Path | None = None) -> str | None:
    """sha256 of `git diff HEAD` (leaderboard/ left out): which uncommitted edits a dirty run had.
    The hash of the empty diff on a clean tree; None outside a checkout."""
    if git_commit(path) is None:
        return None
    out = _git(["diff", "HEAD", "--no-color", "--no-ext-diff", *_pathspec()], path)
    return None if out is None else hashlib.sha256(out).hexdigest()


def python_files(root: Path) -> list[Path]:
    """*.py files under root (root itself when it is one), sorted; caches and hidden folders skipped."""
    root = Path(root)
    if root.is_file():
        return [root] if root.suffix == ".py" else []
    return sorted(
        p
        for p in root.rglob("*.py")
        if p.is_file() and not any(part == "__pycache__" or part.startswith(".") for part in
                                   p.relative_to(root).parts)
    )


def code_sha256(roots: Iterable[Path]) -> str:
    """sha256 over the sorted relative paths and bytes of the *.py files under roots.

    Only Python source counts: editing docs, YAML or data next to the code leaves the hash alone, a
    fix to any source file changes it. A path is taken relative to its root's parent, so the same
    folder gives the same hash wherever the checkout lives.
    """
    entries: list[tuple[str, Path]] = []
    for root in roots:
        root = Path(root).resolve()
        for path in python_files(root):
            entries.append((path.relative_to(root.parent).as_posix(), path))
    digest = hashlib.sha256()
    for rel, path in sorted(entries):
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def module_folder(obj: type) -> Path | None:
    """The folder of the module that defines obj (an explainer class): its code's home."""
    import sys

    module = sys.modules.get(getattr(obj, "__module__", ""))
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if file else None
