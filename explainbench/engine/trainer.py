"""The training loop every neural explainer shares.

Per epoch: shuffled mini-batches -> module.loss(batch) -> backward -> optional gradient clipping ->
optimiser step, then the validation loss decides three things, following the references:
  * a new lowest validation loss keeps a copy of the weights (restored when training ends);
  * a "stall" is an epoch whose validation loss does not beat the reference loss by stall_threshold
    (relative; 0 = any decrease counts). At each stall the learning rate is multiplied by lr_decay
    (PETER x0.25 after every non-improving epoch; the MVAE paper x0.8 when the loss fails to drop by 2%);
  * training stops when the stalls reach `patience`, counted in total (PETER / NRT / Att2Seq: the counter
    is never reset; the stopping stall does not decay the rate, as in PETER's main.py) or in a row.
Learning rate at optimiser step s (0-based): lr * decay_factor * min(1, (s + 1) / warmup_steps).

Every epoch ends with an atomic checkpoint (run_dir/checkpoint/<log_name>.pt) holding the model,
optimiser, schedule and early-stopping state, the best weights and the RNG states of python, numpy and
torch; resume=True continues from it and reproduces the uninterrupted run bit for bit on CPU (batch order
is a function of seed + epoch, see batching.py). run_dir/train_log.jsonl gets one JSON line per logged
step and per epoch (schema in docs/engine.md).

Under torchrun the same loop trains data-parallel (distributed.py): every rank walks the same global
batches, computes the loss of its share of each, and the summed gradients make one optimiser step; the
logged losses and the validation means are reduced over the ranks, rank 0's early-stopping decision is
broadcast, and only rank 0 writes the checkpoint and the log. Each rank's random stream (dropout) is
re-seeded at every epoch from (seed, epoch, rank), so a resumed run draws what the uninterrupted one drew.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from explainbench.api import schemas
from explainbench.api.faults import fault_point
from explainbench.api.results import atomic_write_text
from explainbench.engine import distributed
from explainbench.engine.checkpoint import (
    CheckpointError,
    atomic_torch_save,
    capture_rng,
    cpu_state_dict,
    load_checkpoint,
    restore_rng,
)
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig
from explainbench.engine.precision import autocast
from explainbench.engine.seed import resolve_device

OPTIMIZERS = ("sgd", "adam", "adamw")
PATIENCE_RULES = ("total", "consecutive")
LOG_FILE = "train_log.jsonl"
CHECKPOINT_DIR = "checkpoint"
# Config keys that may differ between an interrupted run and its resumption (they do not change training).
RESUME_FREE_KEYS = frozenset({"device", "eval_batch_size", "gen_max_len", "log_every"})
# Loss sums stay on the device between reads (no host sync per step); without step logging they are
# still read, and checked for NaN, at least this often.
READ_EVERY = 50


class TrainingError(RuntimeError):
    """Training cannot go on (non-finite loss, empty validation split)."""


@dataclass
class TrainResult:
    """What fit() reports. history holds the epoch records written to train_log.jsonl."""

    best_val_loss: float
    best_epoch: int
    epochs: int
    steps: int
    stopped_early: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    resumed_from_epoch: int | None = None


def make_optimizer(config: NeuralConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """SGD, Adam or AdamW at config.lr with config.weight_decay (no momentum: PETER's plain SGD).

    Adam and AdamW use torch's fused kernel where every parameter is a float tensor on the CPU or a CUDA
    device: one pass over each parameter and its two moments instead of about ten tensor operations
    (torch's default on the CPU is a loop over the parameters). The update is the same formula; its
    rounding differs from the loop's by about one unit in the last place."""
    params = [p for p in params if p.requires_grad]
    name = config.optimizer.lower()
    if name == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    fused = bool(params) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    if name == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused or None)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused or None)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")


@dataclass
class LrSchedule:
    """Linear warm-up times the product of all decays so far."""

    base_lr: float
    warmup_steps: int = 0
    decay_factor: float = 1.0

    def lr_at(self, step: int, clock: float = 1.0) -> float:
        """The rate of 0-based step `step`; clock = schedule steps per optimiser step (schedule_clock)."""
        warm = 1.0 if self.warmup_steps <= 0 else min(1.0, (step + 1) * clock / self.warmup_steps)
        return self.base_lr * self.decay_factor * warm


