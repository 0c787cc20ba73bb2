"""PEPLER and PEPLER-D on a tiny GPT-2 built here (random weights, a byte-level BPE trained on the data):
conformance, learning, the two stages, save/load, the CLI with a local model and without any."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from learning import item_fixes_text

from baselines.pepler import Pepler, PeplerConfig, PeplerD, PeplerDConfig, PeplerMF, PeplerMLP
from baselines.pepler.gpt2 import GPT2Words, gpt2_tokenizer, locate
from baselines.pepler.tiny import save_tiny_gpt2
from explainbench.api.explainer import ExplainContext, ExplainRequest, NotReadyError
from explainbench.data import load_split
from explainbench.data.tokenizer import ExplanationTokenizer
from explainbench.probe.identity import identity_probe
from explainbench.testing import check_explainer

TINY = {"batch_size": 32, "eval_batch_size": 64, "max_epochs": 1, "max_words": 12, "gen_max_len": 12,
        "lr": 0.01, "max_steps_per_epoch": 6}


@pytest.fixture(scope="module")
def gpt2_dir(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    train = load_split("synthetic-tiny", 1, home=home)["train"]["explanation"]
    texts = list(train) + list(item_fixes_text(200, seed=5)["explanation"])
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"), texts)


def test_the_tokenizer_speaks_gpt2_to_the_model_and_words_to_the_metrics(gpt2_dir: Path) -> None:
    words = ExplanationTokenizer.build(["The soup was salty ."], vocab_size=10)
    tok = GPT2Words(gpt2_tokenizer(gpt2_dir), words, {})
    ids = tok.encode("The soup was salty.")
    assert tok.bos_id not in ids and tok.eos_id not in ids and ids
    assert tok.decode([*ids, tok.eos_id, *ids]) == "the soup was salty ."  # cut at <eos>, the dataset's words
    assert len({tok.bos_id, tok.eos_id, tok.pad_id}) == 3 and tok.vocab.size == len(tok.gpt2)


@pytest.mark.parametrize("cls", [Pepler, PeplerD, PeplerMF, PeplerMLP])
def test_conformance(cls, gpt2_dir: Path, home: Path) -> None:
    report = check_explainer(cls, config={**TINY, "pretrained": str(gpt2_dir)}, home=home)
    assert "save/load round trip" in " | ".join(report.passed)


def _fit(cls, config, train, validation):
    words = ExplanationTokenizer.build(train["explanation"])
    torch.set_num_threads(1)
    return cls(config).fit(train, validation, context=ExplainContext(tokenizer=words, progress=False))


def test_pepler_learns_the_item_and_its_two_stages_run(gpt2_dir: Path) -> None:
    train, validation = item_fixes_text(480, seed=0), item_fixes_text(120, seed=1)
    config = PeplerConfig(pretrained=str(gpt2_dir), batch_size=32, max_epochs=4, lr=0.01, max_words=12,
                          gen_max_len=12)
    model = _fit(Pepler, config, train, validation)
    prompt, both = model.prompt_result, model.train_result
    assert prompt is not None and both is not None
    assert prompt.best_val_loss > both.best_val_loss  # the second stage, GPT-2 trained too, goes lower
    losses = [e["val_loss"] for e in both.history]
    assert losses[-1] < losses[0]
    result = identity_probe(model, validation, seed=0)
    assert result.gain("items shuffled", "text") > 0.3, result.losses  # the item fixes 2 of 6 words
    out = model.explain([ExplainRequest("u1", "i2", 4.0)])
    assert out[0].text.split()[:2] == ["the", "view"]  # item 2 writes "the view was grand ."


def test_pepler_d_reads_the_features_of_the_pair(gpt2_dir: Path, tmp_path: Path) -> None:
    train, validation = item_fixes_text(480, seed=0), item_fixes_text(120, seed=1)
    config = PeplerDConfig(pretrained=str(gpt2_dir), batch_size=32, max_epochs=8, lr=0.01, max_words=12,
                           gen_max_len=12)
    model = _fit(PeplerD, config, train, validation)
    table = model.tokenizer.prompts
    assert table is not None and table.features == sorted({f for f in train["feature"]})
    result = identity_probe(model, validation, seed=0)
    assert result.gain("items shuffled", "text") > 0.3, result.losses
    model.save(tmp_path)
    again = PeplerD.load(tmp_path)
    requests = [ExplainRequest(u, i, 3.0) for u, i in [("u0", "i0"), ("u3", "i4")]]
    assert [e.text for e in again.explain(requests)] == [e.text for e in model.explain(requests)]


def test_locate_refuses_in_one_line_without_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(NotReadyError, match="not on this machine") as info:
        locate("gpt2")
    assert "\n" not in str(info.value) and "pretrained=DIR" in str(info.value)
    with pytest.raises(NotReadyError, match="no such folder"):
        locate(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotReadyError, match="holds no GPT-2 model"):
        locate(str(tmp_path / "empty"))


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
            **env}
    command = [sys.executable, "-m", "explainbench.cli.main", *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=600)


def test_cli_runs_with_a_local_model_and_stops_cleanly_without(
    gpt2_dir: Path, home: Path, tmp_path: Path
) -> None:
    sets = [x for k, v in {**TINY, "pretrained": gpt2_dir}.items() for x in ("--set", f"{k}={v}")]
    ran = _cli(home, "run", "--model", "pepler", "--data", "synthetic-tiny", *sets, "--limit", "30",
               "--n-boot", "10", "--no-meteor", "--no-progress")
    assert ran.returncode == 0, ran.stderr
    (path,) = (home / "runs" / "synthetic-tiny" / "split-1" / "pepler").glob("*/results.json")
    results = json.loads(path.read_text())
    assert results["config"]["pretrained"] == str(gpt2_dir) and results["n"]["effective"] == 30
    before = sorted(p.name for p in (home / "runs").rglob("*"))
    failed = _cli(home, "run", "--model", "pepler-d", "--data", "synthetic-tiny", "--no-progress",
                  HF_HOME=str(tmp_path / "empty-hf"))
    assert failed.returncode != 0
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, failed.stderr
    assert "pretrained=gpt2" in lines[0] and "not on this machine" in lines[0], failed.stderr
    assert sorted(p.name for p in (home / "runs").rglob("*")) == before  # nothing written


def test_the_pretrained_files_are_in_the_run_identity(home: Path, tmp_path: Path) -> None:
    """Other weights under the same folder name make another run; the same files, the same run."""
    from explainbench.data import load_manifest
    from explainbench.runner.run import RunSpec, run_identity

    manifest = load_manifest("synthetic-tiny", home)
    texts = list(load_split("synthetic-tiny", 1, home=home)["train"]["explanation"])

    def run_id(seed: int) -> str:
        save_tiny_gpt2(tmp_path / "gpt2", texts, seed=seed)
        spec = RunSpec("pepler", "synthetic-tiny", PeplerConfig(pretrained=str(tmp_path / "gpt2")), home=home)
        return run_identity(spec, manifest).run_id

    first = run_id(0)
    assert run_id(0) == first and run_id(1) != first


def test_the_tiny_gpt2_command_builds_from_the_training_split(home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "EXPLAINBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "baselines.pepler.tiny", "--data", "synthetic-tiny",
                          "--out", str(tmp_path / "g"), "--vocab-size", "300", "--n-embd", "16"],
                         env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "RuntimeWarning" not in out.stderr, out.stderr  # the package must not import the module first
    assert "--set pretrained=" in out.stdout and locate(str(tmp_path / "g")) == tmp_path / "g"
    words = set(" ".join(load_split("synthetic-tiny", 1, home=home)["train"]["explanation"]).split())
    vocab = set(json.loads((tmp_path / "g" / "tokenizer.json").read_text())["model"]["vocab"])
    assert any(("Ġ" + w) in vocab for w in words)  # the BPE learned the training text's words


def test_tiny_local_builds_the_model_in_the_run(home: Path) -> None:
    """pretrained=tiny-local: no folder, no network; the run builds its GPT-2 from the training split,
    and the same command again finds the same run (the same identity)."""
    sets = [x for k, v in {**TINY, "pretrained": "tiny-local"}.items() for x in ("--set", f"{k}={v}")]
    args = ("run", "--model", "pepler-d", "--data", "synthetic-tiny", *sets,
            "--limit", "20", "--n-boot", "10", "--no-meteor", "--no-progress")
    ran = _cli(home, *args)
    assert ran.returncode == 0, ran.stderr
    (path,) = (home / "runs" / "synthetic-tiny" / "split-1" / "pepler-d").glob("*/results.json")
    results = json.loads(path.read_text())
    assert results["config"]["pretrained"] == "tiny-local" and results["n"]["effective"] == 20
    again = _cli(home, *args)
    assert again.returncode == 0 and len(list(path.parent.parent.glob("*/results.json"))) == 1
