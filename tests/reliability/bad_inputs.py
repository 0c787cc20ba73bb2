"""The malformed inputs the reliability suite feeds the CLI: each must give one `error:` line naming
the file, record or option, exit 2, and change nothing in the home. This table is data:
tests/reliability/test_bad_inputs.py runs every row and docs/reliability.md lists them
(`python -m tests.reliability.bad_inputs --write docs/reliability.md` rewrites the table there)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUNS = "runs/synthetic-tiny/split-1/nrt"
REPO_DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
Setup = Callable[[Path, Path], list[str]]  # (home, scratch folder) -> CLI arguments


@dataclass(frozen=True)
class BadInput:
    name: str
    what: str  # the bad input, for the doc
    expect: str  # a fragment the one error line must contain
    setup: Setup


def _run_dir(home: Path) -> Path:
    (rdir,) = [p.parent for p in (home / RUNS).glob("*/results.json")]
    return rdir


def _edit_results(edit: Callable[[dict], dict | str]) -> Setup:
    def setup(home: Path, tmp: Path) -> list[str]:
        path = _run_dir(home) / "results.json"
        doc = edit(json.loads(path.read_text(encoding="utf-8")))
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        return ["compare", "--data", "synthetic-tiny"]
    return setup


def _drop(key: str) -> Callable[[dict], dict]:
    return lambda d: {k: v for k, v in d.items() if k != key}


def _write(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path
    return make


def _score(refs: bytes | str, hyps: bytes | str, *extra: str) -> Setup:
    def setup(home: Path, tmp: Path) -> list[str]:
        return ["score", str(_write("refs.txt", refs)(tmp)), str(_write("hyps.txt", hyps)(tmp)), *extra]
    return setup


def _evaluate(lines: str) -> Setup:
    def setup(home: Path, tmp: Path) -> list[str]:
        path = _write("outputs.jsonl", lines)(tmp)
        return ["evaluate", "--samples", str(path), "--data", "synthetic-tiny", "--split", "1",
                "--n-boot", "0", "--no-meteor"]
    return setup


def _run(*args: str) -> Setup:
    return lambda home, tmp: ["run", "--model", "nrt", "--data", "synthetic-tiny", "--no-progress",
                              "--n-boot", "0", "--no-meteor", *args]


def _recipe(text: str, *args: str) -> Setup:
    def setup(home: Path, tmp: Path) -> list[str]:
        path = _write("recipe.yaml", text)(tmp)
        return ["run", "--recipe", str(path), "--data", "synthetic-tiny", "--no-progress", *args]
    return setup


def _break_dataset(edit: Callable[[Path], None], *cmd: str) -> Setup:
    def setup(home: Path, tmp: Path) -> list[str]:
        edit(home / "datasets" / "synthetic-tiny")
        return list(cmd) or ["data", "stats", "synthetic-tiny"]
    return setup


def _remove_split_file(folder: Path) -> None:
    (folder / "splits" / "split-1.parquet").unlink()


def _truncate_manifest(folder: Path) -> None:
    path = folder / "manifest.json"
    path.write_text(path.read_text(encoding="utf-8")[:40], encoding="utf-8")


def _foreign_weights(home: Path, tmp: Path) -> list[str]:
    """The finished run's saved weights replaced by those of a wider network (another size)."""
    import torch

    run = _run_dir(home)
    path = run / "model" / "weights.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    name = next(k for k, v in state.items() if v.dim() == 2)
    state[name] = torch.zeros(state[name].shape[0], state[name].shape[1] + 3)
    torch.save(state, path)
    return ["probe", "identity", str(run)]


def _missing_outputs(home: Path, tmp: Path) -> list[str]:
    """One output line for a test split of many records (no --allow-partial)."""
    from explainbench.data.load import load_split

    rec = load_split("synthetic-tiny", 1, home=home)["test"][0]
    line = json.dumps({"user_id": rec["user_id"], "item_id": rec["item_id"], "explanation": "good tone"})
    return _evaluate(line + "\n")(home, tmp)


def _raw_rating(home: Path, tmp: Path) -> list[str]:
    """An Amazon review rated 7 on a 1-5 star scale."""
    lines = [{"reviewerID": "U1", "asin": "B1", "overall": 5.0, "reviewText": "The strap is sturdy."},
             {"reviewerID": "U2", "asin": "B1", "overall": 7.0, "reviewText": "Great tone for the money."}]
    path = _write("reviews.json", "".join(json.dumps(x) + "\n" for x in lines))(tmp)
    return ["data", "import", "amazon", str(path), "--name", "raw-bad"]


GOOD_RECIPE = ("model: nrt\ndata: synthetic-tiny\nconfig:\n  emb_size: 8\n"
               "scales:\n  small:\n    max_epochs: 1\n")

