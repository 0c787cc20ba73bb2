"""A light feature-opinion extractor: reduces a review to one explanation sentence.

The published datasets were labelled with the Sentires phrase-extraction tool (Java, days of CPU).
This extractor is a documented stand-in (see docs/data.md, "The extractor"):

1. Text is lower-cased, sentences are cut at . ! ? and line breaks, words are tokenised PETER-style
   ("isn't" -> "is n't", punctuation split off).
2. Opinion words: the VADER lexicon shipped with `vaderSentiment` (|valence| >= 0.5), minus frequent
   entries that are not descriptive (verbs, nouns and adverbs such as "like", "play", "problem",
   "-ly" adverbs), plus a short list of review adjectives VADER lacks ("sturdy", "flimsy", "overpriced").
3. Feature candidates: content words (not stop words, not opinion words, alphabetic, 3+ letters) found
   in two patterns: "[the] FEATURE is|was|sounds|feels... [very|so|...] OPINION" and
   "OPINION [word] FEATURE" (the feature is the head noun: the last word of the pair). A first pass over
   the whole corpus keeps the candidates seen in at least `min_count` reviews (at most `max_features`).
4. Per review, every sentence of 4..`max_words` tokens is scored: copula pattern 3, modifier pattern 2,
   a known feature within 3 words of an opinion word 1. The best wins (then: the more frequent
   feature, then the earlier sentence).
5. Sentiment: the sign of the opinion word's valence, flipped when "not", "n't", "never", "no",
   "hardly", "barely" or "without" stands up to 3 words before it.

What it misses: no part-of-speech tagger, so features are whatever noun-like word sits in the pattern
(occasionally a verb or adverb); one feature per review; comparisons, sarcasm and opinions spread over
several sentences; multi-word features ("sound quality" becomes "quality").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MIN_VALENCE = 0.5
WINDOW = 3

NEGATORS = frozenset(
    {"not", "n't", "never", "no", "hardly", "barely", "without", "nothing", "neither", "nor"}
)
COPULAS = frozenset(
    "is was are were be been 's seems seemed sounds sounded feels felt looks looked works worked "
    "stays stayed "
    "holds held remains remained".split()
)
INTENSIFIERS = frozenset(
    "very so really quite pretty super extremely too incredibly fairly rather just also still "
    "totally absolutely "
    "amazingly exceptionally reasonably surprisingly truly overall".split()
)
STOP_WORDS = frozenset(
    """a an the this that these those my your his her its our their i me we you he she it they them us him
    and or but if then than because so as of at by for with about against between into through during before
    after above below to from up down in out on off over under again further once here there
    when where why how
    all any both each few more most other some such only own same too very can will just should now also even
    ever still yet much many well back really again already almost always never often maybe perhaps quite
    is was are were be been being have has had having do does did doing would could might must shall may
    get got gets getting use used uses using buy bought make made makes making need needs needed try tried
    think thought know knew say said says go goes going went come came take took give gave put see saw
    want wanted find found keep kept let lets seem seems look looks sound sounds feel feels work works
    thing things lot lots bit way one ones time times something anything everything nothing someone anyone
    stuff kind sort reason review reviews star stars amazon product products item items purchase money
    who what which whom whose while until since although though however therefore instead either neither
    yes not n't don't doesn't didn't can't won't isn't wasn't aren't i'm i've i'd you're it's that's
    first second last next new old little big lot able sure year years day days month months week weeks
    guy guys people person everyone nobody else etc also im ive dont cant wont didnt doesnt isnt
    like enough far around without looking playing working done install using getting trying sounding
    itself himself herself themselves myself yourself
    looked seemed works worked bought ordered received arrived came says said lot lots plenty whole""".split()
)
# VADER entries that are mostly not descriptive opinions in reviews (verbs, nouns, function words).
NON_OPINIONS = frozenset(
    """like likes liked no yes well play plays played playing recommend recommended sure fit fits problem
    problems gain won delay kind value hand boost screws help helps helped cut wish drop true free tension
    save friend friends thanks thank care support damage lost ability hope hoping stop lose enjoy enjoyed
    fan trouble ease pressure giving chance solution attack protect trust shock champ dirt complain
    complaint complaints improvement improve improved please doubt worry want wants wanted ok okay lol god
    share shared agree matter matters pay paid win winning interest interested party join joined yeah
    certain alone low lower high higher huge large small big dead original special""".split()
)
LY_ADJECTIVES = frozenset("friendly lovely ugly silly lonely costly curly wobbly flimsy".split())
EXTRA_OPINIONS: dict[str, float] = {
    # review adjectives VADER lacks (valence on VADER's -4..4 scale)
    "sturdy": 1.8,
    "solid": 1.5,
    "durable": 1.8,
    "reliable": 1.8,
    "affordable": 1.5,
    "inexpensive": 1.2,
    "decent": 1.2,
    "tasty": 2.0,
    "spacious": 1.8,
    "crisp": 1.5,
    "smooth": 1.5,
    "fast": 1.0,
    "quick": 1.0,
    "quiet": 1.0,
    "accurate": 1.5,
    "versatile": 1.8,
    "compact": 1.0,
    "handy": 1.5,
    "responsive": 1.5,
    "warm": 1.0,
    "fine": 1.0,
    "simple": 0.8,
    "roomy": 1.5,
    "comfy": 2.0,
    "fair": 1.0,
    "balanced": 1.2,
    "punchy": 1.2,
    "flimsy": -1.8,
    "overpriced": -1.8,
    "expensive": -1.0,
    "cheap": -1.0,
    "slow": -1.2,
    "noisy": -1.5,
    "loud": -0.8,
    "bland": -1.5,
    "stale": -1.5,
    "thin": -0.8,
    "muddy": -1.5,
    "tinny": -1.5,
    "harsh": -1.5,
    "buzzy": -1.2,
    "cramped": -1.8,
    "greasy": -1.5,
    "flat": -0.8,
    "dated": -1.2,
    "faulty": -2.0,
    "mediocre": -1.5,
}

# Each pattern starts with a character `re` can search for quickly (a leading look-behind or letter class
# makes it try every position of the text); what comes before is checked after it.
_FIX_SPACE = re.compile(r"[.!?](?<=[a-z][.!?])(?=[A-Z])")  # "fine.The" -> "fine. The"
_NT = re.compile(r"n't\b")  # "isn't" -> "is n't": see _split_nt


def _split_nt(match: re.Match) -> str:
    """A space before "n't" where it ends a word of letters a-z, as re.sub(r"\\b([a-z]+)n't\\b",
    r"\\1 n't") would insert it (the letters must start at a word boundary)."""
    text, end = match.string, match.start()
    start = end
    while start > 0 and "a" <= text[start - 1] <= "z":
        start -= 1
    at_boundary = start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")
    return " n't" if start < end and at_boundary else "n't"


# Tokens (a word with inner ' or -, "n't", one other non-space character) and the ends of sentences: a
# mark followed by white space (one token of two characters), or a line break (other white space only
# separates tokens)
_WORDS = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*|n't|[.!?]\s|\n|[^\sa-z0-9]")


@lru_cache(maxsize=1)
def opinion_lexicon() -> dict[str, float]:
    """word -> valence: the filtered VADER lexicon plus EXTRA_OPINIONS."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lex: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].isalpha():
            continue
        word, valence = parts[0], float(parts[1])
        if abs(valence) < MIN_VALENCE or word in NON_OPINIONS or word in STOP_WORDS:
            continue
        if word.endswith("ly") and word not in LY_ADJECTIVES:
            continue
        lex[word] = valence
    lex.update(EXTRA_OPINIONS)
    return lex


