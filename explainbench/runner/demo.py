"""`explainbench demo` / `make demo`: the three reference explainers and PETER on `synthetic`, split 1.

The neural model uses a CPU-sized config (DEMO_CONFIGS) so the whole demo fits in 15 minutes on
a 2-core CPU; models not installed are skipped. Every run goes through run_experiment, so a second
`make demo` only re-prints the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explainbench.api.registry import get_explainer, registry
from explainbench.runner.compare import CompareTable, build_table
from explainbench.runner.config import apply_overrides
from explainbench.runner.run import RunOutcome, RunSpec, run_experiment

DEMO_DATA = "synthetic"
# One torch thread: on a 2-core machine shared with other work, two threads ran PETER's training
# step 6-14x slower than one (they wait on each other); alone, one thread costs little.
DEMO_THREADS = 1
REFERENCE_MODELS = ("random-train", "global-popular", "item-popular")
# CPU-sized settings per neural model (the reference sizes are in each model's config defaults).
# PETER: the reference structure (2 layers, 2 heads, PETER mask, SGD lr 1.0 with x0.25 decay,
# clip 1.0, batch 128) at width 64 / FFN 256 instead of 512 / 2048, and at most 8 epochs.
DEMO_CONFIGS: dict[str, dict[str, Any]] = {
    "peter": {"d_model": 64, "n_heads": 2, "n_layers": 2, "d_ffn": 256, "max_epochs": 8},
}


@dataclass
class DemoResult:
    table: CompareTable
    outcomes: list[RunOutcome]
    seconds: float


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
                       threads=threads, scale="demo", progress=progress, n_boot=n_boot, meteor=meteor)
        if log:
            log(f"demo: {model} on {data} split {split}")
        outcomes.append(run_experiment(spec, log=log))
    against = next((m for m in models if m in DEMO_CONFIGS), None)
    table = build_table(home, data, models=models, splits=[split], against=against)
    return DemoResult(table, outcomes, time.perf_counter() - start)
