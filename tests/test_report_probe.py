"""Figure 4, the initial-noise probe: duplication, cosine, binning by hand; a tiny end-to-end run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from report_fixtures import report_home
from typer.testing import CliRunner

from explainbench.cli.main import app
from explainbench.probe import bin_users, cosine, duplicate_half
from explainbench.probe.noise import COPY_SUFFIX, spearman


def test_duplicate_half_gives_each_copy_the_same_examples():
    train = datasets.Dataset.from_dict(
        {
            "user_id": ["a", "a", "b", "c", "c", "c"],
            "item_id": ["x", "y", "x", "y", "z", "x"],
            "rating": [5.0, 4.0, 1.0, 3.0, 2.0, 5.0],
            "explanation": ["e0", "e1", "e2", "e3", "e4", "e5"],
            "feature": ["f"] * 6,
            "sentiment": [1, 1, -1, 1, -1, 1],
        }
    )
    dup = duplicate_half(train, fraction=0.5, seed=3)
    assert len(dup.sampled) == 3 and len(set(dup.sampled)) == 3
    cols = dup.columns
    n = len(dup.sampled)
    assert cols["explanation"][:n] == cols["explanation"][n:] == [f"e{i}" for i in dup.sampled]
    assert cols["user_id"][n:] == [u + COPY_SUFFIX for u in cols["user_id"][:n]]
    assert cols["item_id"][n:] == [i + COPY_SUFFIX for i in cols["item_id"][:n]]
    assert cols["rating"][:n] == cols["rating"][n:]
    for user, count in dup.counts.items():
        assert cols["user_id"].count(user) == cols["user_id"].count(user + COPY_SUFFIX) == count


def test_cosine_and_bins_by_hand():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[0.0, 2.0], [2.0, 2.0], [1.0, 0.0]])
    assert cosine(a, b).tolist() == pytest.approx([0.0, 1.0, 0.0])
    torch_cos = torch.nn.functional.cosine_similarity(
        torch.randn(5, 4, generator=torch.Generator().manual_seed(0)), torch.ones(5, 4), dim=1
    )
    ours = cosine(torch.randn(5, 4, generator=torch.Generator().manual_seed(0)).numpy(), np.ones((5, 4)))
    assert ours == pytest.approx(torch_cos.numpy(), abs=1e-6)
    counts = [5, 1, 3, 1, 2]
    sims = [0.9, 0.1, 0.5, 0.3, 0.4]
    bins = bin_users(counts, sims, 2)  # sorted: (1,.1) (1,.3) (2,.4) | (3,.5) (5,.9)
    assert [b["n_users"] for b in bins] == [3, 2]
    assert bins[0]["count_mean"] == pytest.approx(4 / 3) and bins[1]["count_mean"] == 4.0
    assert bins[0]["similarity_mean"] == pytest.approx(0.8 / 3)
    assert bins[1]["similarity_ci"] == pytest.approx(1.96 * np.std([0.5, 0.9], ddof=1) / math.sqrt(2))
    assert len(bin_users(counts, sims, 80)) == 5  # never more bins than users
    assert spearman([1, 2, 3], [0.1, 0.5, 0.2]) == pytest.approx(0.5)
    assert spearman([1, 1], [0.1, 0.2]) is None


def test_probe_noise_end_to_end_on_tiny_data(tmp_path, tmp_path_factory):
    from explainbench.data import load_split

    home = report_home(tmp_path_factory)  # synthetic-tiny is prepared there
    out = tmp_path / "fig4"
    result = CliRunner().invoke(
        app,
        [
            "probe",
            "noise",
            "--data",
            "synthetic-tiny",
            "--no-progress",
            "--bins",
            "20",
            "--device",
            "cpu",
            "--set",
            "emb_size=8",
            "--set",
            "word_size=8",
            "--set",
            "hidden_size=8",
            "--set",
            "latent_size=4",
            "--set",
            "max_epochs=1",
            "--set",
            "max_steps_per_epoch=3",
            "--set",
            "batch_size=64",
            "-o",
            str(out),
        ],
        env={"EXPLAINBENCH_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    paths = [Path(p) for p in result.stdout.split()]
    assert paths[:3] == [out.with_suffix(".png"), out.with_suffix(".svg"), out.with_suffix(".json")]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and "Figure 4" in paths[1].read_text()
    probe = json.loads(paths[2].read_text())
    train = load_split("synthetic-tiny", 1, home)["train"]
    sampled = probe["config"]["fraction"] * len(train)
    users = {u["user_id"]: u for u in probe["users"]}
    picked = [
        train[i]["user_id"] for i in duplicate_half(train, fraction=0.5, seed=probe["config"]["seed"]).sampled
    ]
    assert sum(u["count"] for u in users.values()) == len(picked) == round(sampled)
    assert {u: users[u]["count"] for u in users} == {u: picked.count(u) for u in set(picked)}
    assert len(probe["bins"]) == 20 and sum(b["n_users"] for b in probe["bins"]) == len(users)
    sims = [u["similarity"] for u in sorted(probe["users"], key=lambda u: u["count"])]  # stable, as the probe
    assert all(-1.0 <= s <= 1.0 for s in sims)
    first = probe["bins"][0]["n_users"]
    assert probe["bins"][0]["similarity_mean"] == pytest.approx(np.mean(sims[:first]))
    assert probe["initial_similarity"] == pytest.approx(
        np.mean([u["initial_similarity"] for u in users.values()])
    )
    log = out.with_suffix(".train_log.jsonl")
    assert log in paths and any(
        json.loads(line).get("kind") == "epoch" for line in log.read_text().splitlines()
    )
