"""Measure a0 of the beta annealing (eq. 11) as the paper does (section 4.4).

"we first disable the second KL regularization and record how many steps our model needs to reach
convergence. Then half of this amount of steps is chosen as a0." Disabling the beta term is exactly the
mvae-nokl variant, so: train mvae-nokl until early stopping, then read its train_log.jsonl here. The
steps to convergence are the optimiser steps at the end of the epoch with the lowest validation loss
(the weights the trainer keeps).

    explainbench run --model mvae-nokl --data synthetic --recipe recipes/mvae/default.yaml
    python -m explainbench.models.mvae.calibrate $EXPLAINBENCH_HOME/runs/synthetic/split-1/mvae-nokl/<run-id>
    explainbench run --model mvae ... --set anneal_a0=<printed value>
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from explainbench.engine.trainer import LOG_FILE


class CalibrationError(ValueError):
    """The train log cannot give a0 (missing, empty, or without validation losses)."""


@dataclass(frozen=True)
class Convergence:
    """Where a run converged: the epoch of its lowest validation loss and the optimiser steps by then."""

    epoch: int
    step: int
    val_loss: float
    schedule_step: float | None = None  # the step on the schedule's clock (runs with schedule_epoch_steps)

    @property
    def a0(self) -> int:
        """Half the steps to convergence, on the schedule's clock when the run had one (a0 is read on it)."""
        return int((self.step if self.schedule_step is None else self.schedule_step) // 2)


def convergence(log_path: Path, stage: str = "train") -> Convergence:
    """The epoch line with the lowest val_loss (first on ties) of a train_log.jsonl."""
    from explainbench.api.results import find_artifact, read_bytes

    path = Path(log_path)
    if path.is_dir():
        path = find_artifact(path, LOG_FILE)  # train_log.jsonl or train_log.jsonl.gz
    if not path.is_file():
        raise CalibrationError(f"{path}: no such train log; pass a run directory or its {LOG_FILE}")
    best: Convergence | None = None
    for number, line in enumerate(read_bytes(path).decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise CalibrationError(f"{path}:{number}: not a JSON line") from None
        if record.get("kind") != "epoch" or record.get("stage", "train") != stage:
            continue
        loss = record.get("val_loss")
        if loss is not None and (best is None or loss < best.val_loss):
            clock_step = record.get("schedule_step")
            best = Convergence(
                int(record["epoch"]),
                int(record["step"]),
                float(loss),
                None if clock_step is None else float(clock_step),
            )
    if best is None:
        raise CalibrationError(f"{path}: no epoch line with a validation loss for stage {stage!r}")
    return best


def a0_from_train_log(log_path: Path, stage: str = "train") -> int:
    """a0 = half the steps an mvae-nokl run needed to reach its lowest validation loss."""
    return convergence(log_path, stage).a0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m explainbench.models.mvae.calibrate RUN_DIR|train_log.jsonl", file=sys.stderr)
        return 2
    try:
        found = convergence(Path(args[0]))
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    clock = "" if found.schedule_step is None else f", {found.schedule_step:.0f} on the schedule's clock"
    print(
        f"converged at step {found.step}{clock} (epoch {found.epoch}, val_loss {found.val_loss:.4f}); "
        f"anneal_a0 = {found.a0}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
