"""A measured plan for the paper's Tables 2 and 3: FLOPs per example, measured rates, projected times.

    .venv/bin/python benchmarks/scaling.py --leaderboard leaderboard [--json out.json] [--quick]

For each neural model at its reference size (recipes/<model>/default.yaml, scale paper; MVAE at the
paper's sizes) and each dataset of the paper's Table 1 (vocabulary 20,000 words as in the paper, users
and items as Table 1 counts them), plus Musical Instruments as measured here (5,600 words):
  * FLOPs of one training step and of one validation batch (torch.utils.flop_counter, counted as
    benchmarks/flops.py does: oneDNN off, attention on the math backend), per example;
  * the number of aten operations one training step dispatches (a TorchDispatchMode counter), with the
    token cross-entropy on the path a GPU takes (F.cross_entropy: the CPU's blockwise version loops over
    row blocks, about 1,000 extra operations at 20,000 words): on a GPU each is at least one kernel
    launch, which is what bounds these small models there. A recurrence the CPU runs step by step (NRT's
    GRU) counts per time step, where cuDNN would fuse it: for NRT the count is an upper bound;
  * the measured CPU rate: examples/s of the committed amazon-mi reference leaderboard rows (2 threads),
    carried to the 20,000-word vocabulary by the ratio of FLOPs per example;
  * epochs: the epochs those rows trained to their early stop (the reference rules), taken as the
    epochs on the larger datasets (the largest uncertainty of the projection; stated in docs/scaling.md).
Projected time of one run = epochs x (0.8 N training examples + 0.1 N validation examples at the
forward-only cost) at the rate, plus greedy generation of 0.1 N test sentences (not counted: seconds to
minutes). On a GPU the rate is the slower of two bounds, compute (FLOPs / (peak x utilisation)) and
launch (aten operations x host time per operation); both assumptions are options and printed with the
result, until a GPU measurement (benchmarks/gpu_reference.py) replaces them.
--quick: the models' tiny configs on small shapes (a smoke run; the numbers mean nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]


def _flops_module():
    spec = importlib.util.spec_from_file_location("flops_bench", ROOT / "benchmarks" / "flops.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FLOPS = _flops_module()
MODELS = ("nrt", "att2seq", "nete", "peter", "mvae")
ABLATIONS = ("mvae-nokl", "mvae-nomlf", "mvae-norn", "mvae-mse")


@dataclass(frozen=True)
class Dataset:
    name: str
    reviews: int
    users: int
    items: int
    words: int = 20_000


# Table 1 of the paper (Amazon = Amazon 5-core Movies & TV), and Musical Instruments as imported here
PAPER = (
    Dataset("Amazon Movies & TV", 653_568, 161_434, 118_862),
    Dataset("Yelp", 1_033_823, 451_937, 154_951),
    Dataset("TripAdvisor", 1_311_676, 333_409, 304_954),
)
HERE = Dataset("Musical Instruments (amazon-mi)", 7_519, 1_429, 900, 5_600)


@contextmanager
def gpu_cross_entropy():
    """engine.losses.token_nll as on a GPU (F.cross_entropy) instead of the CPU's blockwise loop."""
    from explainbench.engine import losses

    original = losses._BlockwiseNLL.apply
    losses._BlockwiseNLL.apply = lambda logits, target, ignore: F.cross_entropy(
        logits.float(), target, ignore_index=ignore, reduction="none")
    try:
        yield
    finally:
        losses._BlockwiseNLL.apply = original


