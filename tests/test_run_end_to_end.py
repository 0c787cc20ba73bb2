"""`explainbench run` end to end on synthetic-tiny with a reference explainer, through the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from cli_runner import invoke

from baselines.reference import ReferenceConfig
from explainbench.api.results import SCHEMA_VERSION, json_safe, read_results, read_samples
from explainbench.data import feature_set, item_features, load_manifest, load_split, load_tokenizer
from explainbench.data.buckets import Bucket
from explainbench.metrics import score_samples
from explainbench.runner import RunSpec, run_experiment

DATA = "synthetic-tiny"
FAST = ["--n-boot", "50", "--no-meteor", "--no-progress"]


def only_results(home: Path, model: str, split: int = 1) -> Path:
    found = sorted((home / "runs" / DATA / f"split-{split}" / model).glob("*/results.json"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def finished(home):
    result = invoke(home, "run", "--model", "item-popular", "--data", DATA, *FAST)
    assert result.exit_code == 0, result.output
    return only_results(home, "item-popular")


def test_samples_hold_the_test_split_and_the_model_output(home, finished):
    samples = read_samples(finished.parent / "samples.jsonl")
    dd = load_split(DATA, 1, home=home)
    tokenizer = load_tokenizer(DATA, 1, home=home)
    test = dd["test"]
    assert len(samples) == len(test)
    ids = list(zip(test["user_id"], test["item_id"], strict=True))
    assert [(s.user_id, s.item_id) for s in samples] == ids
    assert [s.reference for s in samples] == [tokenizer.reference(t) for t in test["explanation"]]
    assert [s.user_train_count for s in samples] == list(test["user_train_count"])
    assert [s.aspect for s in samples] == list(test["aspect"])
    # item-popular, recomputed here independently: the item's most frequent normalised training sentence
    per_item: dict[str, Counter] = {}
    for item, text in zip(dd["train"]["item_id"], dd["train"]["explanation"], strict=True):
        sentence = tokenizer.reference(text)
        if sentence:
            per_item.setdefault(item, Counter())[sentence] += 1
    expected = [min(per_item[s.item_id].items(), key=lambda kv: (-kv[1], kv[0]))[0] for s in samples]
    assert [s.generated for s in samples] == expected
    assert all(s.predicted_rating is None for s in samples)


def test_results_json_matches_score_samples_on_the_samples(home, finished):
    results = read_results(finished)
    samples = read_samples(finished.parent / "samples.jsonl")
    manifest = load_manifest(DATA, home=home)
    dd = load_split(DATA, 1, home=home)
    report = score_samples(
        samples,
        feature_set=feature_set(dd),
        item_features=item_features(dd, feature_set(dd)),
        buckets=[Bucket.from_dict(b) for b in manifest["buckets"]],
        rating_range=tuple(manifest["rating_range"]),
        n_boot=50,
        seed=0,
        meteor=False,
    ).to_dict()
    assert results["metrics"] == json_safe(report["metrics"])
    assert results["buckets"] == json_safe(report["buckets"])
    assert results["per_count"] == json_safe(report["per_count"])
    assert {"bleu1", "bleu4", "rougeL_f", "usr", "fmr", "fcr", "div"} <= set(results["metrics"])
    assert "rmse" not in results["metrics"]  # reference explainers predict no rating
    assert results["schema_version"] == SCHEMA_VERSION
    assert results["run_id"] == finished.parent.name
    assert results["model"] == "item-popular" and results["dataset"] == DATA and results["split"] == 1
    assert results["config"] == ReferenceConfig().to_dict()
    assert results["seeds"] == {"model": 1111, "bootstrap": 0}
    assert results["dataset_fingerprint"] == manifest["fingerprint"]
    assert results["n"] == {"original": len(dd["test"]), "cold": 0, "effective": len(dd["test"])}
    assert results["cold"] == "skip"
    assert results["model_package"]["name"] == "explainbench"
    assert {"python", "explainbench", "torch", "numpy", "datasets"} <= set(results["versions"])
    assert results["timings"]["train_s"] > 0 and results["timings"]["generate_sentences_per_s"] > 0
    assert results["bootstrap"]["n"] == 50
    config_yaml = (finished.parent / "config.yaml").read_text()
    assert "model: item-popular" in config_yaml and f"run_id: {results['run_id']}" in config_yaml


def test_rerun_is_a_no_op_that_says_so(home, finished):
    before = finished.read_bytes()
    result = invoke(home, "run", "--model", "item-popular", "--data", DATA, *FAST)
    assert result.exit_code == 0, result.output
    assert "already finished, nothing to do" in result.output
    assert finished.read_bytes() == before


def test_interrupted_run_resumes_from_the_last_complete_stage(home, finished):
    results = read_results(finished)
    spec = RunSpec(model="item-popular", data=DATA, config=ReferenceConfig(), home=home, n_boot=50,
                   meteor=False, progress=False)
    # crashed after samples.jsonl: only scoring runs again, with the same numbers
    finished.unlink()
    (finished.parent / ".results.json.abc.tmp").write_text("{half")  # a crashed write leaves this
    outcome = run_experiment(spec, log=lambda m: None)
    assert outcome.status == "finished" and outcome.stages_skipped == ["train", "generate"]
    assert outcome.results["metrics"] == results["metrics"]
    # crashed after training: the saved model is loaded, generation repeats identically
    samples_path = finished.parent / "samples.jsonl"
    samples_before = samples_path.read_bytes()
    samples_path.unlink()
    finished.unlink()
    outcome = run_experiment(spec, log=lambda m: None)
    assert outcome.stages_skipped == ["train"]
    assert samples_path.read_bytes() == samples_before
    assert read_results(finished)["metrics"] == results["metrics"]


def test_set_seed_and_limit_make_a_different_run(home):
    result = invoke(home, "run", "-m", "global-popular", "-d", DATA, "--set", "positive_threshold=4",
                    "--seed", "5", "--limit", "25", *FAST)
    assert result.exit_code == 0, result.output
    results = read_results(only_results(home, "global-popular"))
    assert results["config"] == {"seed": 5, "positive_threshold": 4.0, "unknown_ids": "error"}
    assert results["n"]["effective"] == 25 and results["n"]["original"] > 25
    assert results["limit"] == 25
    assert len(read_samples(only_results(home, "global-popular").parent / "samples.jsonl")) == 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "item-popluar", "--data", DATA], "'item-popluar'. Did you mean 'item-popular'"),
        (["--model", "item-popular", "--data", "no-such-data"], "no-such-data"),
        (["--model", "item-popular", "--data", DATA, "--split", "0"], "'--split': Input should be greater"),
        (["--model", "item-popular", "--data", DATA, "--split", "1,2"], "'--split': Input should be a valid"),
        (["--model", "item-popular", "--data", DATA, "--split", "9"], "split 9 does not exist"),
        (["--model", "item-popular", "--data", DATA, "--split", "1", "--splits", "1,2"], "not both"),
        (["--model", "item-popular", "--data", DATA, "--set", "seed"], "--set 'seed': expected key=value"),
        (["--model", "item-popular", "--data", DATA, "--set", "sed=1"], "Did you mean 'seed'"),
        (["--model", "item-popular", "--data", DATA, "--limit", "0"], "'--limit': Input should be greater"),
        (["--model", "item-popular", "--data", DATA, "--seed", "x"], "'--seed': Input should be a valid int"),
        (["--model", "item-popular", "--data", DATA, "--threads", "0"], "'--threads': Input should be"),
        (["--model", "item-popular", "--data", DATA, "--limit", "ten"], "'--limit': Input should be a valid"),
        (["--data", DATA], "no model given"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(home, args, message):
    result = invoke(home, "run", *args, *FAST)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]


def test_recipe_with_splits(home, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: random-train\ndata: synthetic-tiny\nsplits: [1, 2]\nconfig: {seed: 3}\n")
    result = invoke(home, "run", "--recipe", str(recipe), "--limit", "10", *FAST)
    assert result.exit_code == 0, result.output
    for split in (1, 2):
        results = read_results(only_results(home, "random-train", split))
        assert results["split"] == split and results["config"]["seed"] == 3
    # the two splits are different experiments: different run ids
    ids = {only_results(home, "random-train", k).parent.name for k in (1, 2)}
    assert len(ids) == 2


def test_same_seed_same_metrics_in_two_homes(home, tmp_path):
    spec = dict(model="random-train", data=DATA, config=ReferenceConfig(seed=9), limit=40, n_boot=50,
                meteor=False, progress=False)
    a = run_experiment(RunSpec(home=home, **spec), log=lambda m: None)
    other = tmp_path / "home2"
    b = run_experiment(RunSpec(home=other, **spec), log=lambda m: None)
    assert a.run_id == b.run_id
    dump = lambda r: json.dumps(r["metrics"], sort_keys=True)  # noqa: E731
    assert dump(a.results) == dump(b.results)


def test_cold_start_records_are_left_out_alike_or_served(shared_data, tmp_path):
    """The published PETER-format Amazon MI splits hold test users/items absent from training."""
    from explainbench.data import import_peter

    import_peter(shared_data / "peter-format", "mi", home=tmp_path)
    dd = load_split("mi", 1, home=tmp_path)
    train_users, train_items = set(dd["train"][:]["user_id"]), set(dd["train"][:]["item_id"])
    test = dd["test"][:]
    warm = [(u, i) for u, i in zip(test["user_id"], test["item_id"], strict=True)
            if u in train_users and i in train_items]
    assert 0 < len(test["user_id"]) - len(warm)  # counted from the ids, not from the count columns
    base = dict(data="mi", home=tmp_path, n_boot=20, meteor=False, progress=False)
    skipped = run_experiment(RunSpec(model="item-popular", config=ReferenceConfig(), **base),
                             log=lambda m: None)
    n = len(test["user_id"])
    assert skipped.results["n"] == {"original": n, "cold": n - len(warm), "effective": len(warm)}
    samples = read_samples(skipped.run_dir / "samples.jsonl")
    assert [(s.user_id, s.item_id) for s in samples] == warm
    with pytest.raises(Exception, match="refused a test request.*--cold skip leaves them out"):
        run_experiment(RunSpec(model="item-popular", config=ReferenceConfig(), cold="serve", **base),
                       log=lambda m: None)
    served = run_experiment(
        RunSpec(model="item-popular", config=ReferenceConfig(unknown_ids="fallback"), cold="serve", **base),
        log=lambda m: None,
    )
    assert served.results["n"]["effective"] == n and served.results["cold"] == "serve"
    assert served.run_id != skipped.run_id
