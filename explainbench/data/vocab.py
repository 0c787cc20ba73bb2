"""What a model needs to know about the shared tokenizer: its size and the ids of the four specials.

It lives in the data layer beside the tokenizer that makes it (`ExplanationTokenizer.vocab`); the
engine and the models import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Vocab:
    """What a model needs to know about the shared tokenizer."""

    size: int
    pad_id: int
    bos_id: int
    eos_id: int
    unk_id: int