class OpCounter(TorchDispatchMode):
    """Counts the aten operations dispatched (each a kernel launch or more on a GPU)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.count += 1
        return func(*args, **(kwargs or {}))


@dataclass
class Cost:
    model: str
    dataset: str
    batch: int
    parameters: int
    train_flops_per_example: float
    val_flops_per_example: float
    ops_per_step: int
    optimizer: str = "adam"


def _label(name: str, stage: str | None) -> str:
    return name if stage is None else f"{name} ({stage})"


def model_config(name: str, quick: bool):  # noqa: ANN201 - a NeuralConfig
    """The paper scale of the model's recipe (the ablations: MVAE's recipe on their own config class)."""
    from explainbench.api.registry import get_explainer
    from explainbench.runner.config import apply_overrides, load_recipe

    base = "mvae" if name.startswith("mvae") else name
    if quick:
        return FLOPS.tiny_config(base)
    recipe = load_recipe(ROOT / "recipes" / base / "default.yaml")
    cls = get_explainer(name).config_class
    return apply_overrides(cls, [(f"{recipe.path} scale paper", recipe.overrides("paper"))])


def measure_cost(name: str, stage: str | None, data: Dataset, quick: bool, known: Cost | None = None) -> Cost:
    """The FLOPs and the operation count of one model on one data shape (known: take its FLOPs, count
    the operations only)."""
    torch.manual_seed(1111)
    config = dataclasses.replace(model_config(name, quick), precision="fp32", device="cpu")
    shape = FLOPS.DataShape(words=data.words if not quick else 200, users=data.users if not quick else 50,
                            items=data.items if not quick else 40, batch=0, max_words=15)
    vocab = FLOPS.Vocab(size=shape.words + 4, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = FLOPS.build_module(name, config, vocab, shape)
    if stage is not None:
        module.set_stage(stage)
    module.train()
    gen = torch.Generator().manual_seed(0)
    batch = FLOPS.random_batch(config.batch_size, vocab, shape, gen)
    step = FLOPS.make_step(module, config, "fp32")
    train = FLOPS.count_step_flops(step, batch) if known is None else None  # also the warm-up step
    if known is not None:
        step(0, batch)  # the first step creates the optimiser's state: not a step's work
    ops = OpCounter()
    with ops, gpu_cross_entropy():
        step(1, batch)
    if known is not None:
        return dataclasses.replace(known, ops_per_step=ops.count, optimizer=config.optimizer)
    module.eval()
    counter = FlopCounterMode(display=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
        with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False), sdpa_kernel(SDPBackend.MATH), \
                counter:
            module.validation_loss(batch)
    parameters = sum(p.numel() for p in module.parameters())
    return Cost(_label(name, stage), data.name, config.batch_size, parameters,
                train / config.batch_size, counter.get_total_flops() / config.batch_size, ops.count,
                config.optimizer)


def bytes_per_step(cost: Cost) -> float:
    """Memory traffic of one optimiser step over every parameter, which the embedding tables of the
    paper's datasets make large (their gradients are dense): the weight read and written and the
    gradient written and read (16 bytes per float32 parameter), and for Adam its two moments read and
    written (16 more)."""
    return cost.parameters * (16 if cost.optimizer.lower() == "sgd" else 32)


def cpu_bandwidth(threads: int) -> float:
    """Streaming bandwidth here in bytes/s: the best of 5 in-place adds over 1 GiB (read + write)."""
    torch.set_num_threads(threads)
    a = torch.ones(1 << 28)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a.add_(1.0)
        best = min(best, time.perf_counter() - start)
    return 2 * a.numel() * 4 / best


def leaderboard_rows(folder: Path) -> dict[str, dict]:
    """model -> results.json of the committed amazon-mi reference rows (split 1)."""
    out = {}
    for path in sorted((folder / "amazon-mi" / "reference").glob("*/split-1/results.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out[doc["model"]] = doc
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leaderboard", type=Path, default=ROOT / "leaderboard")
    ap.add_argument("--gpu-peak-tflops", type=float, default=989.0,
                    help="bf16 dense peak of the GPU (H100 SXM and H200: 989)")
    ap.add_argument("--gpu-utilisation", type=float, default=0.4,
                    help="share of the peak a compute-bound step reaches")
    ap.add_argument("--gpu-op-us", type=float, default=10.0,
                    help="host time per dispatched aten operation in eager PyTorch on a GPU (microseconds)")
    ap.add_argument("--gpus", type=int, default=8, help="GPUs of the Ray cluster")
    ap.add_argument("--gpu-tbps", type=float, default=3.35,
                    help="GPU memory bandwidth in TB/s (H100 SXM 3.35, H200 4.8), reached at 70%%")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--flops-from", type=Path, default=None,
                    help="a --json of an earlier run: take its FLOPs, count the operations again")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = leaderboard_rows(args.leaderboard)
    models = [*MODELS] if args.quick else [*MODELS, *ABLATIONS]
    costs: list[Cost] = []
    earlier = {}
    if args.flops_from is not None:
        for c in json.loads(args.flops_from.read_text(encoding="utf-8"))["costs"]:
            earlier[(c["model"], c["dataset"])] = Cost(**c)
    for name in models:
        stages = ("rating", "text") if name == "nete" else (None,)
        for data in (HERE, *PAPER):
            per_stage = [measure_cost(name, s, data, args.quick, earlier.get((_label(name, s), data.name)))
                         for s in stages]
            cost = per_stage[0]
            if len(per_stage) > 1:  # NETE: both stages, one after the other (epochs of each as measured)
                cost = dataclasses.replace(
                    cost, model=name,
                    train_flops_per_example=sum(c.train_flops_per_example for c in per_stage),
                    val_flops_per_example=sum(c.val_flops_per_example for c in per_stage),
                    ops_per_step=sum(c.ops_per_step for c in per_stage))
            costs.append(cost)
            print(f"{cost.model:11} {data.name:34} {cost.train_flops_per_example / 1e9:8.3f} GFLOP/example "
                  f"{cost.ops_per_step:6d} ops/step", flush=True)
    args.cpu_gbps = cpu_bandwidth(args.threads) / 1e9
    print(f"CPU streaming bandwidth at {args.threads} threads: {args.cpu_gbps:.1f} GB/s", flush=True)
    plan = project(costs, rows, args)
    doc = {"costs": [dataclasses.asdict(c) for c in costs], "plan": plan, "assumptions": vars(args) | {
        "leaderboard": str(args.leaderboard), "json": str(args.json)}}
    print(markdown(plan, args))
    if args.json is not None:
        args.json.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def project(costs: list[Cost], rows: dict[str, dict], args: argparse.Namespace) -> list[dict]:
    """Per model and paper dataset: the CPU rate carried from Musical Instruments, the GPU bounds, hours."""
    here = {c.model: c for c in costs if c.dataset == HERE.name}
    plan = []
    for c in costs:
        if c.dataset == HERE.name:
            continue
        data = next(d for d in PAPER if d.name == c.dataset)
        row = rows.get(c.model, {})
        timings = row.get("timings") or {}
        cpu_here = timings.get("train_examples_per_s")
        epochs = timings.get("train_epochs")
        ratio = here[c.model].train_flops_per_example / c.train_flops_per_example
        cpu_rate = None
        if cpu_here:  # the measured step, scaled by the FLOP ratio, plus the larger tables' traffic
            extra = (bytes_per_step(c) - bytes_per_step(here[c.model])) / (args.cpu_gbps * 1e9)
            cpu_rate = c.batch / (c.batch / (cpu_here * ratio) + extra)
        achieved = args.gpu_peak_tflops * 1e12 * args.gpu_utilisation
        bounds = {"compute": c.train_flops_per_example * c.batch / achieved,
                  "launch": c.ops_per_step * args.gpu_op_us * 1e-6,
                  "memory": bytes_per_step(c) / (args.gpu_tbps * 1e12 * 0.7)}
        bound = max(bounds, key=bounds.get)
        gpu_rate = c.batch / bounds[bound]
        work = None
        if epochs:
            # training examples at the training cost, validation at the forward cost (in training units)
            work = epochs * (0.8 * data.reviews + 0.1 * data.reviews
                             * c.val_flops_per_example / c.train_flops_per_example)
        plan.append({
            "model": c.model, "dataset": c.dataset, "epochs": epochs, "gflop_per_example":
            c.train_flops_per_example / 1e9, "ops_per_step": c.ops_per_step,
            "cpu_examples_per_s": cpu_rate, "gpu_examples_per_s": gpu_rate,
            "gpu_bound": bound, "gpu_step_ms": {k: v * 1e3 for k, v in bounds.items()},
            "parameters": c.parameters, "optimizer": c.optimizer,
            "cpu_hours": work / cpu_rate / 3600 if work and cpu_rate else None,
            "gpu_hours": work / gpu_rate / 3600 if work else None,
        })
    return plan


def _h(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:,.1f}" if x >= 1 else f"{x:.2f}"


def markdown(plan: list[dict], args: argparse.Namespace) -> str:
    lines = ["| model | dataset | parameters | epochs | GFLOP / example | aten ops / step | GPU step ms: "
             "compute / launch / memory | CPU ex/s (2 threads) | GPU ex/s | one run, CPU h | "
             "one run, GPU h |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in plan:
        ms = p["gpu_step_ms"]
        lines.append(
            f"| {p['model']} | {p['dataset']} | {p['parameters'] / 1e6:,.0f} M | {p['epochs'] or '-'} | "
            f"{p['gflop_per_example']:.3f} | {p['ops_per_step']:,} | "
            f"{ms['compute']:.1f} / {ms['launch']:.1f} / {ms['memory']:.1f} | "
            f"{_h(p['cpu_examples_per_s'])} | {_h(p['gpu_examples_per_s'])} | "
            f"{_h(p['cpu_hours'])} | {_h(p['gpu_hours'])} |")
    table2 = [p for p in plan if p["model"] in MODELS]
    table3 = [p for p in plan if p["model"] in ABLATIONS and p["dataset"] == "Yelp"]
    for title, part in (("Table 2 (5 models x 3 datasets x 5 splits)", table2),
                        ("Table 3 (4 ablations x Yelp x 5 splits)", table3),
                        ("Tables 2 and 3", table2 + table3)):
        gpu = 5 * sum(p["gpu_hours"] or 0 for p in part)
        cpu = 5 * sum(p["cpu_hours"] or 0 for p in part)
        longest = max([(p["gpu_hours"] or 0) for p in part] or [0])  # no run is split between GPUs
        lines.append(f"\n{title}: {gpu:,.1f} GPU hours on one GPU; on {args.gpus} GPUs about "
                     f"{max(gpu / args.gpus, longest):,.1f} h; {cpu:,.0f} CPU hours at 2 threads")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
