"""Trainer rules on toy modules whose learning-rate sequences and updates are computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from explainbench.engine.checkpoint import CheckpointError
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig, StepLoss
from explainbench.engine.trainer import (
    StallTracker,
    Trainer,
    TrainingError,
    make_optimizer,
    schedule_clock,
)


def _batch(size: int = 1) -> Batch:
    return Batch(
        user=torch.zeros(size, dtype=torch.long),
        item=torch.zeros(size, dtype=torch.long),
        rating=torch.ones(size),
        sentiment=torch.ones(size, dtype=torch.long),
        feature=torch.zeros(size, dtype=torch.long),
        text=torch.zeros(size, 3, dtype=torch.long),
    )


class Scripted(ExplainerModule):
    """Training loss slope * w (gradient = slope); validation losses come from a script."""

    def __init__(self, val_losses: list[float], slope: float = 1.0, w0: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([w0]))
        self.slope = slope
        self.val_losses = list(val_losses)
        self.calls = 0
        self.w_at_validation: list[float] = []
        self.steps_seen: list[int] = []

    def loss(self, batch: Batch) -> StepLoss:
        self.steps_seen.append(self.global_step)
        total = self.slope * self.w.sum()
        return StepLoss(total=total, parts={"double": 2 * total})

    def validation_loss(self, batch: Batch) -> StepLoss:
        self.w_at_validation.append(float(self.w.item()))
        value = self.val_losses[self.calls]
        self.calls += 1
        return StepLoss(total=torch.tensor(value), parts={"half": torch.tensor(value / 2)})

    def start_decoding(self, batch: Batch):  # pragma: no cover - not used
        raise NotImplementedError

    def decode_step(self, state, previous):  # pragma: no cover - not used
        raise NotImplementedError


def _fit(module: Scripted, config: NeuralConfig, run_dir: Path | None, steps_per_epoch: int = 2, **kw):
    trainer = Trainer(module, config, run_dir=run_dir, device="cpu", progress=False, **kw)
    return trainer.fit(lambda epoch: [_batch() for _ in range(steps_per_epoch)], lambda: [_batch()])


def _lines(run_dir: Path, kind: str) -> list[dict]:
    rows = [json.loads(x) for x in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return [r for r in rows if r["kind"] == kind]


def test_peter_rule_decay_and_total_patience(tmp_path: Path) -> None:
    # val: 5 (best) 4 (best) 4.5 (stall 1 -> x0.25) 3 (best) 3.5 (stall 2 -> x0.25)
    # 3.2 (stall 3 = patience: stop)
    cfg = NeuralConfig(
        optimizer="sgd", lr=1.0, lr_decay=0.25, patience=3, patience_rule="total", max_epochs=20,
        log_every=1,
    )
    module = Scripted([5, 4, 4.5, 3, 3.5, 3.2, 1, 1])
    result = _fit(module, cfg, tmp_path)
    assert result.epochs == 6 and result.stopped_early
    assert result.best_epoch == 4 and result.best_val_loss == 3
    lrs = [r["lr"] for r in _lines(tmp_path, "step")]
    assert lrs == [1, 1, 1, 1, 1, 1, 0.25, 0.25, 0.25, 0.25, 0.0625, 0.0625]
    # best weights restored: w as it was when epoch 4 was validated
    assert module.w.item() == module.w_at_validation[3]
    assert module.steps_seen == list(range(12))


def test_consecutive_rule_resets_on_improvement(tmp_path: Path) -> None:
    cfg = NeuralConfig(
        optimizer="sgd", lr=1.0, lr_decay=0.5, patience=2, patience_rule="consecutive", max_epochs=20,
        log_every=1,
    )
    # stalls at epochs 2, 4, 6, 7: only 6 and 7 are in a row -> stop after epoch 7
    result = _fit(Scripted([5, 6, 4, 4.5, 3, 3, 3.1, 0]), cfg, tmp_path, steps_per_epoch=1)
    assert result.epochs == 7 and result.stopped_early
    # decay at stalls 2, 4, 6 (not at the stopping stall 7)
    assert [r["lr"] for r in _lines(tmp_path, "step")] == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert [r["stalls"] for r in _lines(tmp_path, "epoch")] == [0, 1, 1, 2, 2, 3, 4]


def test_stall_threshold_is_relative_and_best_is_lowest() -> None:
    t = StallTracker(patience=10, threshold=0.02, lr_decay=0.8)
    d1 = t.observe(1, 10.0)
    d2 = t.observe(2, 9.9)  # 9.9 >= 10 * 0.98: a stall, yet the lowest loss so far
    d3 = t.observe(3, 9.0)  # 9.0 < 9.8: improvement, new reference 9.0
    d4 = t.observe(4, 8.85)  # 8.85 >= 8.82: stall
    assert [d.stalled for d in (d1, d2, d3, d4)] == [False, True, False, True]
    assert [d.new_best for d in (d1, d2, d3, d4)] == [True, True, True, True]
    assert t.reference == 9.0 and t.best_val_loss == 8.85 and t.best_epoch == 4
    assert math.isclose(t.decay_factor, 0.8 * 0.8)
    assert t.observe(5, float("nan")).stalled


def test_warmup_then_decay(tmp_path: Path) -> None:
    cfg = NeuralConfig(
        optimizer="sgd", lr=0.3, warmup_steps=3, lr_decay=0.5, patience=0, max_epochs=3, log_every=1
    )
    _fit(Scripted([2, 3, 1]), cfg, tmp_path, steps_per_epoch=2)
    lrs = [r["lr"] for r in _lines(tmp_path, "step")]
    expected = [0.1, 0.2, 0.3, 0.3, 0.15, 0.15]
    assert lrs == pytest.approx(expected, rel=1e-12)


def test_schedule_clock_runs_the_schedule_epoch_for_epoch(tmp_path: Path) -> None:
    # a schedule written for epochs of 10 steps, on a dataset of 4 steps per epoch (5 with one capped):
    # each optimiser step advances it 10 / 4 = 2.5 steps; warm-up over 10 schedule steps = 1 epoch here
    assert schedule_clock(None, 4) == 1.0 and schedule_clock(10, 4) == 2.5
    with pytest.raises(ValueError, match="no length"):
        schedule_clock(10, None)
    cfg = NeuralConfig(
        optimizer="sgd", lr=1.0, warmup_steps=10, schedule_epoch_steps=10, patience=0, max_epochs=2,
        log_every=1, max_steps_per_epoch=4,
    )
    module = Scripted([1, 1])
    clocks: list[float] = []
    original = module.loss

    def loss(batch: Batch) -> StepLoss:
        clocks.append(module.schedule_step)
        return original(batch)

    module.loss = loss  # type: ignore[method-assign]
    _fit(module, cfg, tmp_path, steps_per_epoch=5)
    assert module.steps_seen == list(range(8))
    assert clocks == [2.5 * s for s in range(8)]
    lrs = [r["lr"] for r in _lines(tmp_path, "step")]
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0], rel=1e-12)  # (s + 1) 2.5 / 10
    assert [e["schedule_step"] for e in _lines(tmp_path, "epoch")] == [10.0, 20.0]
    plain = tmp_path / "plain"
    _fit(Scripted([1, 1]), NeuralConfig(optimizer="sgd", lr=1.0, patience=0, max_epochs=1), plain)
    assert "schedule_step" not in _lines(plain, "epoch")[0]


def test_max_steps_per_epoch_and_log_every(tmp_path: Path) -> None:
    cfg = NeuralConfig(
        optimizer="sgd", lr=0.1, max_epochs=2, max_steps_per_epoch=3, log_every=2, patience=0
    )
    result = _fit(Scripted([1, 1]), cfg, tmp_path, steps_per_epoch=5)
    assert result.steps == 6
    assert [r["step"] for r in _lines(tmp_path, "step")] == [2, 4, 6]
    epochs = _lines(tmp_path, "epoch")
    assert [e["val_loss"] for e in epochs] == [1, 1] and [e["val_half"] for e in epochs] == [0.5, 0.5]
    assert epochs[0]["train_double"] == pytest.approx(2 * epochs[0]["train_loss"])


def test_clipping_and_optimisers() -> None:
    # gradient 10 clipped to norm 1: SGD lr 0.5 moves w by exactly -0.5
    m = Scripted([1], slope=10.0)
    _fit(m, NeuralConfig(optimizer="sgd", lr=0.5, clip_norm=1.0, max_epochs=1), None, steps_per_epoch=1)
    assert m.w.item() == pytest.approx(-0.5, abs=1e-7)
    m = Scripted([1], slope=10.0)
    _fit(m, NeuralConfig(optimizer="sgd", lr=0.5, max_epochs=1), None, steps_per_epoch=1)
    assert m.w.item() == pytest.approx(-5.0)
    # first Adam step moves by lr * g / (|g| + eps) ~ lr; L2 (adam) vs decoupled decay (adamw) from w0 = 2
    m = Scripted([1], slope=3.0, w0=2.0)
    _fit(
        m,
        NeuralConfig(optimizer="adam", lr=0.1, weight_decay=0.5, max_epochs=1),
        None,
        steps_per_epoch=1,
    )
    assert m.w.item() == pytest.approx(1.9, abs=1e-6)
    m = Scripted([1], slope=3.0, w0=2.0)
    _fit(
        m,
        NeuralConfig(optimizer="adamw", lr=0.1, weight_decay=0.5, max_epochs=1),
        None,
        steps_per_epoch=1,
    )
    assert m.w.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5) - 0.1, abs=1e-6)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        _fit(Scripted([1]), NeuralConfig(optimizer="rmsprop"), None)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fused_adam_follows_torchs_loop_implementation(name: str) -> None:
    """make_optimizer's fused Adam/AdamW (on the CPU) against torch's per-parameter loop: 20 steps."""
    g = torch.Generator().manual_seed(0)
    fused_params = [nn.Parameter(torch.randn(50, 7, generator=g)), nn.Parameter(torch.randn(13, generator=g))]
    loop_params = [nn.Parameter(p.detach().clone()) for p in fused_params]
    fused = make_optimizer(NeuralConfig(optimizer=name, lr=0.01, weight_decay=0.1), fused_params)
    assert fused.defaults["fused"]
    loop_class = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    loop = loop_class(loop_params, lr=0.01, weight_decay=0.1, foreach=False)
    for _ in range(20):
        grads = [torch.randn(p.shape, generator=g) for p in fused_params]
        for params, optimizer in ((fused_params, fused), (loop_params, loop)):
            for p, grad in zip(params, grads, strict=True):
                p.grad = grad.clone()
            optimizer.step()
    for p, q in zip(fused_params, loop_params, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-6)


def test_non_finite_loss_and_empty_validation_are_clear_errors() -> None:
    m = Scripted([1], slope=float("nan"))
    with pytest.raises(TrainingError, match=r"loss is not finite \(nan\) by epoch 1, step 2"):
        _fit(m, NeuralConfig(optimizer="sgd", lr=0.1, max_epochs=1), None)
    trainer = Trainer(Scripted([1]), NeuralConfig(max_epochs=1), progress=False)
    with pytest.raises(TrainingError, match="validation split has no usable records"):
        trainer.fit(lambda e: [_batch()], lambda: [])
    with pytest.raises(ValueError, match="patience_rule"):
        Trainer(Scripted([1]), NeuralConfig(patience_rule="sometimes"))


def test_checkpoint_loads_weights_only_and_refuses_other_config(tmp_path: Path) -> None:
    cfg = NeuralConfig(optimizer="sgd", lr=0.1, max_epochs=2, patience=0)
    _fit(Scripted([2, 1]), cfg, tmp_path)
    ckpt = torch.load(tmp_path / "checkpoint" / "train.pt", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["finished"] and ckpt["step"] == 4
    assert set(ckpt["rng"]) >= {"python", "numpy", "torch"}
    other = NeuralConfig(optimizer="sgd", lr=0.2, max_epochs=2, patience=0)
    with pytest.raises(CheckpointError, match=r"different config \(keys \['lr'\]\)"):
        _fit(Scripted([2, 1]), other, tmp_path, resume=True)


def test_resume_of_a_finished_run_is_a_no_op(tmp_path: Path) -> None:
    cfg = NeuralConfig(optimizer="sgd", lr=0.1, max_epochs=3, patience=0)
    first = Scripted([3, 1, 2])
    r1 = _fit(first, cfg, tmp_path)
    again = Scripted([])  # would fail if validated again
    r2 = _fit(again, cfg, tmp_path, resume=True)
    assert again.calls == 0 and r2.epochs == 3 and r2.best_epoch == 2 == r1.best_epoch
    assert again.w.item() == first.w.item() == first.w_at_validation[1]
    assert len(_lines(tmp_path, "epoch")) == 3
