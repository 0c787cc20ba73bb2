"""Start-up cost: the CLI imports heavy libraries only inside the commands that need them.

Each check runs in a fresh interpreter (this test process has imported everything already) and lists
which heavy modules ended up in sys.modules. No timings are asserted here: benchmarks/ measure them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import explainbench.data

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("datasets", "pandas", "pyarrow", "torch", "matplotlib", "nltk", "sacrebleu")

# Runs the CLI in-process with the given arguments, then writes the loaded heavy modules to a file.
_PROBE = """
import json, sys
argv, out, heavy = sys.argv[1:-2], sys.argv[-2], sys.argv[-1].split(",")
from explainbench.cli.main import main
sys.argv = ["explainbench", *argv]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
with open(out, "w") as fh:
    json.dump({"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}, fh)
"""


def _env(home: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "EXPLAINBENCH_HOME": str(home)}


def run_probe(tmp_path: Path, *argv: str, heavy: tuple[str, ...] = HEAVY) -> tuple[dict, str]:
    """(exit code and loaded heavy modules, stdout) of `explainbench ARGV` in a fresh interpreter."""
    out = tmp_path / "probe.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv, str(out), ",".join(heavy)],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.is_file(), proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_cli_help_imports_no_heavy_library(tmp_path):
    result, stdout = run_probe(tmp_path, "--help")
    assert result == {"code": 0, "loaded": []}
    for command in ("data", "score", "run", "report"):  # every command group is still listed
        assert command in stdout


def test_command_group_help_imports_no_heavy_library(tmp_path):
    result, stdout = run_probe(tmp_path, "data", "--help")
    assert result == {"code": 0, "loaded": []}
    assert "prepare" in stdout and "import" in stdout


def test_data_submodules_load_without_datasets(tmp_path):
    code = (
        "import sys, explainbench.data, explainbench.data.buckets, explainbench.data.errors\n"
        "print(','.join(m for m in ('datasets', 'pandas', 'pyarrow') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == ""


def test_data_package_names_resolve_on_use():
    for name in explainbench.data.__all__:
        assert getattr(explainbench.data, name) is not None
    from explainbench.data import load_split
    from explainbench.data.load import load_split as defined

    assert load_split is defined
    assert set(explainbench.data.__all__) <= set(dir(explainbench.data))


def test_score_family_ref_loads_no_standard_metric_package(tmp_path):
    (tmp_path / "refs.txt").write_text("the sound is great\n", encoding="utf-8")
    (tmp_path / "hyps.txt").write_text("the sound is good\n", encoding="utf-8")
    heavy = (*HEAVY, "rouge_score", "transformers", "scipy")
    result, stdout = run_probe(
        tmp_path, "score", "refs.txt", "hyps.txt", "--family", "ref", "--format", "json", heavy=heavy
    )
    assert result == {"code": 0, "loaded": []}
    out = json.loads(stdout)
    assert out["bleu1"] == 75.0 and "sacrebleu" not in out and "meteor" not in out
