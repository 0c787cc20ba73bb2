"""Engine benchmark: PETER training examples/s and greedy generation sentences/s (cached vs full).

Usage:
    .venv/bin/python benchmarks/engine_bench.py           # reference size: d 512, FFN 2048, vocab 20,000
    .venv/bin/python benchmarks/engine_bench.py --shape amazon-mi   # Musical Instruments' sizes
    .venv/bin/python benchmarks/engine_bench.py --quick   # tiny sizes, a seconds-long smoke run
Options: --train-steps N --repeats R --gen-batch B --threads T --device D --json FILE
         --precision fp32|bf16 (the engine's autocast)  --only train|gen
Top-level keys `train_examples_per_s_median`, `gen_sentences_per_s_median` (incremental) and their
`*_per_cpu_s_*` twins (per CPU-second of the process: steadier with one thread on a shared machine)
serve benchmarks/ab.py.

Training: one optimiser step = PETER loss (text + context + rating) on a batch of 128 random records
(explanations of 1..15 words), backward, clip 1.0, SGD, as the Trainer does it; median over repeats.
Generation: greedy decoding of 15 words for a batch of requests with the KV cache (incremental) and by
recomputing the whole prefix at every step (full), on the same untrained model; the two must produce
the same tokens. Data are random ids: speed does not depend on their values. The untrained model's
`<eos>` logit is pushed down so that every sentence runs the full 15 steps in both modes.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import torch

from baselines.peter.config import PeterConfig
from baselines.peter.model import PeterModule
from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch
from explainbench.engine.precision import autocast
from explainbench.engine.seed import resolve_device, seed_everything


def random_batch(
    size: int, vocab: Vocab, n_users: int, n_items: int, max_words: int, gen: torch.Generator
) -> Batch:
    lengths = torch.randint(1, max_words + 1, (size,), generator=gen)
    text = torch.full((size, max_words + 2), vocab.pad_id, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        text[b, 0] = vocab.bos_id
        text[b, 1 : n + 1] = torch.randint(4, vocab.size, (n,), generator=gen)
        text[b, n + 1] = vocab.eos_id
    width = int(lengths.max()) + 2
    return Batch(
        user=torch.randint(0, n_users, (size,), generator=gen),
        item=torch.randint(0, n_items, (size,), generator=gen),
        rating=torch.randint(1, 6, (size,), generator=gen).float(),
        sentiment=torch.ones(size, dtype=torch.long),
        feature=torch.randint(4, vocab.size, (size,), generator=gen),
        text=text[:, :width],
    )


CPU_RATES: dict[str, list[float]] = {}  # per CPU-second of the process
SHAPES = {"reference": (20004, 10000, 10000), "amazon-mi": (5600, 1389, 895)}  # vocabulary, users, items


def bench_training(
    module: PeterModule, cfg: PeterConfig, batches: list[Batch], repeats: int, precision: str = "fp32"
) -> list[float]:
    """examples/s per repeat (each repeat = len(batches) optimiser steps)."""
    opt = torch.optim.SGD(module.parameters(), lr=cfg.lr)
    module.train()
    device = batches[0].user.device

    def step(batch: Batch) -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(precision, device):
            loss = module.loss(batch).total
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm or 1.0)
        opt.step()

    step(batches[0])  # warm-up
    rates, cpu_rates = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for batch in batches:
            step(batch)
        if batches[0].user.is_cuda:
            torch.cuda.synchronize()
        rates.append(sum(len(b) for b in batches) / (time.perf_counter() - start))
        cpu_rates.append(sum(len(b) for b in batches) / (time.process_time() - cpu_start))
    CPU_RATES["train"] = cpu_rates
    return rates


def bench_generation(
    module: PeterModule, batch: Batch, vocab: Vocab, max_len: int, repeats: int, precision: str = "fp32"
) -> dict:
    out: dict = {}
    tokens = {}

    def decode() -> torch.Tensor:
        with autocast(precision, batch.user.device):
            return greedy_decode(module, batch, max_len=max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id)

    for mode in ("incremental", "full"):
        module.incremental = mode == "incremental"
        decode()  # warm-up
        rates, cpu_rates = [], []
        for _ in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            tokens[mode] = decode()
            if batch.user.is_cuda:
                torch.cuda.synchronize()
            rates.append(len(batch) / (time.perf_counter() - start))
            cpu_rates.append(len(batch) / (time.process_time() - cpu_start))
        out[mode] = rates
        CPU_RATES[f"gen_{mode}"] = cpu_rates
    module.incremental = True
    out["same_tokens"] = bool(torch.equal(tokens["incremental"], tokens["full"]))
    out["generated_len"] = int(tokens["incremental"].shape[1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    ap.add_argument("--train-steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gen-batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shape", choices=tuple(SHAPES), default="reference")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--only", choices=("train", "gen"), default=None, help="measure only one of the two")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(1111)
    device = resolve_device(args.device)
    if args.quick:
        cfg = PeterConfig.tiny()
        vocab_size, n_users, n_items = 500, 100, 100
    else:
        cfg = PeterConfig()
        vocab_size, n_users, n_items = SHAPES[args.shape]  # reference: 20,000 words + 4 specials
    vocab = Vocab(size=vocab_size, pad_id=2, bos_id=0, eos_id=1, unk_id=3)
    module = PeterModule(cfg, vocab, n_users, n_items, use_feature=False).to(device)
    gen = torch.Generator().manual_seed(0)
    batches = [
        random_batch(cfg.batch_size, vocab, n_users, n_items, cfg.max_words, gen).to(device)
        for _ in range(args.train_steps)
    ]
    train_rates = [math.nan]
    CPU_RATES.update(train=[math.nan], gen_incremental=[math.nan])
    if args.only != "gen":
        train_rates = bench_training(module, cfg, batches, args.repeats, args.precision)
    req = random_batch(args.gen_batch, vocab, n_users, n_items, cfg.max_words, gen).to(device)
    req.text = req.text[:, :1]
    module.eval()
    with torch.no_grad():
        module.hidden2token.bias[vocab.eos_id] = -1e9
    generation = {"incremental": [math.nan], "full": [math.nan], "same_tokens": None, "generated_len": 0}
    if args.only != "train":
        generation = bench_generation(module, req, vocab, cfg.gen_max_len, args.repeats, args.precision)
    inc = statistics.median(generation["incremental"])
    full = statistics.median(generation["full"])
    result = {
        "train_examples_per_s_median": statistics.median(train_rates),
        "gen_sentences_per_s_median": inc,
        "train_examples_per_cpu_s_median": statistics.median(CPU_RATES["train"]),
        "gen_sentences_per_cpu_s_median": statistics.median(CPU_RATES["gen_incremental"]),
        "precision": args.precision,
        "shape": "tiny" if args.quick else args.shape,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": {
            "d_model": cfg.d_model,
            "d_ffn": cfg.d_ffn,
            "layers": cfg.n_layers,
            "vocab": vocab_size,
        },
        "batch_size": cfg.batch_size,
        "train_examples_per_s": {"median": statistics.median(train_rates), "runs": train_rates},
        "generation": {
            "batch": args.gen_batch,
            "max_len": cfg.gen_max_len,
            "generated_len": generation["generated_len"],
            "incremental_sentences_per_s": {"median": inc, "runs": generation["incremental"]},
            "full_sentences_per_s": {"median": full, "runs": generation["full"]},
            "speed_up": inc / full,
            "same_tokens": generation["same_tokens"],
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
