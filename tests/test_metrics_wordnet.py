"""WordNetFiles (binary search in WordNet's index files) gives NLTK's answers: the second implementation
here is NLTK's own WordNetCorpusReader, which reads the whole index."""

from __future__ import annotations

import random

import pytest

from explainbench.metrics.meteor import CachedWordNet
from explainbench.metrics.wordnet import _find_line, load_wordnet, wordnet_available


@pytest.fixture(scope="module")
def nltk_wordnet():
    assert wordnet_available() is None, "WordNet missing: run `make setup`"
    from nltk.corpus import wordnet

    wordnet.ensure_loaded()
    return wordnet


def test_offsets_equal_nltk_for_every_lemma_of_the_index(nltk_wordnet):
    files = load_wordnet()
    index = nltk_wordnet._lemma_pos_offset_map
    assert len(index) > 140_000  # WordNet 3.0: 147,306 lemmas
    mismatched = [
        (lemma, pos)
        for lemma, by_pos in index.items()
        for pos in "nvar"
        if tuple(by_pos.get(pos, ())) != files.offsets(lemma, pos)
    ]
    assert mismatched == []


def test_absent_words_have_no_offsets(nltk_wordnet):
    files = load_wordnet()
    index = nltk_wordnet._lemma_pos_offset_map
    for word in ("", "zzzzzz", "aaaaa", "!", "guitarz", "the", "a_b_c_d"):
        for pos in "nvar":
            assert files.offsets(word, pos) == tuple(index.get(word, {}).get(pos, ()))


def test_morphy_and_synonyms_equal_nltk(nltk_wordnet):
    files = load_wordnet()
    rng = random.Random(0)
    lemmas = rng.sample(sorted(nltk_wordnet._lemma_pos_offset_map), 2000)
    words = [w + end for w in lemmas[:1000] for end in ("s", "es", "ed", "ing", "er", "est", "ies", "men")]
    words += ["geese", "mice", "better", "ran", "was", "abaci", "sounds", "strings", "cheaper", "Guitars"]
    for word in words:
        form = word.lower()
        for pos in "nvar":
            assert files.morphy(form, pos) == nltk_wordnet._morphy(form, pos, True), (word, pos)
    cached = CachedWordNet(files)
    for word in lemmas + words[::7]:
        names = {lemma.name() for s in nltk_wordnet.synsets(word) for lemma in s.lemmas()}
        expected = sorted(n for n in names if "_" not in n)
        assert [lemma.name() for lemma in cached.synsets(word)[0].lemmas()] == expected, word


def test_binary_search_by_hand():
    data = b"  licence line\n  another\nab 1\nabc 2\nb 3\nba 4\nc 5"
    first = data.index(b"ab ")
    assert _find_line(data, first, b"ab") == b"ab 1"
    assert _find_line(data, first, b"abc") == b"abc 2"
    assert _find_line(data, first, b"ba") == b"ba 4"
    assert _find_line(data, first, b"c") == b"c 5"  # the last line has no line end
    for absent in (b"a", b"abd", b"bb", b"d", b""):
        assert _find_line(data, first, absent) is None
