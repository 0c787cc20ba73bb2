"""Raw review importers (Amazon, Yelp, TripAdvisor), the extractor, and bad raw input via the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from review_texts import REVIEW_TEXTS
from typer.testing import CliRunner

from explainbench.cli import data as data_cli
from explainbench.data import load_manifest, load_records, load_split
from explainbench.data.extractor import OpinionExtractor, sentences

TEXTS = REVIEW_TEXTS


def cli(*args: str, home: Path):
    app = typer.Typer()
    data_cli.register(app)
    return CliRunner().invoke(app, ["data", *args], env={"EXPLAINBENCH_HOME": str(home)})


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def nothing_left(home: Path, name: str) -> bool:
    root = home / "datasets"
    return not root.exists() or (not (root / name).exists() and not list(root.glob(".tmp-*")))


def amazon_lines(n_users: int = 6, n_items: int = 4, literal: bool = True) -> list[str]:
    out = []
    for u in range(n_users):
        for i in range(n_items):
            rec = {"reviewerID": f"U{u}", "asin": f"B{i}", "overall": float(1 + (u + i) % 5)}
            # a text of its own per review: a user's text repeated under another item is a duplicate
            rec["reviewText"] = f"{TEXTS[(u + 2 * i) % len(TEXTS)]} Order {u}-{i} came fast."
            out.append(repr(rec) if literal else json.dumps(rec))
    return out


def write(path: Path, lines: list[str], gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# ------------------------------------------------------------------------------------------- extractor
def test_tokenisation_follows_peter() -> None:
    assert sentences("It isn't bad.The strap’s fine!  Really") == [
        ["it", "is", "n't", "bad", "."],
        ["the", "strap's", "fine", "!"],
        ["really"],
    ]


@pytest.mark.parametrize("text, expected", [
    # "n't" splits off a word of letters that starts at a word boundary, nowhere else
    ("x5don't go", [["x5don't", "go"]]),
    ("o'don't _isn't can't", [["o'do", "n't", "_", "isn't", "ca", "n't"]]),
    ("n't", [["n't"]]),
    # a mark ends a sentence before white space (a run of marks stays together), not inside a number,
    # and before a capital that follows it without a space after a lower-case letter
    ("Great... Sound!! 3.5 stars?Yes", [["great", ".", ".", "."], ["sound", "!", "!"],
                                        ["3", ".", "5", "stars", "?"], ["yes"]]),
    # line breaks end sentences; a missing space after a full stop before a capital is mended
    ("tone\r\nok\n\n\nfine.Good. \n", [["tone"], ["ok"], ["fine", "."], ["good", "."]]),
    ("", []),
])
def test_tokenisation_edge_cases(text: str, expected: list[list[str]]) -> None:
    assert sentences(text) == expected


def test_extractor_patterns_and_negation() -> None:
    ex = OpinionExtractor(min_count=1).learn(TEXTS)
    assert {"strap", "tone"} <= set(ex.features)
    a = ex.extract("The strap is very sturdy. Shipping took a week.")
    assert (a.feature, a.adjective, a.sentiment, a.sentence) == (
        "strap",
        "sturdy",
        1,
        "the strap is very sturdy .",
    )
    b = ex.extract("The strap was not comfortable at all.")
    assert (b.feature, b.adjective, b.sentiment) == ("strap", "comfortable", -1)
    c = ex.extract("Awful tone, and the strap broke.")
    assert (c.feature, c.adjective, c.sentiment) == ("tone", "awful", -1)
    assert ex.extract("I bought it for my son.") is None


# ------------------------------------------------------------------------------------- real Amazon file
@pytest.fixture(scope="module")
def mi_raw(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("raw-home")
    result = cli(
        "import",
        "amazon",
        str(shared_data / "reviews_Musical_Instruments_5.json.gz"),
        "--name",
        "mi",
        home=home,
    )
    assert result.exit_code == 0, result.output
    return home


def test_raw_amazon_gives_4000_sentences_with_features(mi_raw: Path) -> None:
    rows = load_records("mi", mi_raw).select(["explanation", "feature"]).to_pylist()
    with_feature = sum(1 for r in rows if r["feature"] and r["feature"] in r["explanation"].split())
    assert with_feature >= 4000
    m = load_manifest("mi", mi_raw)
    assert m["source"]["reviews_read"] == 10261  # README: 10,261 reviews
    assert m["source"]["kind"] == "amazon" and m["extractor"]["features_learned"] > 100


def test_raw_splits_keep_test_users_and_items_in_train(mi_raw: Path) -> None:
    for k in range(1, 6):
        dd = load_split("mi", k, home=mi_raw)
        users, items = set(dd["train"]["user_id"]), set(dd["train"]["item_id"])
        for part in ("validation", "test"):
            assert set(dd[part]["user_id"]) <= users and set(dd[part]["item_id"]) <= items
        assert min(dd["test"]["user_train_count"]) >= 1


# ------------------------------------------------------------------------------------ formats
def test_amazon_2014_literal_and_2018_json_gz_give_the_same_records(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", amazon_lines(literal=True))
    b = write(tmp_path / "b.json.gz", amazon_lines(literal=False), gz=True)
    assert "'reviewerID'" in a.read_text()
    assert cli("import", "amazon", str(a), "--name", "a", home=tmp_path).exit_code == 0
    assert cli("import", "amazon", str(b), "--name", "b", home=tmp_path).exit_code == 0
    ra, rb = load_records("a", tmp_path), load_records("b", tmp_path)
    assert ra.equals(rb) and ra.num_rows >= 15
    assert load_manifest("a", tmp_path)["fingerprint"] == load_manifest("b", tmp_path)["fingerprint"]


def test_yelp_and_tripadvisor(tmp_path: Path) -> None:
    yelp, trip, docs = [], [], []
    for k, line in enumerate(amazon_lines(literal=False)):
        r = json.loads(line)
        yelp.append(
            json.dumps(
                {
                    "user_id": r["reviewerID"],
                    "business_id": r["asin"],
                    "stars": r["overall"],
                    "text": r["reviewText"],
                }
            )
        )
        trip.append(
            json.dumps(
                {
                    "author": {"id": r["reviewerID"]},
                    "offering_id": k % 4,
                    "ratings": {"overall": r["overall"]},
                    "text": r["reviewText"],
                }
            )
        )
        docs.append(
            {
                "Author": r["reviewerID"],
                "Ratings": {"Overall": str(int(r["overall"]))},
                "Content": r["reviewText"],
            }
        )
    write(tmp_path / "review.json", yelp)
    write(tmp_path / "trip.json", trip)
    folder = tmp_path / "hotels"
    folder.mkdir()
    for h in range(4):
        (folder / f"hotel_{h}.json").write_text(
            json.dumps({"HotelInfo": {"HotelID": f"H{h}"}, "Reviews": docs[h::4]})
        )
    assert cli("import", "yelp", str(tmp_path / "review.json"), "--name", "y", home=tmp_path).exit_code == 0
    assert (
        cli("import", "tripadvisor", str(tmp_path / "trip.json"), "--name", "t", home=tmp_path).exit_code == 0
    )
    result = cli("import", "tripadvisor", str(folder), "--name", "h", home=tmp_path)
    assert result.exit_code == 0, result.output
    assert set(load_records("t", tmp_path).column("item_id").to_pylist()) <= {"0", "1", "2", "3"}
    assert set(load_records("h", tmp_path).column("item_id").to_pylist()) <= {"H0", "H1", "H2", "H3"}
    y = load_records("y", tmp_path).to_pylist()
    assert all(r["sentiment"] in (1, -1) and r["feature"] in r["explanation"].split() for r in y)


def test_filter_is_applied_and_recorded(tmp_path: Path) -> None:
    f = write(tmp_path / "a.json", amazon_lines(n_users=8, n_items=6))
    assert cli("import", "amazon", str(f), "--name", "f", "--max-reviews", "5", home=tmp_path).exit_code == 0
    m = load_manifest("f", tmp_path)
    assert m["filter"]["max_reviews"] == 5 and m["filter"]["records_after"] < m["filter"]["records_before"]


# ------------------------------------------------------------------------------------------ bad input
def test_missing_path(tmp_path: Path) -> None:
    assert_one_line_error(
        cli("import", "amazon", str(tmp_path / "nope.json.gz"), "--name", "x", home=tmp_path),
        "nope.json.gz",
        "no such file",
    )


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(amazon_lines(n_users=40)) + "\n").encode())
    (tmp_path / "cut.json.gz").write_bytes(data[: len(data) * 2 // 3])
    result = cli("import", "amazon", str(tmp_path / "cut.json.gz"), "--name", "x", home=tmp_path)
    assert_one_line_error(result, "cut.json.gz", "gzip stream ends early", "download the file again")
    assert nothing_left(tmp_path, "x")


def test_not_gzip_at_all(tmp_path: Path) -> None:
    (tmp_path / "bad.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate" * 3)
    assert_one_line_error(
        cli("import", "amazon", str(tmp_path / "bad.json.gz"), "--name", "x", home=tmp_path),
        "bad.json.gz",
        "gzip",
    )


def test_malformed_line_and_skip_bad(tmp_path: Path) -> None:
    lines = amazon_lines()
    lines.insert(6, "{'reviewerID': 'U9', 'asin': ")  # line 7
    lines.insert(9, json.dumps({"asin": "B1", "overall": 5}))  # line 10: no reviewerID
    f = write(tmp_path / "a.json", lines)
    assert_one_line_error(
        cli("import", "amazon", str(f), "--name", "x", home=tmp_path), "a.json:7:", "--skip-bad"
    )
    assert nothing_left(tmp_path, "x")
    result = cli("import", "amazon", str(f), "--name", "x", "--skip-bad", home=tmp_path)
    assert result.exit_code == 0, result.output
    skipped = load_manifest("x", tmp_path)["source"]["skipped_lines"]
    assert (
        skipped["total"] == 2
        and skipped["examples"][0].startswith(f"{f}:7:")
        and ":10:" in skipped["examples"][1]
    )


def test_rating_outside_the_star_scale(tmp_path: Path) -> None:
    lines = amazon_lines(literal=False)
    bad = json.loads(lines[4])
    bad["overall"] = 7.0  # line 5
    lines[4] = json.dumps(bad)
    zero = json.loads(lines[8])
    zero["overall"] = 0  # line 9
    lines[8] = json.dumps(zero)
    f = write(tmp_path / "a.json", lines)
    result = cli("import", "amazon", str(f), "--name", "x", home=tmp_path)
    assert_one_line_error(result, "a.json:5:", "rating 7.0", "1-5 star scale", "--skip-bad")
    assert nothing_left(tmp_path, "x")
    result = cli("import", "amazon", str(f), "--name", "x", "--skip-bad", home=tmp_path)
    assert result.exit_code == 0, result.output
    manifest = load_manifest("x", tmp_path)
    assert manifest["source"]["skipped_lines"]["total"] == 2
    assert ":9:" in manifest["source"]["skipped_lines"]["examples"][1]


def test_non_utf8_bytes(tmp_path: Path) -> None:
    lines = [line.encode() for line in amazon_lines()]
    lines[4] = lines[4].replace(b"'reviewText': '", b"'reviewText': 'caf\xe9 ", 1)
    (tmp_path / "a.json").write_bytes(b"\n".join(lines) + b"\n")
    result = cli("import", "amazon", str(tmp_path / "a.json"), "--name", "x", home=tmp_path)
    assert_one_line_error(result, "a.json:5:", "byte 0xe9", "not UTF-8")
    assert nothing_left(tmp_path, "x")
    assert (
        cli(
            "import", "amazon", str(tmp_path / "a.json"), "--name", "x", "--skip-bad", home=tmp_path
        ).exit_code
        == 0
    )


def test_duplicate_pairs(tmp_path: Path) -> None:
    lines = amazon_lines()
    lines.append(lines[0])  # an exact repeat
    f = write(tmp_path / "a.json", lines)
    strict = cli("import", "amazon", str(f), "--name", "x", "--duplicates", "error", home=tmp_path)
    assert_one_line_error(strict, f"a.json:{len(lines)}:", "'U0'", "'B0'", "first at", "a.json:1")
    assert nothing_left(tmp_path, "x")
    result = cli("import", "amazon", str(f), "--name", "x", home=tmp_path)  # dropped by default
    assert result.exit_code == 0, result.output
    assert "1 exact repeats" in " ".join(result.output.split())
    dup = load_manifest("x", tmp_path)["source"]["duplicates"]
    assert dup == {"policy": "drop", "exact_repeats": 1, "pair_repeats": 0, "cross_item_repeats": 0,
                   "dropped": 1}
    assert cli("import", "amazon", str(f), "--name", "y", "--duplicates", "error", "--skip-bad",
               home=tmp_path).exit_code == 0
    assert load_manifest("y", tmp_path)["source"]["duplicates_skipped"] == 1


def test_duplicate_rule_by_hand(tmp_path: Path) -> None:
    text_a, text_b = TEXTS[0], TEXTS[1]
    rows = [
        ("U1", "B1", text_a),  # kept
        ("U1", "B1", text_a),  # exact repeat
        ("U1", "B1", text_b),  # the pair again with other text: the first is kept
        ("U1", "B2", text_a),  # U1's text under another item: kept once per user
        ("U1", "B2", text_b),  # (U1, B2) was decided by its first review: a pair repeat
        ("U2", "B2", text_a),  # another user may write the same text
    ]
    rows += [(f"U{u}", f"B{i}", TEXTS[(u * 3 + i) % len(TEXTS)]) for u in range(3, 9) for i in range(3, 7)]
    lines = [json.dumps({"reviewerID": u, "asin": i, "overall": 4.0, "reviewText": t}) for u, i, t in rows]
    f = write(tmp_path / "a.json", lines)
    assert cli("import", "amazon", str(f), "--name", "x", home=tmp_path).exit_code == 0
    dup = load_manifest("x", tmp_path)["source"]["duplicates"]
    assert (dup["exact_repeats"], dup["pair_repeats"], dup["cross_item_repeats"]) == (1, 2, 1)


@pytest.mark.parametrize("name, lines, pairs", [("Appliances_5.json.gz", 2277, 183),
                                                ("Gift_Cards_5.json.gz", 2972, 2965)])
def test_real_2018_files_import_with_their_repeats_dropped(name: str, lines: int, pairs: int,
                                                           tmp_path: Path) -> None:
    from shared_paths import SHARED, require_shared

    path = require_shared(SHARED / "data" / "amazon-2018-5core-samples" / name)
    result = cli("import", "amazon", str(path), "--name", "x", "--min-feature-count", "2", home=tmp_path)
    assert result.exit_code == 0, result.output
    dup = load_manifest("x", tmp_path)["source"]["duplicates"]
    # every line whose (user, item) pair came before is an exact or a pair repeat (the README's counts)
    assert dup["exact_repeats"] + dup["pair_repeats"] == lines - pairs
    users_texts: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()
    cross = 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            user, item, text = obj["reviewerID"], obj["asin"], " ".join(obj.get("reviewText", "").split())
            if (user, item) in seen:
                continue
            seen.add((user, item))
            if text and text in users_texts.setdefault(user, set()):
                cross += 1
            elif text:
                users_texts[user].add(text)
    assert dup["cross_item_repeats"] == cross


def test_no_sentence_anywhere(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.json", [json.dumps({"reviewerID": "u", "asin": "i", "overall": 5, "reviewText": "ok."})]
    )
    assert_one_line_error(
        cli("import", "amazon", str(f), "--name", "x", home=tmp_path), "feature-opinion sentence"
    )


# ------------------------------------------------------------------------------------- worker processes
def test_workers_give_the_same_dataset(mi_raw: Path, shared_data: Path, tmp_path: Path) -> None:
    """Two worker processes (spawned) scan the chunks; the dataset is the one of the in-process import."""
    path = shared_data / "reviews_Musical_Instruments_5.json.gz"
    result = cli("import", "amazon", str(path), "--name", "mi", "--workers", "2", home=tmp_path)
    assert result.exit_code == 0, result.output
    assert load_records("mi", tmp_path).equals(load_records("mi", mi_raw))
    a, b = load_manifest("mi", tmp_path), load_manifest("mi", mi_raw)
    assert a["fingerprint"] == b["fingerprint"] and a["source"] == b["source"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_first_error_in_file_order_with_workers(workers: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad line before a truncated end is reported first, however far the reader ran ahead; with
    --skip-bad the truncation is. Blocks of a few lines, so that the reader is blocks ahead of the workers."""
    from explainbench.data.sources import raw

    monkeypatch.setattr(raw, "CHUNK_BYTES", 600)
    lines = amazon_lines(n_users=40, literal=False)
    lines.insert(41, '{"reviewerID": "U9", "asin": ')  # line 42
    head = gzip.compress(("\n".join(lines[:43]) + "\n").encode())  # a whole first gzip member
    tail = gzip.compress(("\n".join(lines[43:]) + "\n").encode())  # a second one, cut
    f = tmp_path / "cut.json.gz"
    f.write_bytes(head + tail[:16])  # the reader fails right after line 43
    result = cli("import", "amazon", str(f), "--name", "x", "--workers", workers, home=tmp_path)
    assert_one_line_error(result, "cut.json.gz:42:", "neither a JSON object")
    result = cli("import", "amazon", str(f), "--name", "x", "--workers", workers, "--skip-bad", home=tmp_path)
    assert_one_line_error(result, "cut.json.gz", "gzip stream ends early")
    assert nothing_left(tmp_path, "x")


