"""GPT-2 for PEPLER: finding the pretrained model, and a tokenizer that speaks GPT-2 to the model and the
dataset's words to the metrics.

`pretrained` is a Hub id (`gpt2`, downloaded into the Hugging Face cache with its progress bars when a
network is there) or a local folder written by `save_pretrained` (model and tokenizer). `locate` finds
the files before any work starts and answers a machine without them in one line.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from baselines.pepler.prompts import PromptTable
from explainbench.api.explainer import NotReadyError
from explainbench.api.hub import hub_offline
from explainbench.api.results import atomic_write_text
from explainbench.data.tokenizer import ExplanationTokenizer
from explainbench.data.vocab import Vocab

BOS, EOS, PAD = "<bos>", "<eos>", "<pad>"  # the three tokens the reference adds to GPT-2's vocabulary
_FORMAT = "explainbench-pepler-tokenizer/1"
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_FILES = ["config.json", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
          "special_tokens_map.json", "generation_config.json", *_WEIGHTS]


def folder_digest(folder: Path) -> str:
    """sha256 over the model and tokenizer files of a pretrained folder (name and content of each of
    _FILES present, in order): what a run's identity records for `pretrained` (the Hub id or the folder
    path alone would not tell two sets of weights apart)."""
    folder = folder.resolve()
    stamp = tuple((f, (folder / f).stat().st_size, (folder / f).stat().st_mtime_ns)
                  for f in _FILES if (folder / f).is_file())
    return _digest(folder, stamp)


@functools.lru_cache(maxsize=8)
def _digest(folder: Path, stamp: tuple) -> str:  # stamp (names, sizes, times) keys the cache
    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update(name.encode() + b"\0")
        with open(folder / name, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def locate(pretrained: str) -> Path:
    """The local folder of `pretrained` (a folder, or the Hub snapshot in the cache, downloaded when a
    network is there); NotReadyError with what to do when its model or tokenizer is not to be had."""
    fix = (
        "fetch it on a machine with a network (`huggingface-cli download gpt2`, or in Python "
        "GPT2LMHeadModel.from_pretrained('gpt2').save_pretrained(DIR) and the same for GPT2TokenizerFast) "
        "and pass --set pretrained=DIR"
    )
    path = Path(pretrained).expanduser()
    if path.is_dir():
        folder = path
    elif pretrained.startswith((".", "/", "~")):  # a path, not a Hub id
        raise NotReadyError(f"pretrained={pretrained}: no such folder; {fix}")
    else:
        from huggingface_hub import snapshot_download

        try:
            offline = hub_offline()
            folder = Path(snapshot_download(pretrained, allow_patterns=_FILES, local_files_only=offline))
        except Exception as exc:  # noqa: BLE001 - offline, unknown repo, no network: one line for all
            why = "the Hub is offline (HF_HUB_OFFLINE=1)" if offline else f"{type(exc).__name__}"
            raise NotReadyError(
                f"pretrained={pretrained}: GPT-2's weights are not on this machine and cannot be fetched "
                f"({why}); {fix}"
            ) from None
    if not (folder / "config.json").is_file() or not any((folder / w).is_file() for w in _WEIGHTS):
        raise NotReadyError(f"pretrained={pretrained}: {folder} holds no GPT-2 model (config.json and "
                            f"model.safetensors); {fix}")
    if not (folder / "tokenizer.json").is_file() and not (folder / "vocab.json").is_file():
        raise NotReadyError(f"pretrained={pretrained}: {folder} holds no GPT-2 tokenizer (tokenizer.json, or "
                            f"vocab.json and merges.txt); {fix}")
    return folder


def gpt2_tokenizer(folder: Path) -> Any:
    """GPT2TokenizerFast of folder with `<bos>`, `<eos>` and `<pad>` added (as the reference's)."""
    from transformers import GPT2TokenizerFast

    return GPT2TokenizerFast.from_pretrained(str(folder), bos_token=BOS, eos_token=EOS, pad_token=PAD)


class GPT2Words:
    """The explainer's tokenizer: GPT-2's byte-level BPE for the text the model reads and writes, and the
    dataset's word tokenizer for everything scored.

    - encode / encode_batch: GPT-2 ids of " " + text (every word with its leading-space form, as in the
      reference's "<bos> text <eos>"), without specials; the engine adds `<bos>`, `<eos>`, `<pad>` and
      keeps the first max_words GPT-2 tokens.
    - decode(ids): GPT-2's text up to `<eos>`, mapped to the dataset's words (`reference()`: lower-cased,
      punctuation split off, truncated to the dataset's max_words, out-of-vocabulary words as `<unk>`), so
      a PEPLER sentence is scored in the same word tokenisation as every other model's.
    - token_to_id / id_to_token / words / unk_id: the dataset tokenizer's (feature words are dataset ids).
    """

    def __init__(self, gpt2: Any, words: ExplanationTokenizer, model_config: dict[str, Any]) -> None:
        self.gpt2 = gpt2
        self.words_tokenizer = words
        self.model_config = model_config
        self.bos_id = int(gpt2.convert_tokens_to_ids(BOS))
        self.eos_id = int(gpt2.convert_tokens_to_ids(EOS))
        self.pad_id = int(gpt2.convert_tokens_to_ids(PAD))
        self.unk_id = words.unk_id
        self.prompts: PromptTable | None = None  # pepler-d's discrete prompts, saved with the tokenizer

    @property
    def vocab(self) -> Vocab:
        return Vocab(len(self.gpt2), self.pad_id, self.bos_id, self.eos_id, self.unk_id)

    def encode(self, text: str) -> list[int]:
        return list(self.gpt2(" " + " ".join(text.split()), add_special_tokens=False)["input_ids"])

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        joined = [" " + " ".join(t.split()) for t in texts]
        return [list(ids) for ids in self.gpt2(joined, add_special_tokens=False)["input_ids"]]

    def text_of(self, ids: list[int]) -> str:
        """GPT-2's text of ids up to the first `<eos>` (specials dropped)."""
        out = []
        for i in ids:
            if int(i) == self.eos_id:
                break
            out.append(int(i))
        return self.gpt2.decode(out, skip_special_tokens=True)

    def decode(self, ids: list[int]) -> str:
        return self.words_tokenizer.reference(self.text_of(ids))

    def token_to_id(self, word: str) -> int:
        return self.words_tokenizer.token_to_id(word)

    def id_to_token(self, i: int) -> str:
        return self.words_tokenizer.id_to_token(i)

    def words(self, text: str) -> list[str]:
        return self.words_tokenizer.words(text)

    # -- save/load: one JSON file (GPT-2's tokenizer, the added tokens, the dataset tokenizer, the model
    #    config), so a saved PEPLER needs neither the Hub nor the pretrained folder again
    def save(self, path: Path) -> None:
        payload = {
            "format": _FORMAT,
            "gpt2": json.loads(self.gpt2.backend_tokenizer.to_str()),
            "words": json.loads(self.words_tokenizer.to_json()),
            "model_config": self.model_config,
            "prompts": None if self.prompts is None else self.prompts.to_dict(),
        }
        atomic_write_text(Path(path), json.dumps(payload, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> GPT2Words:
        from tokenizers import Tokenizer
        from transformers import GPT2TokenizerFast

        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        if payload.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a PEPLER tokenizer file ({_FORMAT} expected)")
        backend = Tokenizer.from_str(json.dumps(payload["gpt2"]))
        gpt2 = GPT2TokenizerFast(tokenizer_object=backend, bos_token=BOS, eos_token=EOS, pad_token=PAD)
        words = ExplanationTokenizer.from_json(json.dumps(payload["words"]))
        out = cls(gpt2, words, dict(payload["model_config"]))
        if payload.get("prompts") is not None:
            out.prompts = PromptTable.from_dict(payload["prompts"])
        return out
