"""A tiny GPT-2 with random weights and a byte-level BPE trained on given text, saved with
save_pretrained: what PEPLER's tests load instead of the pretrained `gpt2` (no network in tests)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


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
