"""The identity probe: a model that reads the item loses when the items are shuffled; one that cannot
read the users does not lose when they are; the CLI reads a finished run and refuses what it cannot probe.
"""

from __future__ import annotations

import json

import datasets
import pytest
import torch
from cli_runner import invoke
from learning import item_fixes_text

from baselines.peter.config import PeterConfig
from baselines.peter.explainer import Peter
from explainbench.api.explainer import ExplainContext
from explainbench.data.tokenizer import ExplanationTokenizer
from explainbench.probe.identity import CONDITIONS, _shuffled, identity_probe


@pytest.fixture(scope="module")
def trained() -> tuple[Peter, datasets.Dataset]:
    train, validation = item_fixes_text(480, seed=0), item_fixes_text(120, seed=1)
    tokenizer = ExplanationTokenizer.build(train["explanation"])
    config = PeterConfig.tiny()
    config.optimizer, config.lr, config.max_epochs = "adam", 3e-3, 8
    torch.set_num_threads(1)
    peter = Peter(config).fit(train, validation, context=ExplainContext(tokenizer=tokenizer, progress=False))
    return peter, validation


def test_shuffling_moves_ids_between_records_and_nothing_else(trained) -> None:
    peter, validation = trained
    records = peter.encode(validation)
    for users, items in ((True, False), (False, True), (True, True)):
        out = _shuffled(records, users=users, items=items, seed=0)
        for name, moved in (("user", users), ("item", items)):
            before, after = getattr(records, name), getattr(out, name)
            assert sorted(after.tolist()) == sorted(before.tolist())  # the same ids, other records
            assert (not torch.equal(after, before)) == moved
        for name in ("text", "rating", "sentiment", "feature"):
            assert torch.equal(getattr(out, name), getattr(records, name))
    again = _shuffled(records, users=True, items=True, seed=0)
    assert torch.equal(again.item, _shuffled(records, users=True, items=True, seed=0).item)


def test_the_item_matters_and_the_user_does_not(trained) -> None:
    peter, validation = trained
    result = identity_probe(peter, validation, seed=0)
    assert result.n == 120 and result.dropped == 0
    assert set(result.losses) == set(CONDITIONS)
    # two of the six target tokens follow from the item: log 6 nats each for a model that reads it
    assert result.gain("items shuffled", "text") > 0.3, result.losses
    assert result.gain("both shuffled", "text") > 0.3, result.losses
    assert abs(result.gain("users shuffled", "text")) < 0.1 * result.gain("items shuffled", "text")
    payload = result.to_dict()
    assert payload["gains"]["items shuffled"]["total"] == pytest.approx(
        payload["losses"]["items shuffled"]["total"] - payload["losses"]["true"]["total"]
    )


def test_cli_probes_a_finished_run_and_writes_json(home, tmp_path) -> None:
    tiny = ["d_model=32", "d_ffn=64", "n_layers=1", "max_epochs=1", "batch_size=64"]
    sets = [a for s in tiny for a in ("--set", s)]
    result = invoke(home, "run", "-m", "peter", "-d", "synthetic-tiny", *sets, "--limit", "20",
                    "--n-boot", "20", "--no-meteor", "--no-progress")
    assert result.exit_code == 0, result.output
    (run_dir,) = (home / "runs" / "synthetic-tiny" / "split-1" / "peter").iterdir()
    out = tmp_path / "probe" / "identity.json"
    result = invoke(home, "probe", "identity", str(run_dir), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "items shuffled" in result.output
    payload = json.loads(out.read_text())
    assert payload["model"] == "peter" and payload["records"] == "validation"
    assert set(payload["losses"]) == set(CONDITIONS)
    assert set(payload["losses"]["true"]) == {"total", "text", "context", "rating"}


def test_cli_refuses_what_it_cannot_probe(home, tmp_path) -> None:
    result = invoke(home, "probe", "identity", str(tmp_path))
    assert result.exit_code == 2 and "config.yaml: missing" in result.output
    (tmp_path / "config.yaml").write_text("model: item-popular\ndata: synthetic-tiny\nsplit: 1\n")
    result = invoke(home, "probe", "identity", str(tmp_path))
    assert result.exit_code == 2 and "not a neural explainer" in result.output
    (tmp_path / "config.yaml").write_text("model: peter\ndata: synthetic-tiny\nsplit: 1\n")
    result = invoke(home, "probe", "identity", str(tmp_path))
    assert result.exit_code == 2 and "model: missing" in result.output
    result = invoke(home, "probe", "identity", str(tmp_path), "--records", "train")
    assert result.exit_code == 2 and "choose validation or test" in result.output
    (tmp_path / "config.yaml").write_text(
        "model: peter\ndata: synthetic-tiny\nsplit: 1\ndataset_fingerprint: abc\n"
    )
    result = invoke(home, "probe", "identity", str(tmp_path))
    assert result.exit_code == 2 and "fingerprints differ" in result.output