CASES: tuple[BadInput, ...] = (
    BadInput("results-truncated", "a results.json cut in the middle", "results.json",
             _edit_results(lambda d: json.dumps(d)[:200])),
    BadInput("results-missing-key", "a results.json without `metrics`", "metrics",
             _edit_results(_drop("metrics"))),
    BadInput("results-extra-key", "a results.json with an unknown key", "surprise",
             _edit_results(lambda d: {**d, "surprise": 1})),
    BadInput("results-mistyped", "a results.json whose `split` is text", "split",
             _edit_results(lambda d: {**d, "split": "one"})),
    BadInput("results-not-object", "a results.json holding a list", "results.json",
             _edit_results(lambda d: "[1, 2]")),
    BadInput("score-line-counts", "references and hypotheses of different lengths", "lines",
             _score("a b\nc d\n", "a b\n")),
    BadInput("score-not-utf8", "a references file that is not UTF-8", "UTF-8",
             _score(b"caf\xe9 good\n", "cafe good\n")),
    BadInput("score-empty", "an empty references file", "empty", _score("", "")),
    BadInput("score-missing-file", "a hypotheses file that does not exist", "no such",
             lambda home, tmp: ["score", str(_write("refs.txt", "a\n")(tmp)), str(tmp / "nope.txt")]),
    BadInput("evaluate-not-json", "an outputs line that is not JSON", "outputs.jsonl:1",
             _evaluate("{not json\n")),
    BadInput("evaluate-missing-field", "an outputs line without user_id", "outputs.jsonl:1",
             _evaluate(json.dumps({"item_id": "i1", "explanation": "good"}) + "\n")),
    BadInput("evaluate-gzip-garbage", "an outputs file of binary garbage", "outputs.jsonl",
             _evaluate(gzip.compress(b"\x00\x01").decode("latin-1"))),
    BadInput("set-wrong-type", "--set batch_size=abc", "batch_size", _run("--set", "batch_size=abc")),
    BadInput("set-unknown-key", "--set an unknown config key", "hidden_sise",
             _run("--set", "hidden_sise=8")),
    BadInput("set-no-equals", "--set without KEY=VALUE", "--set", _run("--set", "batch_size")),
    BadInput("set-precision", "--set precision=fp16", "precision", _run("--set", "precision=fp16")),
    BadInput("unknown-model", "an explainer name that is not installed", "nrtt",
             lambda home, tmp: ["run", "--model", "nrtt", "--data", "synthetic-tiny"]),
    BadInput("unknown-dataset", "a dataset name nobody prepared", "synthetic-tinyy",
             lambda home, tmp: ["run", "--model", "nrt", "--data", "synthetic-tinyy"]),
    BadInput("split-out-of-range", "--split 9 on a 5-split dataset", "split 9", _run("--split", "9")),
    BadInput("limit-zero", "--limit 0", "--limit", _run("--limit", "0")),
    BadInput("recipe-missing", "a recipe file that does not exist", "nope.yaml",
             lambda home, tmp: ["run", "--recipe", str(tmp / "nope.yaml"), "--data", "synthetic-tiny"]),
    BadInput("recipe-yaml-syntax", "a recipe that is not YAML", "recipe.yaml", _recipe("model: [nrt\n")),
    BadInput("recipe-unknown-scale", "a recipe run at a scale it does not define", "huge",
             _recipe(GOOD_RECIPE, "--scale", "huge")),
    BadInput("recipe-wrong-type", "a recipe config value of the wrong type", "emb_size",
             _recipe(GOOD_RECIPE.replace("emb_size: 8", "emb_size: [8]"), "--scale", "small")),
    BadInput("dataset-missing-split", "a dataset folder missing split 1's assignment file", "synthetic-tiny",
             _break_dataset(_remove_split_file, "run", "--model", "global-popular", "--data",
                            "synthetic-tiny", "--n-boot", "0", "--no-meteor", "--no-progress")),
    BadInput("dataset-manifest-truncated", "a dataset manifest cut in the middle", "manifest.json",
             _break_dataset(_truncate_manifest)),
    BadInput("import-peter-empty", "`data import peter` on a folder without reviews.pickle", "reviews.pickle",
             lambda home, tmp: ["data", "import", "peter", str(tmp), "--name", "bad-peter"]),
    BadInput("compare-unknown-run", "`compare --run` naming no run", "0123456789ab",
             lambda home, tmp: ["compare", "--data", "synthetic-tiny", "--run", "0123456789ab"]),
    BadInput("compare-unknown-scale", "`compare --scale` naming no run's scale", "no finished runs",
             lambda home, tmp: ["compare", "--data", "synthetic-tiny", "--scale", "enormous"]),
    BadInput("leaderboard-add-nothing", "`leaderboard add` of a folder without results.json", "results.json",
             lambda home, tmp: ["leaderboard", "add", str(tmp), "--root", str(tmp / "lb")]),
    BadInput("probe-foreign-weights", "a finished run whose saved weights are of another size", "weights.pt",
             _foreign_weights),
    BadInput("evaluate-missing-lines", "outputs for one of the split's test records", "--allow-partial",
             _missing_outputs),
    BadInput("import-raw-rating-range", "a raw Amazon review rated 7", "reviews.json:2:", _raw_rating),
)

BEGIN, END = "<!-- bad-inputs:begin -->", "<!-- bad-inputs:end -->"


def markdown(outcomes: dict[str, str] | None = None) -> str:
    rows = ["| # | bad input | command | the one line names |", "|---|---|---|---|"]
    for k, case in enumerate(CASES, 1):
        rows.append(f"| {k} | {case.what} | `{case.name}` | `{case.expect}` |")
    return "\n".join(rows)


def write_doc(path: Path) -> bool:
    """Replace the table between the markers in path; True when it changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + markdown() + "\n" + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        write_doc(Path(sys.argv[2]))
    else:
        print(markdown())
