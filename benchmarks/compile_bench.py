"""torch.compile against eager for one model's training step and greedy decoding, alternating in one process.

    .venv/bin/python benchmarks/compile_bench.py --model peter --shape amazon-mi --threads 2
    .venv/bin/python benchmarks/compile_bench.py --model mvae --shape amazon-mi --threads 2 --precision bf16
    .venv/bin/python benchmarks/compile_bench.py --model peter --quick          # tiny sizes, a smoke run
Options: --what train|decode|both  --padded (every batch padded to max_words + 2 columns: one shape)
         --train-steps N --rounds R --gen-batch G --precision fp32|bf16 --mode (a torch.compile mode)

PETER at its reference sizes (d 512, 2 layers, FFN 2048, SGD lr 1.0, clip 1.0) or MVAE at the paper's
(d 768, 2 + 2 layers, AdamW, clip 5), on Musical Instruments' shape (vocabulary 5,600, 1,389 users, 895
items) or the synthetic set's; random records of 1..15 words, each batch trimmed to its longest row as
the engine does (so the width varies: dynamic shapes) unless --padded. Training step = the Trainer's:
zero_grad, the loss under the engine's autocast, backward, clip, optimiser step; "compiled" wraps the
model's loss (forward and, through AOTAutograd, backward) in torch.compile (inductor). Decoding =
greedy_decode for gen_max_len words with `<eos>` masked; "compiled" wraps decode_step.

Reported: the compile time (first calls, including recompiles for new widths), then R rounds of
eager / compiled steady-state rates alternating, each with the 1-minute load average, and the median
compiled/eager ratio. Compile time is paid once per process: weigh it against a run's length.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch, ExplainerModule, StepLoss
from explainbench.engine.precision import autocast
from explainbench.engine.seed import seed_everything

SHAPES = {"synthetic": (20000, 5000, 4600), "amazon-mi": (5600, 1389, 895)}


def random_batch(
    size: int, vocab: Vocab, max_words: int, gen: torch.Generator, n_users: int, n_items: int, padded: bool
) -> Batch:
    lengths = torch.randint(1, max_words + 1, (size,), generator=gen)
    text = torch.full((size, max_words + 2), vocab.pad_id, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        text[b, 0] = vocab.bos_id
        text[b, 1 : n + 1] = torch.randint(4, vocab.size, (n,), generator=gen)
        text[b, n + 1] = vocab.eos_id
    width = max_words + 2 if padded else int(lengths.max()) + 2
    return Batch(
        user=torch.randint(0, n_users, (size,), generator=gen),
        item=torch.randint(0, n_items, (size,), generator=gen),
        rating=torch.randint(1, 6, (size,), generator=gen).float(),
        sentiment=torch.ones(size, dtype=torch.long),
        feature=torch.randint(4, vocab.size, (size,), generator=gen),
        text=text[:, :width],
    )


def build(model: str, quick: bool, vocab: Vocab, n_users: int, n_items: int) -> ExplainerModule:
    if model == "peter":
        from baselines.peter.config import PeterConfig
        from baselines.peter.model import PeterModule

        return PeterModule(PeterConfig.tiny() if quick else PeterConfig(), vocab, n_users, n_items, False)
    from explainbench.models.mvae import MVAEConfig, MVAEModule

    return MVAEModule(MVAEConfig.tiny() if quick else MVAEConfig(), vocab, n_users, n_items)


def make_optimizer(module: ExplainerModule) -> torch.optim.Optimizer:
    cfg = module.config  # type: ignore[attr-defined]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(module.parameters(), lr=cfg.lr)
    return torch.optim.AdamW(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def trainer_step(
    module: ExplainerModule, opt: torch.optim.Optimizer, loss: Callable[[Batch], StepLoss], precision: str
) -> Callable[[Batch], None]:
    clip = module.config.clip_norm or 1.0  # type: ignore[attr-defined]

    def step(batch: Batch) -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(precision, "cpu"):
            out = loss(batch)
        out.total.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()

    return step


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--model", choices=("peter", "mvae"), default="peter")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shape", choices=tuple(SHAPES), default="amazon-mi")
    ap.add_argument("--what", choices=("train", "decode", "both"), default="both")
    ap.add_argument("--padded", action="store_true", help="pad every batch to max_words + 2 columns")
    ap.add_argument("--train-steps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gen-batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--mode", default="default", help="torch.compile mode")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(1111)
    vocab_size, n_users, n_items = SHAPES[args.shape]
    if args.quick:
        vocab_size, n_users, n_items = 500, 100, 100
    vocab = Vocab(size=vocab_size, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
    module = build(args.model, args.quick, vocab, n_users, n_items)
    cfg = module.config  # type: ignore[attr-defined]
    gen = torch.Generator().manual_seed(0)
    batches = [
        random_batch(cfg.batch_size, vocab, cfg.max_words, gen, n_users, n_items, args.padded)
        for _ in range(args.train_steps)
    ]
    result: dict = {
        "model": args.model, "shape": args.shape, "precision": args.precision, "padded": args.padded,
        "mode": args.mode, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "widths": [int(b.text.shape[1]) for b in batches],
    }
    if args.what in ("train", "both"):
        module.train()
        opt = make_optimizer(module)
        eager = trainer_step(module, opt, module.loss, args.precision)
        compiled_loss = torch.compile(module.loss, mode=args.mode)
        compiled = trainer_step(module, opt, compiled_loss, args.precision)
        eager(batches[0])
        compile_s = sum(timed(lambda b=b: compiled(b)) for b in batches)  # first calls: compiles
        rounds = []
        for _ in range(args.rounds):
            row = {}
            for name, step in (("eager", eager), ("compiled", compiled)):
                load = os.getloadavg()[0]
                seconds = timed(lambda step=step: [step(b) for b in batches])
                row[name] = sum(len(b) for b in batches) / seconds
                row[f"{name}_load"] = load
            rounds.append(row)
            print(json.dumps({"train": row}), flush=True)
        result["train"] = {
            "compile_s": compile_s,
            "rounds": rounds,
            "ratio_median": statistics.median(r["compiled"] / r["eager"] for r in rounds),
        }
    if args.what in ("decode", "both"):
        module.eval()
        requests = random_batch(args.gen_batch, vocab, cfg.max_words, gen, n_users, n_items, False)
        eager_step = module.decode_step

        def no_eos(step: Callable) -> Callable:
            def decode_step(state: object, previous: torch.Tensor) -> tuple[torch.Tensor, object]:
                logits, state = step(state, previous)
                return logits.masked_fill(torch.arange(logits.shape[-1]) == vocab.eos_id, -1e9), state

            return decode_step

        steps = {"eager": no_eos(eager_step), "compiled": no_eos(torch.compile(eager_step, mode=args.mode))}

        def decode(name: str) -> torch.Tensor:
            module.decode_step = steps[name]  # type: ignore[method-assign]
            with torch.no_grad(), autocast(args.precision, "cpu"):
                return greedy_decode(
                    module, requests, max_len=cfg.gen_max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id
                )

        decode("eager")
        compile_s = timed(lambda: decode("compiled"))
        same = bool(torch.equal(decode("eager"), decode("compiled")))
        rounds = []
        for _ in range(args.rounds):
            row = {}
            for name in ("eager", "compiled"):
                load = os.getloadavg()[0]
                row[name] = len(requests) / timed(lambda name=name: decode(name))
                row[f"{name}_load"] = load
            rounds.append(row)
            print(json.dumps({"decode": row}), flush=True)
        result["decode"] = {
            "compile_s": compile_s,
            "same_tokens": same,
            "rounds": rounds,
            "ratio_median": statistics.median(r["compiled"] / r["eager"] for r in rounds),
        }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
