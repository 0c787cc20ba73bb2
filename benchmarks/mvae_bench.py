"""MVAE benchmark: training examples/s and greedy generation sentences/s at the paper's size.

Usage:
    .venv/bin/python benchmarks/mvae_bench.py          # paper size: d 768, 2+2 layers, 1536 -> 12, vocab 20k
    .venv/bin/python benchmarks/mvae_bench.py --shape amazon-mi --threads 2   # Musical Instruments' sizes
    .venv/bin/python benchmarks/mvae_bench.py --quick  # the tiny test config, a seconds-long smoke run
    .venv/bin/python benchmarks/mvae_bench.py --scale cpu-small   # a scale of recipes/mvae/default.yaml
Options: --model mvae|mvae-nokl|mvae-nomlf|mvae-norn|mvae-mse  --batch B --train-steps N --repeats R
         --from-run RUN_DIR: generation only, with a trained model (below)
         --gen-batch G --threads T --device D --precision fp32|bf16 --json FILE
         --shape synthetic|amazon-mi (vocabulary, users, items; --vocab/--users/--items override)
         --profile: one training step and one generation under torch.profiler, the top operators printed
         --only train|gen: measure one of the two (the other's rates are NaN)

Rates are per wall-clock second and per CPU-second of the process (`*_per_cpu_s_*`, the steadier
figure with --threads 1 on a shared machine). Training: one optimiser step = MVAE's loss in the
training architecture (prior, recognition, TKL at the three scales, reconstruction, GPT-2 teacher
forcing) on a batch of random records (1..15 words), backward, clip 5.0, AdamW, as the Trainer does it;
the rate is the median over repeats of N steps.
Generation: the test architecture (prior -> mu_p -> reconstruction -> GPT-2 with its key/value cache),
greedy for 20 words (the paper's longest generation) on a batch of requests; the untrained model's
`<eos>` is masked so that every sentence runs all 20 steps. --shape synthetic (the default): a 20,000-word
vocabulary and the synthetic set's 5,000 users / 4,600 items; amazon-mi: Musical Instruments' 5,600
words (about: the shared tokenizer on split 1's training records), 1,389 users and 895 items.
--precision bf16 runs the loss and the decoding under the engine's autocast (engine/precision.py).

    .venv/bin/python benchmarks/mvae_bench.py --from-run RUN_DIR --threads 2 --precision bf16 --gen-batch 256
generates with a trained model instead: the model a finished `explainbench run` of mvae (or a variant)
saved in RUN_DIR/model, for the user, item and rating of every line of RUN_DIR/samples.jsonl (the run's
test requests), through the explainer's own explain() in batches of --gen-batch, as the runner does.
Sentences end at `<eos>`, so the rate depends on what the model writes (`gen_words_mean`); the
reproducible worst case is the default mode's 20 words.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import statistics
import time
from pathlib import Path

import torch

from explainbench.api.registry import get_explainer
from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch
from explainbench.engine.precision import autocast
from explainbench.engine.seed import resolve_device, seed_everything
from explainbench.engine.trainer import make_optimizer
from explainbench.models.mvae import MVAEConfig, MVAEModule
from explainbench.runner.config import apply_overrides, load_recipe

# per CPU-second of this process (all its threads): with --threads 1 on a shared machine, steadier than
# the wall-clock rates, which count the time other processes held the core
CPU_RATES: dict[str, list[float]] = {}
# vocabulary (words + 4 specials), users, items
SHAPES = {"synthetic": (20000, 5000, 4600), "amazon-mi": (5600, 1389, 895)}
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "mvae" / "default.yaml"


def random_batch(
    size: int, vocab: Vocab, max_words: int, gen: torch.Generator, n_users: int, n_items: int
) -> Batch:
    lengths = torch.randint(1, max_words + 1, (size,), generator=gen)
    text = torch.full((size, max_words + 2), vocab.pad_id, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        text[b, 0] = vocab.bos_id
        text[b, 1 : n + 1] = torch.randint(4, vocab.size, (n,), generator=gen)
        text[b, n + 1] = vocab.eos_id
    return Batch(
        user=torch.randint(0, n_users, (size,), generator=gen),
        item=torch.randint(0, n_items, (size,), generator=gen),
        rating=torch.randint(1, 6, (size,), generator=gen).float(),
        sentiment=torch.ones(size, dtype=torch.long),
        feature=torch.full((size,), vocab.unk_id),
        text=text[:, : int(lengths.max()) + 2],
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_training(
    module: MVAEModule, batches: list[Batch], repeats: int, precision: str = "fp32"
) -> list[float]:
    """examples/s per repeat (each repeat = len(batches) optimiser steps)."""
    cfg = module.config
    opt = make_optimizer(cfg, module.parameters())  # the Trainer's optimiser (AdamW)
    module.train()
    device = batches[0].user.device

    def step(i: int, batch: Batch) -> None:
        module.set_step(i)
        opt.zero_grad(set_to_none=True)
        with autocast(precision, device):
            loss = module.loss(batch).total
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm or 5.0)
        opt.step()

    step(0, batches[0])  # warm-up (allocations, optimiser state)
    rates, cpu_rates = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for i, batch in enumerate(batches):
            step(i, batch)
        _sync(batches[0].user.device)
        examples = sum(len(b) for b in batches)
        rates.append(examples / (time.perf_counter() - start))
        cpu_rates.append(examples / (time.process_time() - cpu_start))
    CPU_RATES["train"] = cpu_rates
    return rates


def bench_generation(
    module: MVAEModule, batch: Batch, max_len: int, repeats: int, precision: str = "fp32"
) -> tuple[list[float], int]:
    """sentences/s per repeat, and the generated length (max_len when <eos> is masked)."""
    vocab = module.vocab
    decode_step = module.decode_step
    device = batch.user.device

    def no_eos_step(state: object, previous: torch.Tensor) -> tuple[torch.Tensor, object]:
        logits, state = decode_step(state, previous)
        logits[:, vocab.eos_id] = float("-inf")
        return logits, state

    def decode() -> torch.Tensor:
        with autocast(precision, device):
            return greedy_decode(module, batch, max_len=max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id)

    module.decode_step = no_eos_step  # type: ignore[method-assign]
    decode()  # warm-up
    rates, cpu_rates, length = [], [], 0
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        tokens = decode()
        _sync(device)
        rates.append(len(batch) / (time.perf_counter() - start))
        cpu_rates.append(len(batch) / (time.process_time() - cpu_start))
        length = int(tokens.shape[1])
    CPU_RATES["gen"] = cpu_rates
    del module.decode_step
    return rates, length


def bench_trained(run_dir: Path, gen_batch: int, repeats: int, precision: str) -> dict:
    """sentences/s of a trained model's explain() over its run's test requests (see the module text)."""
    from explainbench.api.explainer import ExplainRequest

    meta = json.loads((run_dir / "model" / "config.json").read_text(encoding="utf-8"))
    explainer = get_explainer(meta["explainer"]).load(run_dir / "model", device="cpu")
    explainer.config = dataclasses.replace(explainer.config, precision=precision, eval_batch_size=gen_batch)
    requests = []
    with (run_dir / "samples.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            requests.append(
                ExplainRequest(user_id=row["user_id"], item_id=row["item_id"], rating=float(row["rating"]))
            )
    explainer.explain(requests[:gen_batch])  # warm-up
    rates, cpu_rates, words = [], [], []
    for _ in range(max(1, repeats)):
        start, cpu_start = time.perf_counter(), time.process_time()
        out = explainer.explain(requests)
        rates.append(len(requests) / (time.perf_counter() - start))
        cpu_rates.append(len(requests) / (time.process_time() - cpu_start))
        words.append(statistics.fmean(len(e.text.split()) for e in out))
    return {
        "model": meta["explainer"],
        "from_run": str(run_dir),
        "precision": precision,
        "requests": len(requests),
        "gen_batch": gen_batch,
        "gen_words_mean": words[-1],
        "distinct_sentences": len({e.text for e in out}),
        "gen_sentences_per_s_median": statistics.median(rates),
        "gen_sentences_per_s": rates,
        "gen_sentences_per_cpu_s_median": statistics.median(cpu_rates),
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": torch.__version__,
    }


def profile(module: MVAEModule, batch: Batch, requests: Batch, max_len: int, precision: str) -> None:
    """Two training steps (a fresh optimiser's first and a timed one) and two generations under
    torch.profiler, after one unprofiled round of each (allocations)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    bench_training(module, [batch], 0, precision)
    bench_generation(module, requests, max_len, 0, precision)
    for name, run in (
        ("training step", lambda: bench_training(module, [batch], 1, precision)),
        ("generation", lambda: bench_generation(module, requests, max_len, 1, precision)),
    ):
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            run()
        print(f"== {name}")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def report(result: dict, json_path: Path | None) -> None:
    """Print the result, and write it to --json's file when one was given."""
    print(json.dumps(result, indent=2))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


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
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--shape", choices=tuple(SHAPES), default="synthetic")
    ap.add_argument("--vocab", type=int, default=None, help="vocabulary size (overrides --shape)")
    ap.add_argument("--users", type=int, default=None, help="users (overrides --shape)")
    ap.add_argument("--items", type=int, default=None, help="items (overrides --shape)")
    ap.add_argument("--profile", action="store_true", help="profile one step and one generation")
    ap.add_argument("--only", choices=("train", "gen"), default=None, help="measure only one of the two")
    ap.add_argument("--from-run", type=Path, default=None, help="generate with this run's trained model")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.from_run is not None:
        for needed in (args.from_run / "model" / "config.json", args.from_run / "samples.jsonl"):
            if not needed.is_file():
                ap.error(f"--from-run {args.from_run}: {needed} is missing; pass the folder of a finished "
                         "`explainbench run` of mvae (it holds model/ and samples.jsonl)")
        report(bench_trained(args.from_run, args.gen_batch, args.repeats, args.precision), args.json)
        return
    seed_everything(1111)
    device = resolve_device(args.device)
    config_class = get_explainer(args.model).config_class
    if args.quick:
        config: MVAEConfig = config_class.tiny()
    else:
        config = apply_overrides(config_class, [("recipe", load_recipe(RECIPE).overrides(args.scale))])
    config = dataclasses.replace(config, batch_size=args.batch)
    shape_vocab, n_users, n_items = SHAPES[args.shape]
    vocab_size = args.vocab or (600 if args.quick else shape_vocab)
    n_users, n_items = args.users or n_users, args.items or n_items
    vocab = Vocab(size=vocab_size, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = MVAEModule(config, vocab, n_users, n_items).to(device)
    n_params = sum(p.numel() for p in module.parameters())
    gen = torch.Generator().manual_seed(0)
    batches = [
        random_batch(args.batch, vocab, config.max_words, gen, n_users, n_items).to(device)
        for _ in range(args.train_steps)
    ]
    request_batch = random_batch(args.gen_batch, vocab, config.max_words, gen, n_users, n_items).to(device)
    if args.profile:
        profile(module, batches[0], request_batch, config.gen_max_len, args.precision)
        return
    train_rates = gen_rates = [math.nan]
    CPU_RATES.update(train=[math.nan], gen=[math.nan])
    length = 0
    if args.only != "gen":
        train_rates = bench_training(module, batches, args.repeats, args.precision)
    if args.only != "train":
        gen_rates, length = bench_generation(
            module, request_batch, config.gen_max_len, args.repeats, args.precision
        )
    result = {
        "model": args.model,
        "scale": "tiny" if args.quick else args.scale,
        "precision": args.precision,
        "parameters": n_params,
        "d_model": config.d_model,
        "latent_dims": config.latent_dims,
        "vocab": vocab.size,
        "users": n_users,
        "items": n_items,
        "batch": args.batch,
        "train_steps_per_repeat": args.train_steps,
        "train_examples_per_s_median": statistics.median(train_rates),
        "train_examples_per_s": train_rates,
        "gen_batch": args.gen_batch,
        "gen_words": length,
        "gen_sentences_per_s_median": statistics.median(gen_rates),
        "gen_sentences_per_s": gen_rates,
        "train_examples_per_cpu_s_median": statistics.median(CPU_RATES["train"]),
        "gen_sentences_per_cpu_s_median": statistics.median(CPU_RATES["gen"]),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": torch.__version__,
    }
    report(result, args.json)


if __name__ == "__main__":
    main()
