"""Throughput of the NRT, Att2Seq and NETE networks at the reference sizes on this machine.

Training: examples/s of loss + backward + optimiser step (+ clipping where the config clips) at the
reference batch size. Generation: sentences/s of the shared greedy decoder for all gen_max_len steps
(no early stop at <eos>), batch eval_batch_size. Synthetic batches: vocabulary 20,000 (the reference's),
explanations of 15 words (the full max_words + 2 columns), 2,000 users and 2,000 items.

    .venv/bin/python benchmarks/baselines_bench.py [--threads 1] [--steps 5] [--repeats 3] [--models nrt nete]

Prints a Markdown table of medians over repeats, each run in brackets (docs/benchmarks.md, Baselines).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from baselines.att2seq import Att2SeqConfig, Att2SeqModule
from baselines.nete import NETEConfig, NETEModule
from baselines.nrt import NRTConfig, NRTModule
from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig
from explainbench.engine.trainer import make_optimizer

VOCAB = Vocab(size=20_000, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
N_USERS = N_ITEMS = 2_000
RATING_RANGE = (1.0, 5.0)


@dataclass
class Case:
    name: str
    config: NeuralConfig
    build: Callable[[], ExplainerModule]
    prepare: Callable[[ExplainerModule], None] = lambda module: None


def cases() -> dict[str, Case]:
    nrt, att, nete = NRTConfig(), Att2SeqConfig(), NETEConfig()
    return {
        "nrt": Case("nrt", nrt, lambda: NRTModule(nrt, VOCAB, N_USERS, N_ITEMS, RATING_RANGE)),
        "att2seq": Case("att2seq", att, lambda: Att2SeqModule(att, VOCAB, N_USERS, N_ITEMS, RATING_RANGE)),
        # NETE's cost is its text stage (the rating stage is an MLP); time that stage
        "nete": Case(
            "nete",
            nete,
            lambda: NETEModule(nete, VOCAB, N_USERS, N_ITEMS, RATING_RANGE),
            lambda module: module.set_stage("text"),
        ),
    }


def random_batch(size: int, max_words: int, seed: int) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    text = torch.randint(4, VOCAB.size, (size, max_words + 2), generator=gen)
    text[:, 0] = VOCAB.bos_id
    text[:, -1] = VOCAB.eos_id
    return Batch(
        user=torch.randint(0, N_USERS, (size,), generator=gen),
        item=torch.randint(0, N_ITEMS, (size,), generator=gen),
        rating=torch.randint(1, 6, (size,), generator=gen).float(),
        sentiment=torch.randint(0, 2, (size,), generator=gen),
        feature=torch.randint(4, VOCAB.size, (size,), generator=gen),
        text=text,
    )


def train_rate(case: Case, steps: int) -> float:
    """Examples per second over `steps` optimiser steps (after one warm-up step)."""
    torch.manual_seed(0)
    module = case.build()
    case.prepare(module)
    module.train()
    cfg = case.config
    optimizer = make_optimizer(cfg, module.parameters())
    batches = [random_batch(cfg.batch_size, cfg.max_words, seed) for seed in range(steps + 1)]

    def step(batch: Batch) -> None:
        optimizer.zero_grad(set_to_none=True)
        module.loss(batch).total.backward()
        if cfg.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm)
        optimizer.step()

    step(batches[0])
    started = time.perf_counter()
    for batch in batches[1:]:
        step(batch)
    return steps * cfg.batch_size / (time.perf_counter() - started)


def generate_rate(case: Case, batches: int) -> float:
    """Sentences per second of greedy decoding for the full gen_max_len steps."""
    torch.manual_seed(0)
    module = case.build().eval()
    cfg = case.config
    data = [random_batch(cfg.eval_batch_size, cfg.max_words, 100 + b) for b in range(batches + 1)]
    # eos_id=-1: no row ever finishes, so every sentence costs all gen_max_len steps
    greedy_decode(module, data[0], max_len=cfg.gen_max_len, bos_id=VOCAB.bos_id, eos_id=-1)
    started = time.perf_counter()
    for batch in data[1:]:
        greedy_decode(module, batch, max_len=cfg.gen_max_len, bos_id=VOCAB.bos_id, eos_id=-1)
    return batches * cfg.eval_batch_size / (time.perf_counter() - started)


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:,.1f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per repeat")
    parser.add_argument("--gen-batches", type=int, default=2, help="timed generation batches per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared machine)")
    parser.add_argument("--models", nargs="+", default=["nrt", "att2seq", "nete"], choices=sorted(cases()))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = cases()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| model | batch | train examples/s | eval batch | generate sentences/s | parameters |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        case = table[name]
        trains = [train_rate(case, args.steps) for _ in range(args.repeats)]
        gens = [generate_rate(case, args.gen_batches) for _ in range(args.repeats)]
        train, gen = statistics.median(trains), statistics.median(gens)
        params = sum(p.numel() for p in case.build().parameters())
        print(
            f"| {name} | {case.config.batch_size} | {train:,.1f} ({_runs(trains)}) "
            f"| {case.config.eval_batch_size} | {gen:,.1f} ({_runs(gens)}) | {params / 1e6:.1f} M |",
            flush=True,
        )


if __name__ == "__main__":
    main()
