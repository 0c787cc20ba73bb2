"""METEOR as NLTK computes it (nltk.translate.meteor_score, WordNet 3.0, alpha 0.9, beta 3, gamma 0.5).

The MVAE paper used nlg-eval's Java METEOR 1.5, which is not available here; NLTK's METEOR is the
labelled substitute (signature `impl:nltk`). NLTK's own scoring function is called for every pair;
only the two look-ups it repeats are cached: the Porter stem of a word and the WordNet synonyms of a
word (the same set NLTK builds: lemma names without "_" of every synset of the word).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explainbench.metrics.wordnet import WordNetFiles

ALPHA, BETA, GAMMA = 0.9, 3.0, 0.5


def meteor_signature() -> str:
    return f"impl:nltk|wordnet:3.0|alpha:{ALPHA}|beta:{BETA}|gamma:{GAMMA}|avg:sentence|v:{version('nltk')}"


@dataclass(frozen=True)
class _Lemma:
    _name: str

    def name(self) -> str:
        return self._name


@dataclass(frozen=True)
class _SynonymSet:
    names: tuple[_Lemma, ...]

    def lemmas(self) -> tuple[_Lemma, ...]:
        return self.names


_MARKER = re.compile(r"(.*?)(\([^()]*\))?$")
_DATA_FILE = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "s": "data.adj", "r": "data.adv"}
_POS_LIST = ("n", "v", "a", "r")  # nltk.corpus.reader.wordnet.POS_LIST


class CachedWordNet:
    """Stands in for nltk's WordNetCorpusReader inside meteor_score: `synsets(word)` returns one
    pseudo-synset whose lemma names are exactly the names NLTK's synsets(word) would give.

    NLTK builds a full Synset (pointers, sense keys, satellite heads) for each offset; METEOR only
    reads lemma names, so the names are read from the data line (the same parse: hex lemma count,
    syntactic marker stripped) after morphy and the index look-up (wordnet.WordNetFiles, the same
    answers as NLTK's). Tested equal to NLTK.
    """

    def __init__(self, files: WordNetFiles) -> None:
        self.files = files
        self.cache: dict[str, list[_SynonymSet]] = {}
        self._names: dict[tuple[str, int], tuple[str, ...]] = {}

    def _lemma_names(self, pos: str, offset: int) -> tuple[str, ...]:
        key = (_DATA_FILE[pos], offset)
        out = self._names.get(key)
        if out is None:
            fields = self.files.data_line(key[0], offset).decode("utf-8").split("|")[0].split()
            count = int(fields[3], 16)
            out = tuple(_MARKER.match(name).group(1) for name in fields[4 : 4 + 2 * count : 2])
            self._names[key] = out
        return out

    def synsets(self, word: str) -> list[_SynonymSet]:
        out = self.cache.get(word)
        if out is None:
            lemma = word.lower()
            names: set[str] = set()
            for pos in _POS_LIST:
                for form in self.files.morphy(lemma, pos):
                    for offset in self.files.offsets(form, pos):
                        names.update(n for n in self._lemma_names(pos, offset) if n.find("_") < 0)
            out = self.cache[word] = [_SynonymSet(tuple(_Lemma(n) for n in sorted(names)))]
        return out

    def __getstate__(self) -> dict:
        raise TypeError("CachedWordNet is shared with forked workers, not pickled")


class CachedStemmer:
    """nltk's PorterStemmer (default mode) with a word cache."""

    def __init__(self) -> None:
        from nltk.stem.porter import PorterStemmer

        self._stemmer = PorterStemmer()
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        out = self._cache.get(word)
        if out is None:
            out = self._cache[word] = self._stemmer.stem(word)
        return out


def _match_enums(
    hyp: list[tuple[int, str]], ref: list[tuple[int, str]]
) -> tuple[list[tuple[int, int]], list[tuple[int, str]], list[tuple[int, str]]]:
    """nltk meteor_score._match_enums: from the last hypothesis word back, match the latest unused
    reference position holding the same word."""
    positions: dict[str, list[int]] = {}
    for j, (_, word) in enumerate(ref):
        positions.setdefault(word, []).append(j)
    matched: list[tuple[int, int]] = []
    used_h: set[int] = set()
    used_r: set[int] = set()
    for i in range(len(hyp) - 1, -1, -1):
        pos = positions.get(hyp[i][1])
        if pos:
            j = pos.pop()
            used_h.add(i)
            used_r.add(j)
            matched.append((hyp[i][0], ref[j][0]))
    if not matched:
        return matched, hyp, ref
    return (
        matched,
        [p for i, p in enumerate(hyp) if i not in used_h],
        [p for j, p in enumerate(ref) if j not in used_r],
    )


def _count_chunks(matches: list[tuple[int, int]]) -> int:
    """nltk meteor_score._count_chunks: runs adjacent in both hypothesis and reference."""
    chunks = 1
    for k in range(len(matches) - 1):
        if not (matches[k + 1][0] == matches[k][0] + 1 and matches[k + 1][1] == matches[k][1] + 1):
            chunks += 1
    return chunks


class MeteorScorer:
    """Sentence METEOR of token lists; `unavailable` holds the one-line fix when WordNet is missing.

    mode "fast" (default) runs NLTK 3.10's single_meteor_score algorithm written out here with cached
    stems and synonym sets (exact match, then Porter-stem match, then WordNet-synonym match, each from
    the last hypothesis word back to the latest unused reference position; F-mean with alpha, the
    fragmentation penalty gamma * (chunks / matches)^beta); tested equal to NLTK on every golden case
    and on thousands of random pairs. mode "nltk" calls nltk.translate.meteor_score itself.
    """

    def __init__(self, mode: str = "fast") -> None:
        if mode not in ("fast", "nltk"):
            raise ValueError(f"unknown METEOR mode {mode!r}; use 'fast' or 'nltk'")
        from explainbench.metrics import wordnet

        self.mode = mode
        self.unavailable: str | None = wordnet.wordnet_available()
        self._wordnet: CachedWordNet | None = None
        self._stemmer: CachedStemmer | None = None
        self._synonyms: dict[str, frozenset[str]] = {}
        if self.unavailable is None:
            self._wordnet = CachedWordNet(wordnet.load_wordnet())
            self._stemmer = CachedStemmer()

    def synonyms(self, word: str) -> frozenset[str]:
        """The word and its WordNet synonyms, as meteor_score's synonym stage builds them."""
        out = self._synonyms.get(word)
        if out is None:
            assert self._wordnet is not None
            names = {lemma.name() for synset in self._wordnet.synsets(word) for lemma in synset.lemmas()}
            out = self._synonyms[word] = frozenset(names | {word})
        return out

    def score(self, ref: Sequence[str], hyp: Sequence[str]) -> float:
        """METEOR on [0, 1]; 0 where nothing matches or a side is empty (NLTK's rule)."""
        if self._wordnet is None or self._stemmer is None:
            raise RuntimeError(self.unavailable or "METEOR unavailable")
        if self.mode == "nltk":
            from nltk.translate.meteor_score import single_meteor_score

            return single_meteor_score(
                list(ref),
                list(hyp),
                preprocess=str.lower,
                stemmer=self._stemmer,
                wordnet=self._wordnet,
                alpha=ALPHA,
                beta=BETA,
                gamma=GAMMA,
            )
        enum_h = list(enumerate(w.lower() for w in hyp))
        enum_r = list(enumerate(w.lower() for w in ref))
        n_hyp, n_ref = len(enum_h), len(enum_r)
        if n_hyp == 0 or n_ref == 0:
            return 0.0
        if n_hyp == n_ref and all(h[1] == r[1] for h, r in zip(enum_h, enum_r, strict=True)):
            # identical texts: the exact stage aligns every word with itself, one chunk
            fmean = (1.0 * 1.0) / (ALPHA * 1.0 + (1 - ALPHA) * 1.0)  # NLTK's arithmetic, to the last bit
            return (1 - GAMMA * (1.0 / n_hyp) ** BETA) * fmean
        exact, enum_h, enum_r = _match_enums(enum_h, enum_r)
        stemmed: list[tuple[int, int]] = []
        synonym: list[tuple[int, int]] = []
        if enum_h and enum_r:  # words left on both sides: stem stage, then synonym stage (on the stems)
            cached, stem = self._stemmer._cache.get, self._stemmer.stem
            stemmed, enum_h, enum_r = _match_enums(
                [(i, cached(w) or stem(w)) for i, w in enum_h], [(j, cached(w) or stem(w)) for j, w in enum_r]
            )
            synonym = self._synonym_matches(enum_h, enum_r)
        matches = sorted(exact + stemmed + synonym, key=lambda pair: pair[0])
        m = len(matches)
        if m == 0:
            return 0.0
        precision = m / n_hyp
        recall = m / n_ref
        fmean = (precision * recall) / (ALPHA * precision + (1 - ALPHA) * recall)
        penalty = GAMMA * (_count_chunks(matches) / m) ** BETA
        return (1 - penalty) * fmean

    def _synonym_matches(
        self, hyp: list[tuple[int, str]], ref: list[tuple[int, str]]
    ) -> list[tuple[int, int]]:
        """nltk meteor_score._enum_wordnetsyn_match: the latest unused reference position whose word is
        a synonym of (or equal to) the hypothesis word, from the last hypothesis word back."""
        if not hyp or not ref:
            return []
        positions: dict[str, list[int]] = {}
        for j, (_, word) in enumerate(ref):
            positions.setdefault(word, []).append(j)
        matched: list[tuple[int, int]] = []
        for i in range(len(hyp) - 1, -1, -1):
            syns = self.synonyms(hyp[i][1])
            best_j, best_word = -1, None
            for word, pos in positions.items():
                if pos and pos[-1] > best_j and word in syns:
                    best_j, best_word = pos[-1], word
            if best_word is not None:
                positions[best_word].pop()
                matched.append((hyp[i][0], ref[best_j][0]))
        return matched