def sentences(text: str) -> list[list[str]]:
    """Review text -> tokenised, lower-cased sentences (PETER style: "is n't", punctuation split off).

    Sentences end at white space after `.`, `!` or `?` (which stays with its sentence), at line
    breaks, and where a full stop lacks its space ("fine.The"). One pass of _WORDS over the whole
    text: its end-of-sentence tokens (the mark with the white space after it, or a line break) close
    a sentence."""
    text = _FIX_SPACE.sub(r"\g<0> ", text.replace("’", "'")).lower()
    if "n't" in text:
        text = _NT.sub(_split_nt, text)
    out: list[list[str]] = []
    toks: list[str] = []
    for tok in _WORDS.findall(text):
        if len(tok) == 2 and tok[0] in ".!?":  # ". " etc. (no other token starts so): the sentence ends
            toks.append(tok[0])
            out.append(toks)
            toks = []
        elif tok == "\n":
            if toks:
                out.append(toks)
                toks = []
        else:
            toks.append(tok)
    if toks:
        out.append(toks)
    return out


def _is_candidate(word: str, lex: dict[str, float]) -> bool:
    return len(word) >= 3 and word.isalpha() and word not in STOP_WORDS and word not in lex


# A scan of one review (OpinionExtractor.scan): the feature candidates its patterns found, and the
# candidate sentences as (sentence, pattern pairs (feature position, opinion position, score), opinion
# positions). Plain tuples of str and int, so that they cross process boundaries and spill to disk.
Candidates = tuple[tuple[str, tuple[tuple[int, int, int], ...], tuple[int, ...]], ...]
Scan = tuple[tuple[str, ...], Candidates]


@dataclass(frozen=True)
class Extraction:
    feature: str
    adjective: str
    sentence: str
    sentiment: int  # +1 / -1
    score: int