def schedule_clock(schedule_epoch_steps: int | None, steps_per_epoch: int | None) -> float:
    """Schedule steps per optimiser step: schedule_epoch_steps / this dataset's steps per epoch (1 if unset).

    The schedule's clock: a recipe written for a dataset whose epoch is N steps (MVAE's 5,000 warm-up
    steps, its a0 and k) runs on another dataset epoch for epoch: one epoch here advances it N steps.
    """
    if schedule_epoch_steps is None:
        return 1.0
    if not steps_per_epoch:
        raise ValueError(
            "schedule_epoch_steps needs the number of training batches per epoch; this loader has no length"
        )
    return schedule_epoch_steps / steps_per_epoch


@dataclass
class EpochDecision:
    new_best: bool  # lowest validation loss so far: keep these weights
    stalled: bool  # did not beat the reference loss by the threshold
    stop: bool  # patience exhausted


@dataclass
class StallTracker:
    """Early stopping and decay-on-stall bookkeeping (ReduceLROnPlateau-style relative threshold)."""

    patience: int
    rule: str = "total"
    threshold: float = 0.0
    lr_decay: float = 1.0
    best_val_loss: float = math.inf
    best_epoch: int = 0
    reference: float = math.inf  # the loss an epoch must beat by `threshold` not to stall
    stalls: int = 0
    in_a_row: int = 0
    decay_factor: float = 1.0

    def __post_init__(self) -> None:
        if self.rule not in PATIENCE_RULES:
            raise ValueError(
                f"unknown patience_rule {self.rule!r}; choose one of {', '.join(PATIENCE_RULES)}"
            )

    def observe(self, epoch: int, val_loss: float) -> EpochDecision:
        finite = math.isfinite(val_loss)
        new_best = finite and val_loss < self.best_val_loss
        if new_best:
            self.best_val_loss = val_loss
            self.best_epoch = epoch
        if math.isinf(self.reference):
            significant = finite
        else:
            significant = finite and val_loss < self.reference - self.threshold * abs(self.reference)
        if significant:
            self.reference = val_loss
            self.in_a_row = 0
            return EpochDecision(new_best=new_best, stalled=False, stop=False)
        self.stalls += 1
        self.in_a_row += 1
        count = self.stalls if self.rule == "total" else self.in_a_row
        if self.patience > 0 and count >= self.patience:
            return EpochDecision(new_best=new_best, stalled=True, stop=True)
        self.decay_factor *= self.lr_decay
        return EpochDecision(new_best=new_best, stalled=True, stop=False)


def _as_float(value: torch.Tensor | float) -> float:
    return float(value.detach().item()) if isinstance(value, torch.Tensor) else float(value)


