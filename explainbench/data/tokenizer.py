"""The one word-level tokenizer every model shares (Hugging Face `tokenizers`, WordLevel model).

Reference behaviour (PETER / NRT / Att2Seq / NETE, see REFERENCE-NOTES section 2): specials
`<bos> <eos> <pad> <unk>`, the most frequent words (20,000 by default) plus the feature words,
explanations truncated to 15 words, test references vocabulary-mapped (OOV -> `<unk>`).

Words: the text is lower-cased, split on white space, and punctuation is split off each word
(a word keeps inner apostrophes and hyphens, so PETER's pre-tokenized "is n't" and "sm-57" stay as
they are while "great!" becomes "great !").
"""

from __future__ import annotations

import json
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

from explainbench.api.results import atomic_write_text
from explainbench.data.errors import DataError
from explainbench.data.vocab import Vocab

SPECIALS: tuple[str, ...] = ("<bos>", "<eos>", "<pad>", "<unk>")  # ids 0..3, PETER's order
WORD_PATTERN = r"[^\W_]+(?:['’\-][^\W_]+)*|\S"
FORMAT = "explainbench-tokenizer/1"


_WORD_RE = re.compile(WORD_PATTERN)


def words_of(text: str) -> list[str]:
    """Python twin of the stored `tokenizers` pipeline (Lowercase, WhitespaceSplit, Split(WORD_PATTERN)).

    The Rust pre-tokenizer gives the same words (tests/test_data_tokenizer.py checks it on every
    sentence of two datasets) but costs about 5x more per sentence from Python, so encode uses this.
    """
    return _WORD_RE.findall(text.lower())


def _pipeline(tok: Tokenizer) -> Tokenizer:
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="isolated")]
    )
    return tok


class WordTable:
    """Words of each text of a column, so that word counts over any subset of records cost a bincount
    instead of re-tokenising (five splits of 1.3M records share one pass).

    The column is read BLOCK records at a time; within a block each distinct text is tokenised once.
    Memory is 4 bytes per word of those texts (int32 word ids, one array) and 16 per text: no copy of
    the column's strings is held (Yelp's 7 million reviews have nearly as many distinct texts)."""

    BLOCK = 200_000  # records at a time (their distinct texts become Python strings together)

    def __init__(self, texts: pa.ChunkedArray | pa.Array) -> None:
        if isinstance(texts, pa.Array):
            texts = pa.chunked_array([texts], type=texts.type)
        word_ids: dict[str, int] = {}
        setdefault = word_ids.setdefault
        text_of_record: list[np.ndarray] = []
        word_of_pair = array("i")  # the word ids of text 0, then of text 1, ...
        lengths = array("q")
        n_texts = 0
        for start in range(0, len(texts), self.BLOCK):
            enc = pc.dictionary_encode(texts.slice(start, self.BLOCK).combine_chunks())
            text_of_record.append(enc.indices.to_numpy(zero_copy_only=False).astype(np.int64) + n_texts)
            for text in enc.dictionary.to_pylist():
                ws = words_of(text)
                lengths.append(len(ws))
                word_of_pair.extend([setdefault(w, len(word_ids)) for w in ws])
            n_texts += len(enc.dictionary)
        self.text_of_record = np.concatenate(text_of_record) if text_of_record else np.zeros(0, np.int64)
        self.words = list(word_ids)
        self.n_texts = n_texts
        self.word_of_pair = np.frombuffer(word_of_pair, dtype=np.intc)
        self.lengths = np.frombuffer(lengths, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)])  # text k's words: starts[k]:starts[k+1]

    def counts(self, records: np.ndarray | None = None) -> dict[str, int]:
        """word -> occurrences over the given record positions (all records when None)."""
        rec = self.text_of_record if records is None else self.text_of_record[records]
        per_text = np.bincount(rec, minlength=self.n_texts)
        per_word = np.zeros(len(self.words), dtype=np.int64)
        for a in range(0, self.n_texts, self.BLOCK):
            b = min(a + self.BLOCK, self.n_texts)
            weights = np.repeat(per_text[a:b], self.lengths[a:b]).astype(np.float64)
            block = self.word_of_pair[self.starts[a] : self.starts[b]]
            per_word += np.bincount(block, weights=weights, minlength=len(self.words)).astype(np.int64)
        return {w: int(c) for w, c in zip(self.words, per_word.tolist(), strict=True) if c > 0}


