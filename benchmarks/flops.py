"""Achieved GFLOP/s of each neural model's training step against the measured matmul peak of this CPU.

    .venv/bin/python benchmarks/flops.py --threads 2 [--precisions fp32,bf16]
        [--models peter,nrt,att2seq,nete,mvae] [--steps 10] [--json out.json] [--quick]

(a) Peak: square matrix products C = A B of size n (1024, 2048, 4096) in fp32 and in bf16 (bfloat16
    tensors, as autocast hands them to the kernel), GFLOP/s = 2 n^3 / time, best of --repeats; the
    peak of a precision is its best size.
(b) Models at their reference ("paper") size (recipes/<model>/default.yaml, scale paper) on a data shape
    like Amazon Musical Instruments (options --words 5600 --users 1400 --items 900 --batch 128
    --max-words 15; --batch 0 = each model's own batch size). A batch holds random ids with explanations
    of 1..max-words words, one of them max-words long, so the padded width is max-words + 2 as in almost
    every real batch (about half of Musical Instruments' explanations reach 15 words). One training
    step is the engine's (explainbench/engine/trainer.py): zero_grad, the model's loss under the
    precision's autocast (engine/precision.py), backward, gradient clipping where the config clips, the
    config's optimiser step, the loss accumulated on the device. NETE has two stages, each its own row.
    FLOPs: torch.utils.flop_counter.FlopCounterMode over one step (forward + backward). It counts matrix
    products and convolutions only (no element-wise work, softmax or optimiser arithmetic), and it has no
    formula for the CPU's fused kernels (oneDNN's LSTM, the CPU flash-attention kernel), so the step is
    counted once with oneDNN off and scaled-dot-product attention on its math backend: the same products,
    run as mm/bmm the counter sees. The timed steps use the default kernels. Time: the median of --steps
    steps after --warmup steps; achieved GFLOP/s = FLOPs / median time, and its share of the peak of
    the same precision.
--quick: tiny models and matrices, a smoke run of well under a minute (the numbers mean nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from explainbench.api.registry import get_explainer
from explainbench.data.vocab import Vocab
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig
from explainbench.engine.precision import autocast
from explainbench.engine.trainer import DeviceSums, make_optimizer
from explainbench.runner.config import apply_overrides, load_recipe

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
MODELS = ("peter", "nrt", "att2seq", "nete", "mvae")
STAGES = {"nete": ("rating", "text")}  # models trained in stages: one row per stage


@dataclass(frozen=True)
class DataShape:
    words: int  # vocabulary words (4 special tokens are added)
    users: int
    items: int
    batch: int  # 0 = each model's own config.batch_size
    max_words: int


@dataclass
class StepResult:
    model: str
    precision: str
    batch: int
    parameters: int
    flops: int  # one training step, forward + backward
    median_s: float
    times_s: list[float]
    gflops: float
    peak_share: float | None


# ----------------------------------------------------------------------------- (a) matmul peak
def matmul_gflops(n: int, dtype: torch.dtype, repeats: int) -> float:
    """Best GFLOP/s of an n x n by n x n product in dtype (2 n^3 flops) over repeats, after a warm-up."""
    gen = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=gen).to(dtype)
    b = torch.randn(n, n, generator=gen).to(dtype)
    out = torch.empty(n, n, dtype=dtype)
    torch.mm(a, b, out=out)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def measure_peak(sizes: list[int], precisions: list[str], repeats: int) -> dict[str, dict[int, float]]:
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    return {p: {n: matmul_gflops(n, dtypes[p], repeats) for n in sizes} for p in precisions}


# ----------------------------------------------------------------------------- (b) training steps
def model_config(name: str, quick: bool) -> NeuralConfig:
    """The paper scale of recipes/<name>/default.yaml, or the model's tiny test config (--quick)."""
    config_class = get_explainer(name).config_class
    if quick:
        return tiny_config(name)
    recipe = load_recipe(RECIPES / name / "default.yaml")
    return apply_overrides(config_class, [(f"{recipe.path} scale paper", recipe.overrides("paper"))])


