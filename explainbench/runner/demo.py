"""`explainbench demo` / `make demo`: the three floors, PETER and MVAE on `synthetic-dense`, split 1.

`synthetic-dense` is the embedded world with about 35 training reviews per user and item, where a
learned model can show what it learns: at the settings below PETER beats even `item-popular` (which
looks the item's sentence up) on feature matching, while on the sparse `synthetic` no learned model
picks up identity at CPU budgets (README, Status). The neural models use CPU-sized configs
(DEMO_CONFIGS) so that the whole demo fits in about 5 minutes on a 2-core CPU; models not installed are
skipped. Every run goes through run_experiment, so a second `make demo` only re-prints the tables.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explainbench.api.registry import get_explainer, registry
from explainbench.runner.compare import CompareTable, build_table
from explainbench.runner.config import apply_overrides
from explainbench.runner.run import RunOutcome, RunSpec, run_experiment

DEMO_DATA = "synthetic-dense"
DEMO_SCALE = "demo"  # the scale the demo's runs record (tables and the report select it)
# Two torch threads at most: the demo's models are small, and on a many-core machine more threads than
# that only wait on each other. (On a 2-core machine shared with other work, `--threads 1` is faster.)
DEMO_THREADS = min(2, os.cpu_count() or 1)
REFERENCE_MODELS = ("random-train", "global-popular", "item-popular")
# CPU-sized settings per neural model (the reference sizes are in each model's config defaults).
# PETER: the reference structure (2 layers, 2 heads, PETER mask, SGD lr 1.0, clip 1.0, batch 128) at
# width 64 / FFN 256 instead of 512 / 2048, 20 epochs without the reference's x0.25 decay on a stall:
# with the decay the rate is 1/16 by epoch 7 and PETER stays generic for all 20 epochs (FMR 0.035 on
# split 1, measured); without it PETER learns the item (FMR 0.38-0.42 on splits 1-3, docs/models/peter.md).
# MVAE: the recipe's cpu-small scale (the paper's structure at d 192, a0 measured there, 3 x 100 steps).
DEMO_CONFIGS: dict[str, dict[str, Any]] = {
    "peter": {"d_model": 64, "n_heads": 2, "n_layers": 2, "d_ffn": 256, "max_epochs": 20, "patience": 20,
              "lr_decay": 1.0},
    "mvae": {"d_model": 192, "n_head": 4, "ffn_dim": 768, "batch_size": 64, "lr": 0.001, "warmup_steps": 50,
             "max_epochs": 3, "max_steps_per_epoch": 100, "anneal_a0": 150},
}
# The model of the paper: Table 2's Improvement row and paired-test markers compare it with the best
# other model in each column (PETER where MVAE is not installed).
DEMO_AGAINST = ("mvae", "peter")


@dataclass
class DemoResult:
    table: CompareTable
    outcomes: list[RunOutcome]
    seconds: float
    models: list[str]
    data: str
    home: Path


def demo_models() -> list[str]:
    """Reference explainers plus every DEMO_CONFIGS model that is installed."""
    installed = set(registry("explainers").names())
    return [*REFERENCE_MODELS, *(m for m in DEMO_CONFIGS if m in installed)]


def run_demo(
    home: Path | None = None,
    *,
    data: str = DEMO_DATA,
    split: int = 1,
    device: str | None = None,
    threads: int | None = DEMO_THREADS,
    progress: bool = True,
    n_boot: int = 1000,
    meteor: bool = True,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run (or reuse) every demo model on one split and build the comparison against PETER."""
    from explainbench.data import explainbench_home

    start = time.perf_counter()
    home = Path(home) if home is not None else Path(explainbench_home())
    models = demo_models()
    outcomes = []
    for model in models:
        cls = get_explainer(model)
        config = apply_overrides(cls.config_class, [(f"demo config of {model}", DEMO_CONFIGS.get(model, {}))])
        spec = RunSpec(model=model, data=data, config=config, split=split, device=device, home=home,
                       threads=threads, scale=DEMO_SCALE, progress=progress, n_boot=n_boot, meteor=meteor)
        if log:
            log(f"demo: {model} on {data} split {split}")
        outcomes.append(run_experiment(spec, log=log))
    against = next((m for m in DEMO_AGAINST if m in models), None)
    table = build_table(home, data, models=models, splits=[split], against=against)
    return DemoResult(table, outcomes, time.perf_counter() - start, models, data, home)