class DeviceSums:
    """Batch-size-weighted sums of a loss and its parts, kept on the device (float64) so that a
    training step never waits for the host; read() copies them over once."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = device
        self.sums: dict[str, torch.Tensor] = {}
        self.seen = 0

    def add(self, total: torch.Tensor | float, parts: dict[str, torch.Tensor | float], size: int) -> None:
        self.seen += size
        for k, v in (("loss", total), *parts.items()):
            value = v.detach().to(torch.float64) if isinstance(v, torch.Tensor) else float(v)
            previous = self.sums.get(k)
            self.sums[k] = value * size if previous is None else previous + value * size

    def read(self) -> dict[str, float]:
        """The sums as python floats (one device-to-host copy)."""
        if not self.sums:
            return {}
        names = list(self.sums)
        values = torch.stack([torch.as_tensor(self.sums[k], dtype=torch.float64, device=self.device)
                              for k in names]).tolist()
        return dict(zip(names, values, strict=True))


@torch.no_grad()
def validation_means(
    module: ExplainerModule,
    batches: Iterable[Batch],
    device: torch.device | str,
    precision: str = "fp32",
    *,
    ranks: distributed.Ranks = distributed.SINGLE,
) -> tuple[dict[str, float], int]:
    """Batch-size-weighted means of module.validation_loss() over batches: the total as "loss" and
    each named part; with the number of records seen (0: the means are empty). The caller sets the
    module's mode (eval for validation). Under data-parallel training each rank takes every
    world_size-th batch and the sums are added over the ranks (every rank gets the same means)."""
    sums = DeviceSums(device)
    if ranks.distributed:
        batches = distributed.shard_batches(batches, ranks)
    for batch in batches:
        batch = batch.to(device, non_blocking=True)
        with autocast(precision, device):
            out = module.validation_loss(batch)
        sums.add(out.total, out.parts, len(batch))
    totals, seen = reduced(sums, ranks, device)
    return {k: v / seen for k, v in totals.items()} if seen else {}, seen


def reduced(
    sums: DeviceSums, ranks: distributed.Ranks, device: torch.device | str
) -> tuple[dict[str, float], int]:
    """(the sums, the records seen), added over the ranks under data-parallel training.

    Every rank must hold the same names in the same order: the parts a model reports do not depend on
    the batch (a rank that saw nothing has no names and contributes zeros under its peers' names)."""
    values = sums.read()
    if not ranks.distributed:
        return values, sums.seen
    names = distributed.broadcast_object(sorted(values))  # rank 0 always sees records
    summed = distributed.all_reduce_sum([values.get(k, 0.0) for k in names] + [float(sums.seen)], device)
    return dict(zip(names, summed[:-1], strict=True)), int(round(summed[-1]))


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


class Trainer:
    """Fits one ExplainerModule. train_batches(epoch) and val_batches() return fresh iterables of Batch.

    epoch_callback(epoch, record) runs after each epoch's checkpoint is written (tests use it to
    interrupt a run; a callback that raises stops training with the checkpoint on disk).
    """

    def __init__(
        self,
        module: ExplainerModule,
        config: NeuralConfig,
        *,
        run_dir: Path | None = None,
        device: str | torch.device = "cpu",
        progress: bool = True,
        log_name: str = "train",
        resume: bool = False,
        epoch_callback: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> None:
        if config.patience_rule not in PATIENCE_RULES:
            raise ValueError(
                f"unknown patience_rule {config.patience_rule!r}; choose one of {', '.join(PATIENCE_RULES)}"
            )
        self.module = module
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.progress = progress
        self.log_name = log_name
        self.resume = resume
        self.epoch_callback = epoch_callback
        self.console = Console(stderr=True)
        self.ranks = distributed.current()  # SINGLE unless torchrun started this process

    # ------------------------------------------------------------------ files
    @property
    def checkpoint_path(self) -> Path | None:
        return None if self.run_dir is None else self.run_dir / CHECKPOINT_DIR / f"{self.log_name}.pt"

    @property
    def log_path(self) -> Path | None:
        return None if self.run_dir is None else self.run_dir / LOG_FILE

    def _prepare_log(self, keep_until_epoch: int) -> None:
        """Keep other stages' lines and this stage's lines up to keep_until_epoch (drops a crashed tail)."""
        path = self.log_path
        if path is None or not path.exists() or not self.ranks.is_main:
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            if (
                rec.get("stage", "train") != self.log_name
                or int(rec.get("epoch", 0)) <= keep_until_epoch
            ):
                kept.append(line)
        atomic_write_text(path, "".join(f"{line}\n" for line in kept))

    def _log(self, record: dict[str, Any]) -> None:
        if self.log_path is None or not self.ranks.is_main:
            return
        line = {"stage": self.log_name, **record}
        schemas.validate(schemas.TrainLogRecord, line, str(self.log_path))  # the train_log.jsonl schema
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def _config_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)

    def _check_resumable(self, saved: dict[str, Any]) -> None:
        now = self._config_dict()
        differ = sorted(
            k for k in set(now) | set(saved) if k not in RESUME_FREE_KEYS and now.get(k) != saved.get(k)
        )
        if differ:
            raise CheckpointError(
                f"{self.checkpoint_path}: written with a different config (keys {differ}); "
                "resume with the original settings or start a new run"
            )

    def _check_finite(self, total: float, running: float, epoch: int, step: int) -> None:
        """Raise TrainingError when the last loss or the epoch's running sum is not finite (checked
        at each read, after the optimiser step: a NaN is reported within read_every steps). Under
        data-parallel training both are reduced over the ranks, so every rank raises together."""
        if not (math.isfinite(total) and math.isfinite(running)):
            raise TrainingError(
                f"{self.log_name}: loss is not finite ({total}) by epoch {epoch}, step {step}; "
                "lower the learning rate or check the data"
            )

    def _save(self, **state: Any) -> None:
        if self.checkpoint_path is not None and self.ranks.is_main:
            atomic_torch_save(state, self.checkpoint_path)

    # ------------------------------------------------------------------ loop
    def fit(
        self,
        train_batches: Callable[[int], Iterable[Batch]],
        val_batches: Callable[[], Iterable[Batch]],
    ) -> TrainResult:
        cfg = self.config
        ranks = self.ranks
        module = self.module.to(self.device)
        distributed.broadcast_parameters(module)  # one initialisation for every rank
        params = [p for p in module.parameters() if p.requires_grad]
        optimizer = make_optimizer(cfg, module.parameters())
        schedule = LrSchedule(base_lr=cfg.lr, warmup_steps=cfg.warmup_steps)
        tracker = StallTracker(
            patience=cfg.patience,
            rule=cfg.patience_rule,
            threshold=cfg.stall_threshold,
            lr_decay=cfg.lr_decay,
        )
        best_state: dict[str, torch.Tensor] | None = None
        history: list[dict[str, Any]] = []
        first_epoch, step, resumed_from = 1, 0, None
        stopped_early = False

        ckpt_path = self.checkpoint_path
        if self.resume and ckpt_path is not None and ckpt_path.exists():
            ckpt = load_checkpoint(ckpt_path, map_location=self.device)
            self._check_resumable(ckpt["config"])
            module.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            tracker = StallTracker(**ckpt["tracker"])
            schedule.decay_factor = tracker.decay_factor
            best_state = ckpt["best_model"]
            history = list(ckpt["history"])
            step = int(ckpt["step"])
            resumed_from = int(ckpt["epoch"])
            first_epoch = resumed_from + 1
            stopped_early = bool(ckpt["stopped_early"])
            restore_rng(ckpt["rng"])
            self._prepare_log(keep_until_epoch=resumed_from)
            if ckpt["finished"]:
                if best_state is not None:
                    module.load_state_dict(best_state)
                return TrainResult(
                    best_val_loss=tracker.best_val_loss,
                    best_epoch=tracker.best_epoch,
                    epochs=resumed_from,
                    steps=step,
                    stopped_early=stopped_early,
                    history=history,
                    resumed_from_epoch=resumed_from,
                )
        else:
            self._prepare_log(keep_until_epoch=0)

        epoch = first_epoch - 1
        with self._progress_bar() as bar:
            epochs_task = bar.add_task(
                f"{self.log_name} epochs", total=cfg.max_epochs, completed=epoch, info=""
            )
            for epoch in range(first_epoch, cfg.max_epochs + 1):
                epoch_started = time.perf_counter()
                if ranks.distributed:  # each rank its own dropout stream, a function of (seed, epoch, rank)
                    torch.manual_seed(int(getattr(cfg, "seed", 0)) * 1_000_003 + epoch * 1_009 + ranks.rank)
                batches = train_batches(epoch)
                n_batches = len(batches) if hasattr(batches, "__len__") else None
                if n_batches is not None and cfg.max_steps_per_epoch is not None:
                    n_batches = min(n_batches, cfg.max_steps_per_epoch)
                batch_task = bar.add_task(f"epoch {epoch}", total=n_batches, info="")
                clock = schedule_clock(cfg.schedule_epoch_steps, n_batches)
                module.train()
                sums = DeviceSums(self.device)
                lr = schedule.lr_at(step, clock)
                started = time.perf_counter()
                read_every = cfg.log_every if cfg.log_every > 0 else READ_EVERY
                pending = 0  # steps since the sums were last read and checked
                for i, batch in enumerate(batches):
                    if cfg.max_steps_per_epoch is not None and i >= cfg.max_steps_per_epoch:
                        break
                    lr = schedule.lr_at(step, clock)
                    for group in optimizer.param_groups:
                        group["lr"] = lr
                    module.set_step(step, step * clock)
                    weight = 1.0
                    if ranks.distributed:  # this rank's share of the global batch (distributed.py)
                        start, stop = distributed.share(len(batch), ranks)
                        weight = (stop - start) / len(batch)
                        batch = batch.rows(start, stop) if stop > start else batch.rows(0, 1)  # stand-in
                    batch = batch.to(self.device, non_blocking=True)
                    optimizer.zero_grad(set_to_none=True)
                    with autocast(cfg.precision, self.device), distributed.training_share(weight):
                        out = module.loss(batch)
                    if ranks.distributed:
                        (out.total * weight).backward()
                        distributed.sum_gradients(params)
                    else:
                        out.total.backward()
                    if cfg.clip_norm is not None:
                        torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm)
                    optimizer.step()
                    step += 1
                    fault_point("step", at=step)  # EXPLAINBENCH_FAULT hook (api/faults.py)
                    pending += 1
                    if weight > 0:
                        sums.add(out.total, out.parts, len(batch))
                    if step % read_every == 0:
                        # One host sync per read: the step's own loss (for the log line) and the sums.
                        total, parts = self._step_losses(out, weight)
                        running, _ = reduced(sums, ranks, self.device)
                        self._check_finite(total, running.get("loss", 0.0), epoch, step)
                        pending = 0
                        if cfg.log_every > 0:
                            self._log(
                                {"kind": "step", "epoch": epoch, "step": step, "lr": lr, "loss": total,
                                 **parts}
                            )
                        rate = sums.seen * ranks.world_size / max(time.perf_counter() - started, 1e-9)
                        bar.update(batch_task, info=f"loss {total:.4f} | {rate:,.0f} ex/s")
                    bar.update(batch_task, completed=i + 1)
                train_s = time.perf_counter() - started
                bar.remove_task(batch_task)
                totals, seen = reduced(sums, ranks, self.device)
                if seen == 0:
                    raise TrainingError(f"{self.log_name}: epoch {epoch} had no training batches")
                if pending:
                    self._check_finite(totals["loss"], totals["loss"], epoch, step)

                val = self.evaluate(val_batches)
                decision = tracker.observe(epoch, val["loss"])
                if ranks.distributed:  # rank 0 decides; every rank follows
                    decision, state = distributed.broadcast_object((decision, dataclasses.asdict(tracker)))
                    tracker = StallTracker(**state)
                schedule.decay_factor = tracker.decay_factor
                if decision.new_best:
                    best_state = cpu_state_dict(module)
                record: dict[str, Any] = {
                    "kind": "epoch",
                    "epoch": epoch,
                    "step": step,
                    "train_loss": totals["loss"] / seen,
                    **{f"train_{k}": v / seen for k, v in totals.items() if k != "loss"},
                    "val_loss": _finite_or_none(val["loss"]),
                    **{f"val_{k}": _finite_or_none(v) for k, v in val.items() if k != "loss"},
                    "lr": lr,
                    "next_lr": schedule.lr_at(step, clock),
                    **({"schedule_step": step * clock} if cfg.schedule_epoch_steps is not None else {}),
                    "examples_per_s": seen / max(train_s, 1e-9),
                    "train_s": train_s,
                    "wall_s": time.perf_counter() - epoch_started,  # the steps and the validation
                    "stalled": decision.stalled,
                    "stalls": tracker.stalls,
                    "best_val_loss": _finite_or_none(tracker.best_val_loss),
                    "best_epoch": tracker.best_epoch,
                }
                history.append(record)
                self._log(record)
                stopped_early = decision.stop
                finished = decision.stop or epoch == cfg.max_epochs
                if finished and best_state is not None:
                    last_state = cpu_state_dict(module)
                    module.load_state_dict(best_state)
                else:
                    last_state = module.state_dict()
                tracker_state = dataclasses.asdict(tracker)
                self._save(
                    version=1,
                    stage=self.log_name,
                    config=self._config_dict(),
                    epoch=epoch,
                    step=step,
                    finished=finished,
                    stopped_early=stopped_early,
                    model=last_state,
                    optimizer=optimizer.state_dict(),
                    tracker=tracker_state,
                    best_model=best_state,
                    history=history,
                    rng=capture_rng(),
                )
                bar.update(
                    epochs_task,
                    advance=1,
                    info=f"val {val['loss']:.4f} | best {tracker.best_val_loss:.4f} "
                    f"(epoch {tracker.best_epoch}) | stalls {tracker.stalls}/{cfg.patience}",
                )
                if self.epoch_callback is not None:
                    self.epoch_callback(epoch, record)
                if finished:
                    break
        return TrainResult(
            best_val_loss=tracker.best_val_loss,
            best_epoch=tracker.best_epoch,
            epochs=epoch,
            steps=step,
            stopped_early=stopped_early,
            history=history,
            resumed_from_epoch=resumed_from,
        )

    def _step_losses(self, out: Any, weight: float) -> tuple[float, dict[str, float]]:
        """This step's loss and parts as floats; under data-parallel training the weighted sums over
        the ranks, i.e. the global batch's loss (one all-reduce)."""
        names = list(out.parts)
        values = [_as_float(out.total), *(_as_float(out.parts[k]) for k in names)]
        if self.ranks.distributed:
            values = distributed.all_reduce_sum([weight * v for v in values], self.device)
        return values[0], dict(zip(names, values[1:], strict=True))

    @torch.no_grad()
    def evaluate(self, val_batches: Callable[[], Iterable[Batch]]) -> dict[str, float]:
        """Batch-size-weighted means of validation_loss().total ("loss") and its parts."""
        self.module.eval()
        means, seen = validation_means(
            self.module, val_batches(), self.device, self.config.precision, ranks=self.ranks
        )
        self.module.train()
        if seen == 0:
            raise TrainingError(
                f"{self.log_name}: the validation split has no usable records "
                "(are all its users or items missing from the training split?)"
            )
        return means

    def _progress_bar(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.progress or not self.ranks.is_main,
            transient=False,
        )