def test_malformed_2023_lines(tmp_path: Path) -> None:
    """The 2023 schema's fields are checked like the older ones: a missing user_id, a rating outside
    the star scale; --skip-bad counts them."""
    good = [json.dumps({"user_id": f"U{u}", "parent_asin": f"P{i}", "asin": f"A{i}{u}", "rating": 4.0,
                        "title": "ok", "text": f"{TEXTS[(u + 2 * i) % len(TEXTS)]} Order {u}-{i}."})
            for u in range(6) for i in range(4)]
    lines = [*good[:3], json.dumps({"parent_asin": "P1", "rating": 5.0, "text": "The strap is sturdy."}),
             *good[3:8], json.dumps({"user_id": "U1", "parent_asin": "P9", "rating": 0.0, "text": "x"}),
             *good[8:]]
    f = write(tmp_path / "All_Beauty.jsonl", lines)
    assert_one_line_error(cli("import", "amazon", str(f), "--name", "x", home=tmp_path),
                          "All_Beauty.jsonl:4:", "'user_id'", "--skip-bad")
    result = cli("import", "amazon", str(f), "--name", "x", "--skip-bad", home=tmp_path)
    assert result.exit_code == 0, result.output
    skipped = load_manifest("x", tmp_path)["source"]["skipped_lines"]
    assert skipped["total"] == 2 and ":10:" in skipped["examples"][1]
    assert "1-5 star scale" in skipped["examples"][1]
    items = set(load_records("x", tmp_path).column("item_id").to_pylist())
    assert items <= {f"P{i}" for i in range(4)}  # parent_asin groups the variants