class OpinionExtractor:
    """Two passes: `observe` every review (learns the feature vocabulary), then `extract` each one; or
    `scan` each review once, `count` its candidates, and `choose` from its candidates after all are
    counted (what the raw importer does, with the scans in worker processes)."""

    def __init__(self, min_count: int = 3, max_features: int = 2000, max_words: int = 30) -> None:
        self.min_count, self.max_features, self.max_words = min_count, max_features, max_words
        self.lexicon = opinion_lexicon()
        self._counts: Counter[str] = Counter()
        self._features: dict[str, int] | None = None

    @classmethod
    def with_features(cls, features: dict[str, int], max_words: int = 30) -> OpinionExtractor:
        """An extractor that chooses with a feature vocabulary learned elsewhere (a worker process's)."""
        extractor = cls(max_words=max_words)
        extractor._features = dict(features)
        return extractor

    # ----------------------------------------------------------------------------- pattern matching
    def _pattern_pairs(
        self, toks: list[str], opinions: Iterable[int] | None = None
    ) -> list[tuple[int, int, int]]:
        """(feature position, opinion position, score) for the copula and modifier patterns.
        opinions: the positions of the opinion words in toks, if known."""
        lex, out, n = self.lexicon, [], len(toks)
        if opinions is None:
            opinions = [j for j, w in enumerate(toks) if w in lex]
        for j in opinions:
            # copula: FEATURE is [intensifiers] OPINION
            k = j - 1
            while k >= 0 and (toks[k] in INTENSIFIERS or toks[k] in NEGATORS) and j - k <= 3:
                k -= 1
            if k >= 1 and toks[k] in COPULAS and _is_candidate(toks[k - 1], lex):
                out.append((k - 1, j, 3))
            # modifier: OPINION [word] FEATURE (head = the last candidate word)
            if j + 1 < n and _is_candidate(toks[j + 1], lex):
                head = j + 2 if j + 2 < n and _is_candidate(toks[j + 2], lex) else j + 1
                out.append((head, j, 2))
        return out

    def scan(self, text: str) -> Scan:
        """What both passes need from one review, tokenised once (a worker process can compute it):
        the feature candidates its patterns find (pass 1 counts them) and, for each sentence of
        4..max_words tokens holding an opinion word, the sentence, its pattern pairs and its opinion
        positions (pass 2 chooses among them once the feature vocabulary is known)."""
        lex, found, kept, longest = self.lexicon, set(), [], self.max_words
        words = lex.keys()
        for toks in sentences(text):
            if words.isdisjoint(toks):  # no opinion word: no pattern, no nearby feature
                continue
            opinions = tuple([j for j, w in enumerate(toks) if w in lex])
            pairs = self._pattern_pairs(toks, opinions)
            for f, _, _ in pairs:
                found.add(toks[f])
            if 4 <= len(toks) <= longest:
                kept.append((" ".join(toks), tuple(pairs), opinions))
        return tuple(found), tuple(kept)

    def count(self, found: Iterable[str]) -> None:
        """Pass 1 for one review: count its feature candidates (each once)."""
        self._counts.update(found)
        self._features = None

    def observe(self, text: str) -> None:
        """Pass 1: count feature candidates (once per review)."""
        self.count(self.scan(text)[0])

    @property
    def features(self) -> dict[str, int]:
        """The learned feature vocabulary: word -> number of reviews it was found in."""
        if self._features is None:
            kept = [(w, n) for w, n in self._counts.most_common() if n >= self.min_count]
            self._features = dict(kept[: self.max_features])
        return self._features

    def learn(self, texts: Iterable[str]) -> OpinionExtractor:
        for t in texts:
            self.observe(t)
        self._features = None
        return self

    # ---------------------------------------------------------------------------------- extraction
    def _sentiment(self, toks: list[str], j: int) -> int:
        s = 1 if self.lexicon[toks[j]] > 0 else -1
        if any(t in NEGATORS for t in toks[max(0, j - WINDOW) : j]):
            s = -s
        return s

    def extract(self, text: str) -> Extraction | None:
        """Pass 2: the best (feature, opinion) sentence of a review, or None."""
        return self.choose(self.scan(text)[1])

    def choose(self, candidates: Candidates) -> Extraction | None:
        """Pass 2 from a scan's candidate sentences: the best (feature, opinion) sentence, or None.

        Per sentence, its pattern pairs whose feature is known score 3 (copula) or 2 (modifier); a
        sentence with none offers each known feature within WINDOW words of an opinion word (score 1,
        the nearest opinion word). The highest (score, feature frequency) wins, the earlier on ties. So
        the nearby features are looked at only when no sentence has a known pattern pair: they could
        not win against one."""
        feats = self.features
        best: tuple[tuple[int, int], int, int, int] | None = None  # key, sentence, feature, opinion
        for k, (sentence, pairs, _) in enumerate(candidates):
            if not pairs:
                continue
            toks = sentence.split()
            for f, j, s in pairs:
                n = feats.get(toks[f])
                if n is not None and (best is None or (s, n) > best[0]):
                    best = ((s, n), k, f, j)
        if best is None:  # a known feature within WINDOW words of an opinion word
            for k, (sentence, _, opinions) in enumerate(candidates):
                toks = sentence.split()
                for f, w in enumerate(toks):
                    n = feats.get(w)
                    if n is None:
                        continue
                    near = [j for j in opinions if abs(j - f) <= WINDOW]
                    if near and (best is None or (1, n) > best[0]):
                        best = ((1, n), k, f, min(near, key=lambda j: abs(j - f)))
        if best is None:
            return None
        (score, _), k, f, j = best
        toks = candidates[k][0].split()
        return Extraction(toks[f], toks[j], candidates[k][0], self._sentiment(toks, j), score)
