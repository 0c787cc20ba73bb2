"""The entry-point registry: discovery, lazy loading, unknown names with "did you mean"."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explainbench.api.registry import (
    Registry,
    RegistryEntry,
    RegistryError,
    available,
    did_you_mean,
    get_explainer,
    registry,
)


def test_reference_explainers_register_through_pyproject_entry_points():
    entries = {e.name: e for e in available("explainers")}
    for name, cls_name in (
        ("random-train", "RandomTrain"),
        ("global-popular", "GlobalPopular"),
        ("item-popular", "ItemPopular"),
    ):
        assert entries[name].package == "explainbench"
        assert entries[name].target == f"baselines.reference:{cls_name}"
        assert get_explainer(name).__name__ == cls_name
        assert get_explainer(name).name == name


def test_full_group_name_is_accepted():
    assert [e.name for e in available("explainbench.explainers")] == [e.name for e in available("explainers")]
    with pytest.raises(RegistryError, match="unknown registry group 'models'"):
        available("models")


def test_unknown_name_lists_known_names_and_suggests_the_closest():
    with pytest.raises(RegistryError) as err:
        get_explainer("item-popluar")
    message = str(err.value)
    assert message.startswith("unknown explainer 'item-popluar'. Did you mean 'item-popular'")
    assert "Known explainers:" in message
    for name in ("random-train", "global-popular", "item-popular"):
        assert name in message


def test_did_you_mean_is_empty_when_nothing_is_close():
    assert did_you_mean("zzzzzz", ["peter", "nrt"]) == ""
    assert did_you_mean("petr", ["peter", "nrt"]) == " Did you mean 'peter'?"


def test_loading_is_lazy():
    code = (
        "import sys; from explainbench.api.registry import available;"
        "names = [e.name for e in available('explainers')];"
        "assert 'random-train' in names;"
        "print('baselines.reference' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_broken_target_names_the_package():
    entry = RegistryEntry("broken", "explainers", "no_such_module_xyz:Thing", "some-plugin", "1.0")
    with pytest.raises(RegistryError, match="'broken' \\(package some-plugin\\).*cannot be loaded"):
        entry.load()
    with pytest.raises(RegistryError, match="must look like 'module.path:ClassName'"):
        RegistryEntry("bad", "explainers", "just_a_module", "p").load()


def test_runtime_registration_and_type_check():
    reg = registry("explainers")
    reg.register("not-an-explainer", object())
    try:
        with pytest.raises(RegistryError, match="not a subclass of explainbench.api.Explainer"):
            get_explainer("not-an-explainer")
    finally:
        reg.unregister("not-an-explainer")
    with pytest.raises(RegistryError, match="already declared by package explainbench"):
        reg.register("random-train", object())


def test_a_name_declared_by_two_packages_is_refused():
    reg = Registry("explainers")
    reg._scanned = {
        "twin": [
            RegistryEntry("twin", "explainers", "a.mod:X", "pkg-a"),
            RegistryEntry("twin", "explainers", "b.mod:X", "pkg-b"),
        ]
    }
    with pytest.raises(RegistryError, match="declared by several packages.*pkg-a.*pkg-b"):
        reg.get("twin")


def test_list_command_shows_source_packages():
    import json

    from typer.testing import CliRunner

    from explainbench.cli.main import app

    result = CliRunner().invoke(app, ["list", "explainers", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["explainers"]}
    assert rows["global-popular"] == {
        "name": "global-popular", "package": "explainbench", "version": "0.1.0",
        "target": "baselines.reference:GlobalPopular",
    }
    metrics = json.loads(CliRunner().invoke(app, ["list", "metrics", "--json"]).stdout)["metrics"]
    assert {"bleu1", "rougeL_f", "meteor"} <= {r["name"] for r in metrics}
    bad = CliRunner().invoke(app, ["list", "explainer"])
    assert bad.exit_code == 2 and "unknown group 'explainer'" in bad.stderr