class ExplanationTokenizer:
    """Word-level vocabulary over explanations; `encode` never adds specials, `decode` stops at `<eos>`."""

    def __init__(self, tokenizer: Tokenizer, max_words: int = 15, vocab_source: str = "train") -> None:
        self._tok = tokenizer
        self.max_words = int(max_words)
        self.vocab_source = vocab_source
        vocab = tokenizer.get_vocab()
        missing = [s for s in SPECIALS if s not in vocab]
        if missing:
            raise DataError(
                f"tokenizer lacks the special tokens {missing}; build it with ExplanationTokenizer.build"
            )
        self.bos_id, self.eos_id, self.pad_id, self.unk_id = (vocab[s] for s in SPECIALS)
        self._token_to_id = dict(vocab)
        self._id_to_token = {i: w for w, i in vocab.items()}

    # ----------------------------------------------------------------------------------------- build
    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        vocab_size: int = 20000,
        max_words: int = 15,
        extra_words: Iterable[str] = (),
        vocab_source: str = "train",
    ) -> ExplanationTokenizer:
        """The vocab_size most frequent words of texts (ties broken alphabetically), then extra_words."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(words_of(t))
        return cls.from_counts(counts, vocab_size, max_words, extra_words, vocab_source)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        vocab_size: int = 20000,
        max_words: int = 15,
        extra_words: Iterable[str] = (),
        vocab_source: str = "train",
    ) -> ExplanationTokenizer:
        """Ids: the four specials (0..3), then the vocab_size most frequent words (count falling, then
        alphabetical, as the `tokenizers` WordLevelTrainer orders them), then the extra words (feature
        words, which PETER adds too) that the cut left out, in sorted order."""
        kept = ((w, c) for w, c in counts.items() if c > 0 and w not in SPECIALS)
        ranked = sorted(kept, key=lambda wc: (-wc[1], wc[0]))
        vocab = {s: i for i, s in enumerate(SPECIALS)}
        for w, _ in ranked[: int(vocab_size)]:
            vocab[w] = len(vocab)
        extras: set[str] = set()
        for w in extra_words:
            extras.update(words_of(w))
        for w in sorted(extras - set(vocab)):
            vocab[w] = len(vocab)
        tok = _pipeline(Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>")))
        return cls(tok, max_words=max_words, vocab_source=vocab_source)

    # ------------------------------------------------------------------------------------------ use
    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.vocab_size, self.pad_id, self.bos_id, self.eos_id, self.unk_id)

    def words(self, text: str) -> list[str]:
        """Lower-cased words of text with punctuation split off (no truncation, no vocabulary)."""
        return words_of(text)

    def encode(self, text: str) -> list[int]:
        """Ids of the first max_words words (no specials; out-of-vocabulary words -> `<unk>`)."""
        get, unk = self._token_to_id.get, self.unk_id
        return [get(w, unk) for w in words_of(text)[: self.max_words]]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """encode() for many texts."""
        return [self.encode(t) for t in texts]

    def decode(self, ids: Iterable[int]) -> str:
        """Space-joined tokens up to the first `<eos>`; `<bos>` and `<pad>` are dropped."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i in (self.bos_id, self.pad_id):
                continue
            out.append(self._id_to_token.get(i, "<unk>"))
        return " ".join(out)

    def reference(self, text: str) -> str:
        """The test reference as the references score it: truncated, vocabulary-mapped (decode(encode))."""
        return self.decode(self.encode(text))

    def token_to_id(self, word: str) -> int:
        """Id of a word (lower-cased); `<unk>`'s id when the word is not in the vocabulary."""
        return self._token_to_id.get(word if word in SPECIALS else word.lower(), self.unk_id)

    def id_to_token(self, i: int) -> str:
        return self._id_to_token.get(int(i), "<unk>")

    # ------------------------------------------------------------------------------------ save/load
    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "max_words": self.max_words,
                "vocab_source": self.vocab_source,
                "tokenizer": json.loads(self._tok.to_str()),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ExplanationTokenizer:
        """The tokenizer of a to_json() string (DataError if it is not one)."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"not an explainbench tokenizer (format {FORMAT!r} expected)")
        tok = Tokenizer.from_str(json.dumps(data["tokenizer"]))
        return cls(tok, max_words=int(data["max_words"]), vocab_source=str(data.get("vocab_source", "train")))

    def save(self, path: Path) -> None:
        """Write one JSON file (atomic): our settings plus the `tokenizers` JSON."""
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> ExplanationTokenizer:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{path}: tokenizer file not found; prepare the dataset again") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a tokenizer file ({exc}); prepare the dataset again") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"{path}: not an explainbench tokenizer (format {FORMAT!r} expected)")
        tok = Tokenizer.from_str(json.dumps(data["tokenizer"]))
        return cls(tok, max_words=int(data["max_words"]), vocab_source=str(data.get("vocab_source", "train")))
