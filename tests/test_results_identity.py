"""Run identity, provenance, the one results schema and compact storage (issue #13)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke

from baselines.reference import ReferenceConfig
from explainbench.api import provenance, schemas
from explainbench.api.results import (
    SCHEMA_VERSION,
    V2_ONLY_KEYS,
    ids_digest,
    read_results,
    read_samples,
)
from explainbench.report.leaderboard import render_readme
from explainbench.runner import RunSpec, run_experiment, store

DATA = "synthetic-tiny"
REPO = Path(__file__).resolve().parents[1]
LEADERBOARD = REPO / "leaderboard"
# Two v1 runs as the leaderboard held them before its migration (commit d59c67a): a neural one (with a
# training log) and a reference one, on one dataset.
V1_LEADERBOARD = REPO / "tests" / "fixtures" / "leaderboard-v1"
V1_RUNS = ("synthetic/peter/split-1", "synthetic/item-popular/split-1")


def _spec(home: Path, **changes) -> RunSpec:
    values = dict(model="item-popular", data=DATA, config=ReferenceConfig(), home=home, n_boot=20,
                  meteor=False, progress=False)
    values.update(changes)
    return RunSpec(**values)


def test_shipped_json_schema_files_are_current():
    for name, model in schemas.SCHEMA_FILES.items():
        shipped = (schemas.SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert shipped == schemas.json_schema(model), f"{name} is stale: python -m explainbench.api.schemas"


def test_code_hash_counts_python_source_only(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "README.md").write_text("docs\n")
    before = provenance.code_sha256([pkg])
    (pkg / "README.md").write_text("other docs\n")
    (pkg / "notes.yaml").write_text("a: 1\n")
    assert provenance.code_sha256([pkg]) == before
    (pkg / "a.py").write_text("x = 2\n")
    assert provenance.code_sha256([pkg]) != before


def test_a_metric_fix_rescores_under_a_new_id_without_retraining(home, tmp_path, monkeypatch):
    metrics_copy = tmp_path / "metrics"
    shutil.copytree(store.METRICS_CODE[0], metrics_copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(store, "METRICS_CODE", [metrics_copy])
    first = run_experiment(_spec(home), log=lambda m: None)
    assert first.status == "finished" and "train" not in first.stages_skipped

    (metrics_copy / "NOTES.md").write_text("a documentation edit\n")
    again = run_experiment(_spec(home), log=lambda m: None)
    assert (again.status, again.run_id) == ("skipped", first.run_id)

    with open(metrics_copy / "text.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a fix to a metric\n")
    said: list[str] = []
    fixed = run_experiment(_spec(home), log=said.append)
    assert fixed.status == "finished" and fixed.run_id != first.run_id
    assert {"train", "generate"} <= set(fixed.stages_skipped)
    assert any("reusing" in m for m in said) and not any(m.startswith("train: item-popular on") for m in said)
    assert fixed.results["generation_key"] == first.results["generation_key"]
    assert read_samples(fixed.run_dir / "samples.jsonl") == read_samples(first.run_dir / "samples.jsonl")
    assert fixed.results["metrics"] == first.results["metrics"]  # the edit changed no number here

    other_boot = run_experiment(_spec(home, boot_seed=7), log=lambda m: None)
    assert other_boot.run_id not in (first.run_id, fixed.run_id)
    assert {"train", "generate"} <= set(other_boot.stages_skipped)
    assert other_boot.results["scoring"] == {"n_boot": 20, "boot_seed": 7, "meteor": False}


def test_results_record_identity_and_provenance(home):
    out = run_experiment(_spec(home, scale="cpu-small", n_boot=21), log=lambda m: None)  # a new run
    res = read_results(out.results_path)
    assert res["schema_version"] == SCHEMA_VERSION == 2
    assert res["scale"] == "cpu-small"
    assert res["test_ids_sha256"] == ids_digest(read_samples(out.run_dir / "samples.jsonl"))
    assert res["git_commit"] == provenance.git_commit()
    assert res["git_dirty"] == provenance.git_dirty()
    assert isinstance(res["git_diff_sha256"], str) and len(res["code_sha256"]) == 64
    for lib in ("torch", "numpy", "datasets", "pyarrow", "tokenizers", "sacrebleu", "nltk", "pydantic"):
        assert lib in res["versions"], lib
    text = out.results_path.read_text(encoding="utf-8")
    assert "\n" not in text.rstrip("\n") and ", " not in text[:200]  # compact


def test_evaluate_writes_what_run_writes_through_the_same_validator(home, tmp_path):
    run = run_experiment(_spec(home), log=lambda m: None)
    outputs = tmp_path / "system" / "outputs.jsonl"
    outputs.parent.mkdir()
    outputs.write_text("".join(json.dumps({"user_id": s.user_id, "item_id": s.item_id,
                                           "explanation": s.generated}) + "\n"
                               for s in read_samples(run.run_dir / "samples.jsonl")), encoding="utf-8")
    result = invoke(home, "evaluate", "--samples", str(outputs), "--data", DATA, "--n-boot", "20",
                    "--no-meteor")
    assert result.exit_code == 0, result.output
    path = outputs.parent / "results.json"
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert schemas.validate_results(on_disk, str(path)) == 2
    assert set(on_disk) == set(json.loads(run.results_path.read_text(encoding="utf-8")))
    res = read_results(path)
    assert res["n"]["cold"] == 0 and res["seeds"] == {"model": None, "bootstrap": 0}
    assert res["created"][:4].isdigit() and res["created"].endswith("+00:00")
    assert res["metrics"]["bleu1"]["value"] == run.results["metrics"]["bleu1"]["value"]

    for name, change, key in (
        ("missing", lambda d: d.pop("scoring"), "scoring"),
        ("extra", lambda d: d.update(colour="blue"), "colour"),
        ("mistyped", lambda d: d["n"].update(effective="many"), "n.effective"),
    ):
        broken = tmp_path / name / "results.json"
        broken.parent.mkdir()
        doc = json.loads(path.read_text(encoding="utf-8"))
        change(doc)
        broken.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(ValueError) as err:
            read_results(broken)
        message = str(err.value)
        assert "\n" not in message and str(broken) in message and repr(key) in message, message
        shutil.copy(outputs, broken.parent / "samples.jsonl")
        cli = invoke(home, "leaderboard", "add", str(broken.parent), "--root", str(tmp_path / "lb"))
        assert cli.exit_code == 2 and str(broken) in cli.output and repr(key) in cli.output, cli.output
        assert len(cli.output.strip().splitlines()) == 1, cli.output


def test_v1_results_from_the_leaderboard_still_read(tmp_path):
    src = V1_LEADERBOARD / V1_RUNS[0] / "results.json"
    copy = tmp_path / "results.json"
    shutil.copy(src, copy)
    raw = json.loads(src.read_text(encoding="utf-8"))
    res = read_results(copy)
    assert res["schema_version"] == 1 and res["run_id"] == raw["run_id"]
    assert res["metrics"] == raw["metrics"] and res["per_count"] == raw["per_count"]
    assert all(res[k] is None for k in V2_ONLY_KEYS)


def test_leaderboard_add_refuses_a_dirty_run_unless_allowed(home, tmp_path):
    run = run_experiment(_spec(home), log=lambda m: None)
    dirty = tmp_path / "dirty-run"
    shutil.copytree(run.run_dir, dirty, ignore=shutil.ignore_patterns("model", ".lock"))
    doc = json.loads((dirty / "results.json").read_text(encoding="utf-8"))
    doc.update(git_commit="0" * 40, git_dirty=True)
    (dirty / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    root = tmp_path / "lb"
    refused = invoke(home, "leaderboard", "add", str(dirty), "--root", str(root), "--no-stats")
    assert refused.exit_code == 2 and "--allow-dirty" in refused.output
    assert len(refused.output.strip().splitlines()) == 1 and not root.exists()
    allowed = invoke(home, "leaderboard", "add", str(dirty), "--root", str(root), "--no-stats",
                     "--allow-dirty")
    assert allowed.exit_code == 0, allowed.output


def test_migrate_rewrites_a_leaderboard_copy_in_place_and_is_idempotent(home, tmp_path):
    root = tmp_path / "leaderboard"
    for rel in V1_RUNS:
        shutil.copytree(V1_LEADERBOARD / rel, root / rel)
    shutil.copy(V1_LEADERBOARD / "synthetic" / "dataset.json", root / "synthetic" / "dataset.json")
    readme_before = render_readme(root)
    before = {rel: json.loads((root / rel / "results.json").read_text(encoding="utf-8")) for rel in V1_RUNS}
    plain = {rel: (root / rel / "samples.jsonl").read_bytes() for rel in V1_RUNS}

    result = invoke(home, "leaderboard", "migrate", str(root))
    assert result.exit_code == 0, result.output
    for rel in V1_RUNS:
        folder = root / rel
        assert not (folder / "samples.jsonl").exists() and not (folder / "train_log.jsonl").exists()
        assert gzip.decompress((folder / "samples.jsonl.gz").read_bytes()) == plain[rel]
        res = read_results(folder / "results.json")
        old = before[rel]
        assert res["schema_version"] == 2 and res["run_id"] == old["run_id"]
        assert res["metrics"] == old["metrics"] and res["buckets"] == old["buckets"]
        assert res["per_count"] == old["per_count"]
        assert res["scale"] == "cpu-small" and res["git_dirty"] is None and res["code_sha256"] is None
        assert res["scoring"] == {"n_boot": old["bootstrap"]["n"], "boot_seed": old["bootstrap"]["seed"],
                                  "meteor": "meteor" in old["metrics"]}
        assert res["test_ids_sha256"] == ids_digest(read_samples(folder / "samples.jsonl.gz"))
    assert (root / V1_RUNS[0] / "train_log.jsonl.gz").is_file()
    assert render_readme(root) == readme_before

    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = invoke(home, "leaderboard", "migrate", str(root))
    assert again.exit_code == 0 and "0 files" in again.output, again.output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot
