"""Numeric precision: fp32 / bf16 / auto resolution, autocast, the runner's resolution of auto, and a
tiny training run of every neural model at both precisions (each learns and explains)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from explainbench.api.explainer import ExplainContext, ExplainRequest
from explainbench.api.registry import get_explainer
from explainbench.engine import precision as P
from explainbench.runner.config import ConfigError, resolve_config
from explainbench.runner.run import resolved_precision_config


def test_cpu_flags_decide_bf16(tmp_path: Path) -> None:
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    without = tmp_path / "b"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    amx = tmp_path / "c"
    amx.write_text("flags\t\t: fpu amx_bf16 amx_tile\n")
    assert P.cpu_has_bf16(with_bf16) and P.cpu_has_bf16(amx)
    assert not P.cpu_has_bf16(without)
    assert not P.cpu_has_bf16(tmp_path / "missing")


@pytest.mark.parametrize("native", [True, False])
def test_auto_resolves_by_hardware_and_explicit_values_pass(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: native)
    assert P.resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert P.resolve_precision("fp32", "cpu") == "fp32"
    assert P.resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(P.PrecisionError, match="use one of fp32, bf16, auto"):
        P.resolve_precision("fp16", "cpu")


def test_autocast_runs_matrix_products_in_bf16_and_fp32_leaves_them() -> None:
    layer = torch.nn.Linear(8, 4)
    x = torch.randn(3, 8)
    with P.autocast("bf16", "cpu"):
        assert layer(x).dtype == torch.bfloat16
    with P.autocast("fp32", "cpu"):
        assert layer(x).dtype == torch.float32
    assert layer.weight.dtype == torch.float32  # master weights stay fp32


@pytest.mark.parametrize("native", [True, False])
def test_runner_resolves_auto_before_naming_the_run(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: native)
    cls = get_explainer("peter")
    config = resolve_config(cls.config_class, set_items=["precision=auto"])
    resolved = resolved_precision_config(config, "cpu")
    assert resolved.precision == ("bf16" if native else "fp32")
    assert resolved.to_dict() != config.to_dict()  # the id sees the resolved value
    fixed = resolve_config(cls.config_class, set_items=["precision=bf16"])
    assert resolved_precision_config(fixed, "cpu") is fixed


def test_an_unknown_precision_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match=r"precision.*'fp16' is not one of \['fp32', 'bf16', 'auto'\]"):
        resolve_config(get_explainer("nrt").config_class, set_items=["precision=fp16"])


def _tiny(model: str):
    import baselines.att2seq.config as att2seq
    import baselines.nete.config as nete
    import baselines.nrt.config as nrt
    from baselines.peter.config import PeterConfig
    from explainbench.models.mvae.config import MVAEConfig

    return {
        "peter": PeterConfig.tiny,
        "nrt": nrt.tiny_config,
        "att2seq": att2seq.tiny_config,
        "nete": nete.tiny_config,
        "mvae": MVAEConfig.tiny,
    }[model]()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("model", ["peter", "nrt", "att2seq", "nete", "mvae"])
def test_every_neural_model_trains_and_explains_at_both_precisions(
    tiny_home: Path, tmp_path: Path, model: str, precision: str
) -> None:
    import dataclasses

    from explainbench.data import load_manifest, load_split, load_tokenizer

    dd = load_split("synthetic-tiny", 1, home=tiny_home)
    tokenizer = load_tokenizer("synthetic-tiny", 1, home=tiny_home)
    rating_range = tuple(load_manifest("synthetic-tiny", home=tiny_home)["rating_range"])
    config = dataclasses.replace(_tiny(model), precision=precision, max_epochs=2, log_every=0)
    explainer = get_explainer(model)(config)
    context = ExplainContext(tokenizer=tokenizer, run_dir=tmp_path, device="cpu", progress=False,
                             rating_range=rating_range, dataset_name="synthetic-tiny")
    explainer.fit(dd["train"], dd["validation"], context=context)
    history = [r for r in explainer.train_result.history if r.get("kind", "epoch") == "epoch"]
    losses = [r["train_loss"] for r in history]
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < losses[0], f"{model} at {precision} did not learn: {losses}"
    assert all(p.dtype == torch.float32 for p in explainer.module.parameters())
    row = dd["test"][0]
    feature = row["feature"] if getattr(explainer, "takes_feature", False) else None
    out = explainer.explain([ExplainRequest(user_id=str(row["user_id"]), item_id=str(row["item_id"]),
                                            rating=float(row["rating"]), feature=feature or None)])
    assert len(out) == 1 and isinstance(out[0].text, str)
