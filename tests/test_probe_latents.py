"""The latent probe: the variance share against its chance level; on a corpus where the item fixes the
sentence, the recognition codes are the item's and the oracle prior decodes exactly like them; the
probe refuses models without codes; the CLI reads a finished MVAE run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import datasets
import pytest
import torch
from cli_runner import invoke
from learning import item_fixes_text

from baselines.peter.config import PeterConfig
from baselines.peter.explainer import Peter
from explainbench.api.explainer import ExplainContext
from explainbench.data.tokenizer import ExplanationTokenizer
from explainbench.models.mvae import MVAE, MVAENoRN
from explainbench.models.mvae.config import TINY
from explainbench.probe.identity import identity_probe
from explainbench.probe.latents import NLL_CONDITIONS, explained_share, latent_probe


def test_explained_share_against_hand_values_and_chance() -> None:
    gen = torch.Generator().manual_seed(0)
    groups = torch.arange(40).repeat_interleave(50)  # 40 groups of 50
    effect = torch.randn(40, 3, generator=gen)[groups]
    noise = torch.randn(2000, 3, generator=gen)
    share, chance = explained_share(effect + noise, groups)
    assert chance == pytest.approx(39 / 1999)
    # between-group variance 1 and within 1: about half, plus the chance share of the noise
    assert 0.4 < share < 0.6
    share, _ = explained_share(noise, groups)  # codes that do not depend on the group
    assert abs(share - chance) < 0.015
    share, _ = explained_share(effect, groups)
    assert share == pytest.approx(1.0)
    # by hand: two groups with means 0 and 2
    codes = torch.tensor([[0.0], [0.0], [1.0], [3.0]])
    share, chance = explained_share(codes, torch.tensor([5, 5, 9, 9]))
    # mean 1: total (1 + 1 + 0 + 4) = 6; within (0 + 0 + 1 + 1) = 2
    assert share == pytest.approx(1 - 2 / 6) and chance == pytest.approx(1 / 3)


@pytest.fixture(scope="module")
def corpus() -> tuple[datasets.Dataset, datasets.Dataset, ExplanationTokenizer]:
    train, validation = item_fixes_text(240, seed=0), item_fixes_text(60, seed=1)
    return train, validation, ExplanationTokenizer.build(train["explanation"])


def _fit(cls, corpus, steps: int = 6):
    train, validation, tokenizer = corpus
    config = dataclasses.replace(
        cls.config_class.tiny(), max_epochs=1, max_steps_per_epoch=steps, warmup_steps=1, batch_size=32
    )
    torch.set_num_threads(1)
    return cls(config).fit(train, validation, context=ExplainContext(tokenizer=tokenizer, progress=False))


def test_codes_that_the_item_fixes(corpus) -> None:
    train, validation, _ = corpus
    mvae = _fit(MVAE, corpus)
    result = latent_probe(mvae, train, validation)
    assert result.n_train == 240 and result.n_probed == 60
    assert [s.scale for s in result.scales] == [0, 1, 2]
    for s in result.scales:
        # the sentence is a function of the item, and mu_q a function of the sentence (eval mode)
        assert s.item_share == pytest.approx(1.0, abs=1e-4), s
        assert s.item_chance == pytest.approx(5 / 239)
        assert s.user_share < 0.5 and s.posterior_sd > 0
        assert s.prior_share <= 1.0 and s.probed_prior_share <= 1.0
    # the oracle prior (the item's mean code) is each sentence's own code here
    assert result.nll[NLL_CONDITIONS[1]] == pytest.approx(result.nll[NLL_CONDITIONS[2]], abs=1e-3)
    # decoding from mu_p is the test architecture: the run's own validation NLL
    assert result.nll[NLL_CONDITIONS[0]] == pytest.approx(
        identity_probe(mvae, validation).losses["true"]["nll"], abs=1e-3
    )
    payload = result.to_dict()
    assert payload["probe"] == "latents" and len(payload["scales"]) == 3
    assert set(payload["nll_per_sentence"]) == set(NLL_CONDITIONS)


def test_refuses_models_without_codes(corpus) -> None:
    train, validation, tokenizer = corpus
    with pytest.raises(ValueError, match="no recognition network"):
        latent_probe(_fit(MVAENoRN, corpus, steps=2), train, validation)
    config = dataclasses.replace(PeterConfig.tiny(), max_epochs=1)
    peter = Peter(config).fit(train, validation, context=ExplainContext(tokenizer=tokenizer, progress=False))
    with pytest.raises(ValueError, match="not an MVAE"):
        latent_probe(peter, train, validation)


def test_cli_probes_a_finished_mvae_run(home: Path, tmp_path: Path) -> None:
    tiny = {**TINY, "max_epochs": 1, "max_steps_per_epoch": 3, "warmup_steps": 1, "gen_max_len": 5}
    sets = [a for k, v in tiny.items() for a in ("--set", f"{k}={v}")]
    result = invoke(home, "run", "-m", "mvae", "-d", "synthetic-tiny", *sets,
                    "--limit", "10", "--n-boot", "10", "--no-meteor", "--no-progress")
    assert result.exit_code == 0, result.output
    (run_dir,) = (home / "runs" / "synthetic-tiny" / "split-1" / "mvae").iterdir()
    out = tmp_path / "latents.json"
    result = invoke(home, "probe", "latents", str(run_dir), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "item mean of mu_q (oracle)" in result.output
    payload = json.loads(out.read_text())
    assert payload["model"] == "mvae" and payload["records"] == "validation"
    assert set(payload["nll_per_sentence"]) == set(NLL_CONDITIONS)
    # a run of a model without codes: one line, exit 2
    (tmp_path / "norn").mkdir()
    (tmp_path / "norn" / "config.yaml").write_text("model: item-popular\ndata: synthetic-tiny\nsplit: 1\n")
    result = invoke(home, "probe", "latents", str(tmp_path / "norn"))
    assert result.exit_code == 2 and "not a neural explainer; the latent probe" in result.output