def tiny_config(name: str) -> NeuralConfig:
    if name == "peter":
        from baselines.peter.config import PeterConfig

        return PeterConfig.tiny()
    if name == "mvae":
        from explainbench.models.mvae import MVAEConfig

        return MVAEConfig.tiny()
    if name == "nrt":
        from baselines.nrt import tiny_config as nrt_tiny

        return nrt_tiny()
    if name == "att2seq":
        from baselines.att2seq import tiny_config as att2seq_tiny

        return att2seq_tiny()
    if name == "nete":
        from baselines.nete.config import tiny_config as nete_tiny

        return nete_tiny()
    raise ValueError(f"no tiny config for {name!r}")


def build_module(name: str, config: NeuralConfig, vocab: Vocab, shape: DataShape) -> ExplainerModule:
    """The network as NeuralExplainer.prepare() builds it (rating range 1-5, as Musical Instruments)."""
    explainer = get_explainer(name)(config)
    explainer.rating_range = (1.0, 5.0)
    return explainer.build_module(vocab, shape.users, shape.items)


def random_batch(size: int, vocab: Vocab, shape: DataShape, gen: torch.Generator) -> Batch:
    """Random records; explanations of 1..max_words words with the longest at max_words."""
    lengths = torch.randint(1, shape.max_words + 1, (size,), generator=gen)
    lengths[0] = shape.max_words
    text = torch.full((size, shape.max_words + 2), vocab.pad_id, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        text[b, 0] = vocab.bos_id
        text[b, 1 : n + 1] = torch.randint(4, vocab.size, (n,), generator=gen)
        text[b, n + 1] = vocab.eos_id
    rating = torch.randint(1, 6, (size,), generator=gen).float()
    return Batch(
        user=torch.randint(0, shape.users, (size,), generator=gen),
        item=torch.randint(0, shape.items, (size,), generator=gen),
        rating=rating,
        sentiment=(rating >= 3).long(),
        feature=torch.randint(4, vocab.size, (size,), generator=gen),
        text=text,
    )


def make_step(module: ExplainerModule, config: NeuralConfig, precision: str) -> Callable[[int, Batch], None]:
    """One optimiser step as Trainer.fit() takes it (trainer.py), on the CPU."""
    optimizer = make_optimizer(config, module.parameters())
    sums = DeviceSums("cpu")

    def step(i: int, batch: Batch) -> None:
        module.set_step(i)
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision, "cpu"):
            out = module.loss(batch)
        out.total.backward()
        if config.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), config.clip_norm)
        optimizer.step()
        sums.add(out.total, out.parts, len(batch))

    return step


