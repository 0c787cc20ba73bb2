"""Amazon Reviews 2023 from the Hugging Face Hub: one category's review file, fetched with huggingface_hub.

The dataset `McAuley-Lab/Amazon-Reviews-2023` (Hou et al. 2024) keeps one JSON-lines file of reviews per
category under `raw/review_categories/<Category>.jsonl` (schema: rating, title, text, asin,
parent_asin, user_id, timestamp, helpful_vote, verified_purchase). `fetch_category` downloads it into
the Hugging Face cache (resumable, with huggingface_hub's progress bar) or reads it from a local folder
laid out as the repository (`--source-dir`, what the tests serve). The category list comes from the
repository's own file list (or the folder's), so an unknown category gets a did-you-mean from the real
names. Offline (no network, or HF_HUB_OFFLINE=1) with the file not in the cache: one DataError line.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from explainbench.api.hub import hub_offline
from explainbench.data.errors import DataError

REPO = "McAuley-Lab/Amazon-Reviews-2023"
REVIEW_DIR = "raw/review_categories"


def _names(files: list[str]) -> list[str]:
    prefix = REVIEW_DIR + "/"
    ends = ".jsonl"
    return sorted(f[len(prefix) : -len(ends)] for f in files if f.startswith(prefix) and f.endswith(ends))


def categories(source_dir: Path | None = None) -> list[str]:
    """The categories with a review file: from source_dir laid out as the repository, else the Hub's
    file list (the cached snapshot's when offline)."""
    if source_dir is not None:
        folder = Path(source_dir) / REVIEW_DIR
        if not folder.is_dir():
            raise DataError(f"{source_dir}: no {REVIEW_DIR}/ folder; lay it out as the Hub repository {REPO}")
        return sorted(p.stem for p in folder.glob("*.jsonl"))
    if hub_offline():
        cached = _cached_snapshot()
        if cached is None:
            raise DataError(
                f"{REPO} is not in the Hugging Face cache and the Hub is offline (HF_HUB_OFFLINE=1): run "
                "this once with a network, or pass --source-dir DIR holding "
                "raw/review_categories/<Category>.jsonl"
            )
        return sorted(p.stem for p in (cached / REVIEW_DIR).glob("*.jsonl"))
    from huggingface_hub import HfApi

    try:
        return _names(HfApi().list_repo_files(REPO, repo_type="dataset"))
    except Exception as exc:  # noqa: BLE001 - no network, a proxy, a moved repository: one line
        raise DataError(
            f"cannot list {REPO} on the Hugging Face Hub ({type(exc).__name__}); check the network, or set "
            "HF_HUB_OFFLINE=1 to use the cache, or pass --source-dir DIR"
        ) from None


def _cached_snapshot() -> Path | None:
    """The newest cached snapshot folder of the repository, if any."""
    from huggingface_hub.constants import HF_HUB_CACHE

    root = Path(HF_HUB_CACHE) / ("datasets--" + REPO.replace("/", "--")) / "snapshots"
    snapshots = sorted(root.glob("*"), key=lambda p: p.stat().st_mtime) if root.is_dir() else []
    return snapshots[-1] if snapshots else None


def check_category(category: str, known: list[str]) -> None:
    if category not in known:
        close = difflib.get_close_matches(category, known, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise DataError(f"unknown Amazon 2023 category {category!r}.{hint} Known: {', '.join(known)}")


def fetch_category(category: str, source_dir: Path | None = None) -> Path:
    """The local path of the category's review file (downloaded into the HF cache where needed)."""
    check_category(category, categories(source_dir))
    filename = f"{REVIEW_DIR}/{category}.jsonl"
    if source_dir is not None:
        return Path(source_dir) / filename
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(REPO, filename, repo_type="dataset"))
    except Exception as exc:  # noqa: BLE001 - offline and not cached, interrupted: one line
        why = "the Hub is offline (HF_HUB_OFFLINE=1)" if hub_offline() else type(exc).__name__
        raise DataError(
            f"cannot fetch {filename} of {REPO} ({why}); run again with a network (the download resumes) or "
            "pass --source-dir DIR"
        ) from None
