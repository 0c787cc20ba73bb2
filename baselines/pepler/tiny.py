"""A tiny GPT-2 with random weights and a byte-level BPE trained on given text, saved with
save_pretrained: what PEPLER runs on where the pretrained `gpt2` cannot be had (no network: the tests,
and this project's leaderboard rows labelled `pretrained: tiny-local`). Such runs measure the pipeline
(prompts, two-stage training, decoding, scoring), not PEPLER: the model knows no English beyond the
training split it saw.

    python -m baselines.pepler.tiny --data synthetic --split 1 --out DIR   # then --set pretrained=DIR
    explainbench run --model pepler --data synthetic --set pretrained=tiny-local  # the same, built in the run

The BPE is trained on the split's training explanations only (no validation or test text), and the
weights are drawn with --seed: the same data, split and options give the same files, and their
digest goes into every run's identity (Pepler.identity_inputs)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from baselines.pepler.config import TINY_LOCAL_SIZES


def save_tiny_gpt2(
    folder: Path, texts: Iterable[str], *, vocab_size: int = 400, n_embd: int = 32, n_layer: int = 2,
    n_head: int = 2, n_positions: int = 64, seed: int = 0,
) -> Path:
    """Train the BPE on " " + text (GPT-2's leading-space words), build the model, save both into folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    end = "<|endoftext|>"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[end], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator((" " + " ".join(t.split()) for t in texts), trainer)
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe, bos_token=end, eos_token=end, unk_token=end)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(folder))
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(str(folder))
    return folder


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a prepared dataset (explainbench data list)")
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="the folder to write (then --set pretrained=OUT)")
    ap.add_argument("--vocab-size", type=int, default=TINY_LOCAL_SIZES["vocab_size"])
    ap.add_argument("--n-embd", type=int, default=TINY_LOCAL_SIZES["n_embd"])
    ap.add_argument("--n-layer", type=int, default=TINY_LOCAL_SIZES["n_layer"])
    ap.add_argument("--n-head", type=int, default=TINY_LOCAL_SIZES["n_head"])
    ap.add_argument("--n-positions", type=int, default=TINY_LOCAL_SIZES["n_positions"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from explainbench.data import load_split
    from explainbench.data.errors import DataError

    try:
        train = load_split(args.data, args.split)["train"]
    except DataError as exc:
        raise SystemExit(f"error: {exc}") from None
    folder = save_tiny_gpt2(args.out, train["explanation"], vocab_size=args.vocab_size, n_embd=args.n_embd,
                            n_layer=args.n_layer, n_head=args.n_head, n_positions=args.n_positions,
                            seed=args.seed)
    print(f"tiny GPT-2 (random weights, BPE of {args.data} split {args.split}'s training text) in {folder}; "
          f"run PEPLER on it with --set pretrained={folder}")


if __name__ == "__main__":
    main()
