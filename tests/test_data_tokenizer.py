"""The shared tokenizer: hand-checked ids, truncation, references, save/load, and agreement with the
`tokenizers` library's own pipeline and WordLevelTrainer (a second implementation)."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, trainers

from explainbench.data import load_records, load_split, load_tokenizer
from explainbench.data.tokenizer import SPECIALS, ExplanationTokenizer, WordTable, _pipeline, words_of


def test_hand_built_vocabulary() -> None:
    tok = ExplanationTokenizer.build(
        ["The food was GREAT!", "food is good, really", "zz food was"],
        vocab_size=3,
        max_words=4,
        extra_words=["Pizza"],
    )
    # counts: food 3, was 2, then count-1 words alphabetically: "!" < "," < "good" ...
    assert [tok.id_to_token(i) for i in range(tok.vocab_size)] == [*SPECIALS, "food", "was", "!", "pizza"]
    assert (tok.bos_id, tok.eos_id, tok.pad_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.words("Great!It's fine, isn't it?") == ["great", "!", "it's", "fine", ",", "isn't", "it", "?"]
    assert tok.encode("FOOD was bad pizza and more") == [4, 5, 3, 7]  # first 4 words, OOV -> <unk>
    assert tok.decode([0, 4, 5, 1, 6]) == "food was"  # <bos> dropped, stops at <eos>
    assert tok.decode([4, 2, 2]) == "food"
    assert tok.reference("Pizza was AWFUL!") == "pizza was <unk> !"
    assert tok.token_to_id("Food") == 4 and tok.token_to_id("nope") == 3
    v = tok.vocab
    assert (v.size, v.pad_id, v.bos_id, v.eos_id, v.unk_id) == (8, 2, 0, 1, 3)


def test_save_load_round_trip(tmp_path: Path) -> None:
    tok = ExplanationTokenizer.build(["a b c", "b c", "c"], vocab_size=10, max_words=2, vocab_source="all")
    tok.save(tmp_path / "t.json")
    back = ExplanationTokenizer.load(tmp_path / "t.json")
    assert back.max_words == 2 and back.vocab_source == "all"
    assert back.vocab_size == tok.vocab_size
    assert [back.id_to_token(i) for i in range(8)] == [tok.id_to_token(i) for i in range(8)]
    assert back.encode("c b a z") == tok.encode("c b a z") == [4, 5]


def test_python_words_equal_the_tokenizers_pipeline(tiny_home: Path, shared_data: Path) -> None:
    rust = _pipeline(Tokenizer(models.WordLevel(vocab={"<unk>": 0}, unk_token="<unk>")))
    texts = load_records("synthetic-tiny", tiny_home).column("explanation").to_pylist()
    with open(shared_data / "peter-format" / "reviews.pickle", "rb") as fh:  # trusted file, plain pickle
        texts += [r["template"][2] for r in pickle.load(fh)]
    texts += ["Ünïcode CAFÉ—déjà-vu ... it's_ok [x]", "tabs\tand  spaces\n"]
    for t in texts:
        expected = [w for w, _ in rust.pre_tokenizer.pre_tokenize_str(rust.normalizer.normalize_str(t))]
        assert words_of(t) == expected, t


def test_vocabulary_equals_wordlevel_trainer(tiny_home: Path) -> None:
    dd = load_split("synthetic-tiny", 2, home=tiny_home)
    train = dd["train"]["explanation"]
    trainer = trainers.WordLevelTrainer(vocab_size=50 + 4, min_frequency=0, special_tokens=list(SPECIALS))
    reference = _pipeline(Tokenizer(models.WordLevel(unk_token="<unk>")))
    reference.train_from_iterator(train, trainer=trainer)
    ours = ExplanationTokenizer.build(train, vocab_size=50)
    assert ours.vocab_size == 54
    assert {ours.id_to_token(i): i for i in range(54)} == reference.get_vocab()


@pytest.mark.parametrize("block", [7, 200_000])  # records read at a time; 7: many blocks, texts repeated
def test_word_table_counts_equal_counter(tiny_home: Path, block: int, monkeypatch) -> None:
    monkeypatch.setattr(WordTable, "BLOCK", block)
    records = load_records("synthetic-tiny", tiny_home)
    table = WordTable(records.column("explanation"))
    texts = records.column("explanation").to_pylist()
    subset = list(range(0, len(texts), 3))
    assert table.counts() == dict(Counter(w for t in texts for w in words_of(t)))
    assert table.counts(subset) == dict(Counter(w for k in subset for w in words_of(texts[k])))


def test_saved_tokenizer_is_built_from_train_with_feature_words(tiny_home: Path) -> None:
    dd = load_split("synthetic-tiny", 1, home=tiny_home)
    tok = load_tokenizer("synthetic-tiny", 1, home=tiny_home)
    train_words = {w for t in dd["train"]["explanation"] for w in words_of(t)}
    vocab = {tok.id_to_token(i) for i in range(tok.vocab_size)}
    assert vocab == set(SPECIALS) | train_words | set(dd["train"]["feature"])
    assert tok.max_words == 15
    sentence = dd["test"][0]["explanation"]
    assert tok.reference(sentence) == " ".join(w if w in vocab else "<unk>" for w in words_of(sentence)[:15])
