"""`explainbench data prepare amazon-2023`: a category of the Hub's Amazon Reviews 2023, served from a
local folder laid out as the repository (--source-dir) or from a Hugging Face cache built here; never
the network. Offline without the file: one line, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from review_texts import REVIEW_TEXTS

from explainbench.data import load_manifest

TEXTS = REVIEW_TEXTS
CATEGORY = "All_Beauty"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def reviews_2023() -> list[str]:
    """2023-schema lines: 8 users x 5 parent products; each product has two variant asins."""
    out = []
    for u in range(8):
        for p in range(5):
            out.append(json.dumps({
                "rating": float(1 + (u + p) % 5), "title": "a title",
                "text": f"{TEXTS[(u + 2 * p) % len(TEXTS)]} Order {u}-{p} came fast.",
                "images": [], "asin": f"B{p}-{u % 2}", "parent_asin": f"P{p}", "user_id": f"U{u}",
                "timestamp": 1588687728923 + u, "helpful_vote": 0, "verified_purchase": True,
            }))
    out.append(out[0])  # an exact repeat
    return out


def lay_out(root: Path) -> Path:
    folder = root / "raw" / "review_categories"
    folder.mkdir(parents=True)
    (folder / f"{CATEGORY}.jsonl").write_text("\n".join(reviews_2023()) + "\n")
    (folder / "Gift_Cards.jsonl").write_text("")
    return root


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
            **env}
    command = [sys.executable, "-m", "explainbench.cli.main", *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=300)


def test_prepare_from_a_folder_laid_out_as_the_repository(tmp_path: Path) -> None:
    source = lay_out(tmp_path / "repo")
    home = tmp_path / "home"
    out = cli(home, "data", "prepare", "amazon-2023", "--category", CATEGORY, "--source-dir", str(source))
    assert out.returncode == 0, out.stderr
    manifest = load_manifest("amazon-2023-all-beauty", home)
    assert manifest["counts"]["items"] == 5  # parent_asin: the variants B{p}-0 and B{p}-1 are one item
    assert manifest["source"]["duplicates"]["exact_repeats"] == 1
    assert manifest["source"]["path"].endswith(f"raw/review_categories/{CATEGORY}.jsonl")


def test_unknown_category_gets_a_did_you_mean(tmp_path: Path) -> None:
    source = lay_out(tmp_path / "repo")
    out = cli(tmp_path / "home", "data", "prepare", "amazon-2023", "--category", "All_Beuty",
              "--source-dir", str(source))
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "Did you mean 'All_Beauty'" in lines[0] and "Gift_Cards" in lines[0], out.stderr


def test_prepare_from_the_hugging_face_cache_offline(tmp_path: Path) -> None:
    """The same download code (hf_hub_download), answered by a cache laid out as huggingface_hub's."""
    hub = tmp_path / "hf" / "hub" / "datasets--McAuley-Lab--Amazon-Reviews-2023"
    (hub / "refs").mkdir(parents=True)
    (hub / "refs" / "main").write_text(COMMIT)
    lay_out(hub / "snapshots" / COMMIT)
    home = tmp_path / "home"
    out = cli(home, "data", "prepare", "amazon-2023", "--category", CATEGORY, "--name", "beauty",
              HF_HOME=str(tmp_path / "hf"))
    assert out.returncode == 0, out.stderr
    assert load_manifest("beauty", home)["counts"]["items"] == 5


def test_offline_without_the_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = cli(home, "data", "prepare", "amazon-2023", "--category", CATEGORY, HF_HOME=str(tmp_path / "hf"))
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "offline" in lines[0] and "--source-dir" in lines[0], out.stderr
    assert not (home / "datasets").exists() or not any((home / "datasets").iterdir())


def test_data_amazon_unprepared_offers_both_routes(tmp_path: Path) -> None:
    out = cli(tmp_path / "home", "run", "--model", "item-popular", "--data", "amazon", "--no-progress")
    assert out.returncode != 0
    text = " ".join(out.stderr.split())
    assert "data import peter" in text and "matches the paper's numbers" in text
    assert "data prepare amazon-2023 --category Movies_and_TV" in text