def count_step_flops(step: Callable[[int, Batch], None], batch: Batch) -> int:
    """FLOPs of one step, with oneDNN off and SDPA on its math backend (see the module doc)."""
    counter = FlopCounterMode(display=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")  # flags() warns
        with torch.backends.mkldnn.flags(enabled=False), sdpa_kernel(SDPBackend.MATH), counter:
            step(0, batch)
    return int(counter.get_total_flops())


def bench_model(
    name: str, stage: str | None, precision: str, shape: DataShape, steps: int, warmup: int,
    quick: bool, peak: dict[str, float],
) -> StepResult:
    torch.manual_seed(1111)
    config = model_config(name, quick)
    config = dataclasses.replace(config, precision=precision, device="cpu",
                                 batch_size=shape.batch or config.batch_size)
    vocab = Vocab(size=shape.words + 4, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = build_module(name, config, vocab, shape)
    if stage is not None:
        module.set_stage(stage)  # type: ignore[attr-defined]
    module.train()
    gen = torch.Generator().manual_seed(0)
    batches = [random_batch(config.batch_size, vocab, shape, gen) for _ in range(min(steps, 4))]
    step = make_step(module, config, precision)
    flops = count_step_flops(step, batches[0])
    for i in range(warmup):
        step(i + 1, batches[i % len(batches)])
    times = []
    for i in range(steps):
        start = time.perf_counter()
        step(warmup + i + 1, batches[i % len(batches)])
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    gflops = flops / median / 1e9
    return StepResult(
        model=name if stage is None else f"{name} ({stage})",
        precision=precision,
        batch=config.batch_size,
        parameters=sum(p.numel() for p in module.parameters()),
        flops=flops,
        median_s=median,
        times_s=times,
        gflops=gflops,
        peak_share=gflops / peak[precision] if peak.get(precision) else None,
    )


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown(peaks: dict[str, dict[int, float]], results: list[StepResult]) -> str:
    sizes = sorted({n for by_size in peaks.values() for n in by_size})
    lines = ["| matmul | " + " | ".join(f"n = {n}" for n in sizes) + " | peak |",
             "|---|" + "---|" * (len(sizes) + 1)]
    for p, by_size in peaks.items():
        lines.append(f"| {p} GFLOP/s | " + " | ".join(f"{by_size[n]:,.1f}" for n in sizes)
                     + f" | **{max(by_size.values()):,.1f}** |")
    lines += ["", "| model | precision | batch | parameters | GFLOP / step | step ms (median) | examples/s "
              "| GFLOP/s | of peak |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        share = f"{r.peak_share:.1%}" if r.peak_share is not None else "-"
        lines.append(f"| {r.model} | {r.precision} | {r.batch} | {r.parameters / 1e6:.2f} M "
                     f"| {r.flops / 1e9:.3g} | {r.median_s * 1e3:.1f} | {r.batch / r.median_s:,.0f} "
                     f"| {r.gflops:.1f} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=10, help="timed steps per model and precision")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--sizes", default="1024,2048,4096", help="matmul sizes n")
    ap.add_argument("--repeats", type=int, default=5, help="matmul repeats (best is kept)")
    ap.add_argument("--words", type=int, default=5600, help="vocabulary words (+ 4 special tokens)")
    ap.add_argument("--users", type=int, default=1400)
    ap.add_argument("--items", type=int, default=900)
    ap.add_argument("--batch", type=int, default=128, help="0 = each model's own batch size")
    ap.add_argument("--max-words", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="tiny models and matrices (smoke run)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    precisions = args.precisions.split(",")
    for p in precisions:
        if p not in ("fp32", "bf16"):
            raise SystemExit(f"--precisions: {p!r} is neither fp32 nor bf16")
    models = args.models.split(",")
    for m in models:
        if m not in MODELS:
            raise SystemExit(f"--models: {m!r}; choose from {', '.join(MODELS)}")
    sizes = [int(n) for n in args.sizes.split(",")]
    shape = DataShape(args.words, args.users, args.items, args.batch, args.max_words)
    steps, warmup, repeats = args.steps, args.warmup, args.repeats
    if args.quick:
        sizes, repeats, steps, warmup = [64, 128], 2, 2, 1
        shape = DataShape(200, 50, 40, 16, args.max_words)
    load_before = os.getloadavg()
    peaks = measure_peak(sizes, precisions, repeats)
    peak = {p: max(by_size.values()) for p, by_size in peaks.items()}
    results = []
    for name in models:
        for stage in STAGES.get(name, (None,)):
            for p in precisions:
                results.append(bench_model(name, stage, p, shape, steps, warmup, args.quick, peak))
    load_after = os.getloadavg()
    cpu = cpu_name()
    head = (f"{cpu}, torch {torch.__version__}, {torch.get_num_threads()} threads; load average "
            f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
            f"{' '.join(f'{x:.2f}' for x in load_after)} after"
            + (" (--quick: tiny sizes, not a measurement)" if args.quick else ""))
    print(head + "\n")
    print(markdown(peaks, results))
    if args.json is not None:
        args.json.write_text(json.dumps({
            "machine": cpu, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "load_before": load_before, "load_after": load_after, "quick": args.quick,
            "shape": dataclasses.asdict(shape), "steps": steps, "warmup": warmup,
            "matmul_gflops": {p: {str(n): v for n, v in by_size.items()} for p, by_size in peaks.items()},
            "peak_gflops": peak, "models": [dataclasses.asdict(r) for r in results],
        }, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
