"""`explainbench score`, `explainbench evaluate`, and the WordNet set-up step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explainbench.api.results import read_results
from explainbench.cli.main import app
from explainbench.metrics import wordnet as wn

GOLDEN = Path(__file__).resolve().parent / "golden" / "metrics_golden.json"  # in the repository
runner = CliRunner()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_score_json_reproduces_the_golden_case(tmp_path):
    g = json.loads(GOLDEN.read_text(encoding="utf-8"))
    case = next(c for c in g["cases"] if c["name"] == "hand-6")
    refs = _write(tmp_path / "refs.txt", case["references"])
    hyps = _write(tmp_path / "hyps.txt", case["hypotheses"])
    feats = _write(tmp_path / "feats.txt", case["features_gt"])
    fset = _write(tmp_path / "set.txt", g["feature_set"])
    result = runner.invoke(
        app,
        [
            "score",
            str(refs),
            str(hyps),
            "--features",
            str(feats),
            "--feature-set",
            str(fset),
            "--format",
            "json",
            "--n-boot",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    e = case["expected"]
    assert out["bleu4"] == pytest.approx(e["bleu4"], abs=1e-6)
    assert out["rougeL_f"] == pytest.approx(e["rouge_l/f_score"], abs=1e-6)
    assert out["fcr"] == pytest.approx(e["fcr"], abs=1e-9)
    assert out["sacrebleu"] == pytest.approx(e["sacrebleu"], abs=1e-4)
    assert out["meteor"] == pytest.approx(e["meteor_nltk"], abs=1e-4)
    assert out["signatures"]["bleu4"].startswith("bleu4|impl:ref|")
    rich = runner.invoke(app, ["score", str(refs), str(hyps), "--n-boot", "20", "--no-meteor"])
    assert rich.exit_code == 0, rich.output
    assert "95% CI" in rich.stdout and "rs_rougeL" in rich.stdout and "impl:sacr" in rich.stdout


def test_score_family_ref_is_the_reference_part_of_all(tmp_path):
    from explainbench.metrics import metrics_of

    g = json.loads(GOLDEN.read_text(encoding="utf-8"))
    case = next(c for c in g["cases"] if c["name"] == "hand-6")
    refs = _write(tmp_path / "refs.txt", case["references"])
    hyps = _write(tmp_path / "hyps.txt", case["hypotheses"])
    feats = _write(tmp_path / "feats.txt", case["features_gt"])
    fset = _write(tmp_path / "set.txt", g["feature_set"])
    base = ["score", str(refs), str(hyps), "--features", str(feats), "--feature-set", str(fset)]
    outs = {}
    for family in ("all", "ref", "std"):
        result = runner.invoke(app, [*base, "--format", "json", "--n-boot", "0", "--family", family])
        assert result.exit_code == 0, result.output
        outs[family] = json.loads(result.stdout)
    ref_names, std_names = set(metrics_of("reference")), set(metrics_of("standard"))
    assert {"bleu4", "usr", "fmr", "fcr", "div"} <= set(outs["ref"]) - {"signatures"} <= ref_names
    assert {k: v for k, v in outs["all"].items() if k in ref_names} == {
        k: v for k, v in outs["ref"].items() if k != "signatures"
    }
    assert not std_names & set(outs["ref"]) and not std_names & set(outs["ref"]["signatures"])
    assert set(outs["std"]) - {"signatures"} == std_names and not ref_names & set(outs["std"])
    assert {k: v for k, v in outs["all"].items() if k in std_names} == {
        k: v for k, v in outs["std"].items() if k != "signatures"
    }
    rich = runner.invoke(app, [*base, "--family", "ref", "--n-boot", "20"])
    assert rich.exit_code == 0 and "bleu4" in rich.stdout and "sacrebleu" not in rich.stdout
    bad = runner.invoke(app, [*base, "--family", "reference"])
    assert bad.exit_code == 2 and "--family" in bad.output


def test_score_refuses_misaligned_files_with_one_line(tmp_path):
    refs = _write(tmp_path / "refs.txt", ["a b", "c d"])
    hyps = _write(tmp_path / "hyps.txt", ["a b"])
    result = runner.invoke(app, ["score", str(refs), str(hyps)])
    assert result.exit_code == 2
    assert "has 2 lines but" in result.output and len(result.output.strip().splitlines()) == 1
    empty = _write(tmp_path / "empty.txt", [])
    assert runner.invoke(app, ["score", str(empty), str(empty)]).exit_code == 2
    result = runner.invoke(app, ["score", str(refs), str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "no such" in result.output


def _test_rows(home: Path):
    from explainbench.data import load_split, load_tokenizer

    dd = load_split("synthetic-tiny", 1, home=home)
    return dd["test"][:], load_tokenizer("synthetic-tiny", 1, home=home)


def test_evaluate_scores_outside_outputs_and_writes_results(tiny_home, tmp_path):
    from explainbench.api.results import Sample
    from explainbench.data import Bucket, feature_set, item_features, load_manifest, load_split
    from explainbench.metrics import score_samples

    rows, tok = _test_rows(tiny_home)
    n = len(rows["user_id"])
    texts = [rows["explanation"][k].upper() for k in range(n)]  # raw text, any case
    lines = [
        json.dumps(
            {
                "user_id": rows["user_id"][k],
                "item_id": rows["item_id"][k],
                "explanation": texts[k],
                "predicted_rating": 4,
            }
        )
        for k in reversed(range(n))
    ]  # any order
    (tmp_path / "sys").mkdir()
    samples = _write(tmp_path / "sys" / "samples.jsonl", lines)
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--samples",
            str(samples),
            "--data",
            "synthetic-tiny",
            "--split",
            "1",
            "--home",
            str(tiny_home),
            "--n-boot",
            "30",
            "--no-meteor",
            "--model",
            "copy",
        ],
    )
    assert result.exit_code == 0, result.output
    res = read_results(samples.parent / "results.json")
    assert res["model"] == "copy" and res["n"] == {"original": n, "cold": 0, "effective": n}
    # the same numbers as score_samples on samples built by hand: test order, tokenizer reference,
    # generated = the tokenizer's words of the output (lower-cased, punctuation split, not truncated)
    manifest = load_manifest("synthetic-tiny", home=tiny_home)
    by_hand = [
        Sample(
            user_id=rows["user_id"][k],
            item_id=rows["item_id"][k],
            rating=float(rows["rating"][k]),
            reference=tok.reference(rows["explanation"][k]),
            generated=" ".join(tok.words(texts[k])),
            feature=rows["feature"][k],
            user_train_count=rows["user_train_count"][k],
            item_train_count=rows["item_train_count"][k],
            predicted_rating=4.0,
            aspect=rows["aspect"][k],
            aspect_terms=rows["aspect_terms"][k],
            detail=rows["detail"][k],
        )
        for k in range(n)
    ]
    split = load_split("synthetic-tiny", 1, home=tiny_home)
    features = feature_set(split)
    expected = score_samples(
        by_hand,
        feature_set=features,
        item_features=item_features(split, features),
        buckets=[Bucket.from_dict(b) for b in manifest["buckets"]],
        rating_range=tuple(manifest["rating_range"]),
        n_boot=30,
        seed=0,
        meteor=False,
    ).to_dict()
    assert res["metrics"] == json.loads(json.dumps(expected["metrics"]))
    assert (
        res["metrics"]["bleu1"]["value"] > 90
    )  # the outputs are the references, longer than 15 words at times
    assert "rmse" in res["metrics"] and "spec_aspect" in res["metrics"]
    assert res["buckets"]["user"] and res["per_count"]["item"]


def test_evaluate_refuses_unknown_or_missing_ids(tiny_home, tmp_path):
    rows, _ = _test_rows(tiny_home)
    good = [
        json.dumps({"user_id": u, "item_id": i, "explanation": "nice"})
        for u, i in zip(rows["user_id"], rows["item_id"], strict=True)
    ]
    base = ["evaluate", "--data", "synthetic-tiny", "--home", str(tiny_home), "--n-boot", "0", "--no-meteor"]
    unknown = _write(
        tmp_path / "unknown.jsonl",
        good + [json.dumps({"user_id": "nobody", "item_id": "x", "explanation": "a"})],
    )
    r = runner.invoke(app, [*base, "--samples", str(unknown)])
    assert r.exit_code == 2 and "'nobody'" in r.output and "not in the test split" in r.output
    assert not (tmp_path / "results.json").exists()
    partial = _write(tmp_path / "partial.jsonl", good[:-3])
    r = runner.invoke(app, [*base, "--samples", str(partial)])
    assert r.exit_code == 2 and "3 of" in r.output and "--allow-partial" in r.output
    r = runner.invoke(app, [*base, "--samples", str(partial), "--allow-partial"])
    assert r.exit_code == 0, r.output
    assert read_results(tmp_path / "results.json")["n"]["effective"] == len(good) - 3
    r = runner.invoke(
        app, ["evaluate", "--samples", str(partial), "--data", "no-such-data", "--home", str(tiny_home)]
    )
    assert r.exit_code == 2 and "no-such-data" in r.output
    broken = _write(tmp_path / "broken.jsonl", [good[0], '{"user_id": "u"}'])
    r = runner.invoke(app, [*base, "--samples", str(broken)])
    assert r.exit_code == 2 and "broken.jsonl:2: missing item_id, explanation" in r.output


def test_lexnames_table_is_the_man_page():
    lines = wn.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[3] == "03\tnoun.Tops\t1" and lines[44] == "44\tadj.ppl\t3"
    assert [int(x.split("\t")[0]) for x in lines] == list(range(45))
    assert all(
        x.split("\t")[2] == {"noun": "1", "verb": "2", "adj": "3", "adv": "4"}[x.split("\t")[1].split(".")[0]]
        for x in lines
    )


def test_prepare_lays_out_the_nltk_folder(tmp_path):
    src = tmp_path / "debian"
    src.mkdir()
    for name in wn.REQUIRED_FILES + ("index.sense",):
        (src / name).write_text(f"{name}\n")
    dest = wn.prepare(tmp_path / "nltk_data", source=src, install=False)
    assert dest == tmp_path / "nltk_data" / "corpora" / "wordnet"
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [*wn.REQUIRED_FILES, "index.sense", "lexnames", "README"]
    )
    assert (dest / "data.noun").read_text() == "data.noun\n"
    with pytest.raises(RuntimeError, match="not found"):
        wn.prepare(tmp_path / "other", source=tmp_path / "nowhere", install=False)


def test_prepare_without_wordnet_prints_the_fix_and_exits_0(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(wn, "DEBIAN_DICT_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(wn.prepare, "__defaults__", (tmp_path / "nowhere", True))
    assert wn.main(["--prepare", str(tmp_path / "nd"), "--no-install"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "METEOR will be reported unavailable" in out[0] and "apt-get install" in out[0]


def test_missing_wordnet_reports_meteor_unavailable_and_scores_the_rest(monkeypatch):
    from explainbench.api.results import Sample
    from explainbench.metrics import score_samples, table

    monkeypatch.setattr(table, "_METEOR", None)
    monkeypatch.setattr(wn, "wordnet_available", lambda: "METEOR unavailable: x; fix: y")
    r = score_samples([Sample("u", "i", 3.0, "a b", "a b")], feature_set=None, n_boot=0)
    assert "meteor" not in r.metrics and r.unavailable["meteor"].startswith("METEOR unavailable")
    assert r.value("bleu1") == pytest.approx(100.0)
    monkeypatch.setattr(table, "_METEOR", None)  # let later tests load the real one
