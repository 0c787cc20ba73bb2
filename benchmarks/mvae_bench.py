"""MVAE benchmark: training examples/s and greedy generation sentences/s at the paper's size.

Usage:
    .venv/bin/python benchmarks/mvae_bench.py          # paper size: d 768, 2+2 layers, 1536 -> 12, vocab 20k
    .venv/bin/python benchmarks/mvae_bench.py --quick  # the tiny test config, a seconds-long smoke run
    .venv/bin/python benchmarks/mvae_bench.py --scale cpu-small   # a scale of recipes/mvae/default.yaml
Options: --model mvae|mvae-nokl|mvae-nomlf|mvae-norn|mvae-mse  --batch B --train-steps N --repeats R
         --gen-batch G --threads T --device D --json FILE

Training: one optimiser step = MVAE's loss in the training architecture (prior, recognition, TKL at the
three scales, reconstruction, GPT-2 teacher forcing) on a batch of random records (1..15 words), backward,
clip 5.0, AdamW, as the Trainer does it; the rate is the median over repeats of N steps.
Generation: the test architecture (prior -> mu_p -> reconstruction -> GPT-2 with its key/value cache),
greedy for 20 words (the paper's longest generation) on a batch of requests; the untrained model's
`<eos>` is masked so that every sentence runs all 20 steps. Users/items: the synthetic set's 5,000 / 4,600.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from explainbench.api.registry import get_explainer
from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch
from explainbench.engine.seed import resolve_device, seed_everything
from explainbench.models.mvae import MVAEConfig, MVAEModule
from explainbench.runner.config import apply_overrides, load_recipe

N_USERS, N_ITEMS = 5000, 4600
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "mvae" / "default.yaml"


def random_batch(size: int, vocab: Vocab, max_words: int, gen: torch.Generator) -> Batch:
    lengths = torch.randint(1, max_words + 1, (size,), generator=gen)
    text = torch.full((size, max_words + 2), vocab.pad_id, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        text[b, 0] = vocab.bos_id
        text[b, 1 : n + 1] = torch.randint(4, vocab.size, (n,), generator=gen)
        text[b, n + 1] = vocab.eos_id
    return Batch(
        user=torch.randint(0, N_USERS, (size,), generator=gen),
        item=torch.randint(0, N_ITEMS, (size,), generator=gen),
        rating=torch.randint(1, 6, (size,), generator=gen).float(),
        sentiment=torch.ones(size, dtype=torch.long),
        feature=torch.full((size,), vocab.unk_id),
        text=text[:, : int(lengths.max()) + 2],
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_training(module: MVAEModule, batches: list[Batch], repeats: int) -> list[float]:
    """examples/s per repeat (each repeat = len(batches) optimiser steps)."""
    cfg = module.config
    opt = torch.optim.AdamW(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    module.train()

    def step(i: int, batch: Batch) -> None:
        module.set_step(i)
        opt.zero_grad(set_to_none=True)
        module.loss(batch).total.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm or 5.0)
        opt.step()

    step(0, batches[0])  # warm-up (allocations, optimiser state)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i, batch in enumerate(batches):
            step(i, batch)
        _sync(batches[0].user.device)
        rates.append(sum(len(b) for b in batches) / (time.perf_counter() - start))
    return rates


def bench_generation(module: MVAEModule, batch: Batch, max_len: int, repeats: int) -> tuple[list[float], int]:
    """sentences/s per repeat, and the generated length (max_len when <eos> is masked)."""
    vocab = module.vocab
    decode_step = module.decode_step

    def no_eos_step(state: object, previous: torch.Tensor) -> tuple[torch.Tensor, object]:
        logits, state = decode_step(state, previous)
        logits[:, vocab.eos_id] = float("-inf")
        return logits, state

    module.decode_step = no_eos_step  # type: ignore[method-assign]
    greedy_decode(module, batch, max_len=max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id)  # warm-up
    rates, length = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        tokens = greedy_decode(module, batch, max_len=max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id)
        _sync(batch.user.device)
        rates.append(len(batch) / (time.perf_counter() - start))
        length = int(tokens.shape[1])
    del module.decode_step
    return rates, length


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the tiny test config (smoke run)")
    ap.add_argument("--scale", default="paper", help="a scale of recipes/mvae/default.yaml")
    ap.add_argument("--model", default="mvae", help="mvae or one of its variants")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train-steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gen-batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(1111)
    device = resolve_device(args.device)
    config_class = get_explainer(args.model).config_class
    if args.quick:
        config: MVAEConfig = config_class.tiny()
    else:
        config = apply_overrides(config_class, [("recipe", load_recipe(RECIPE).overrides(args.scale))])
    config = dataclasses.replace(config, batch_size=args.batch)
    vocab = Vocab(size=600 if args.quick else 20000, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = MVAEModule(config, vocab, N_USERS, N_ITEMS).to(device)
    n_params = sum(p.numel() for p in module.parameters())
    gen = torch.Generator().manual_seed(0)
    batches = [
        random_batch(args.batch, vocab, config.max_words, gen).to(device) for _ in range(args.train_steps)
    ]
    train_rates = bench_training(module, batches, args.repeats)
    request_batch = random_batch(args.gen_batch, vocab, config.max_words, gen).to(device)
    gen_rates, length = bench_generation(module, request_batch, config.gen_max_len, args.repeats)
    result = {
        "model": args.model,
        "scale": "tiny" if args.quick else args.scale,
        "parameters": n_params,
        "d_model": config.d_model,
        "latent_dims": config.latent_dims,
        "vocab": vocab.size,
        "batch": args.batch,
        "train_steps_per_repeat": args.train_steps,
        "train_examples_per_s_median": statistics.median(train_rates),
        "train_examples_per_s": train_rates,
        "gen_batch": args.gen_batch,
        "gen_words": length,
        "gen_sentences_per_s_median": statistics.median(gen_rates),
        "gen_sentences_per_s": gen_rates,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
