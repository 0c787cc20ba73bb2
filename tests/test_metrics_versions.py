"""A metric's values on the golden vectors may change only together with its implementation version."""

from __future__ import annotations

import json

import pytest
from update_metric_versions import VERSIONS_FILE, build, fingerprint, recorded_metrics

from explainbench.metrics import IMPL_VERSIONS

FIX = (
    "bump IMPL_VERSIONS[{name!r}] in explainbench/metrics/registry.py, then run "
    "`python -m tests.update_metric_versions`"
)


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def now() -> dict:
    return build()


def test_every_metric_is_recorded_with_values(recorded):
    missing = sorted(set(recorded_metrics()) - set(recorded))
    assert not missing, f"{missing} not in {VERSIONS_FILE.name}: run `python -m tests.update_metric_versions`"
    removed = set(recorded) - set(recorded_metrics())
    assert not removed, f"{VERSIONS_FILE.name} lists removed metrics {sorted(removed)}: regenerate it"
    for name, entry in recorded.items():
        assert entry["values"], name
        assert entry["fingerprint"] == fingerprint(entry["values"]), f"{name}: edited by hand?"


@pytest.mark.parametrize("name", recorded_metrics())
def test_values_change_only_with_the_version(name, recorded, now):
    old = recorded.get(name)
    assert old is not None, f"{name} not recorded: run `python -m tests.update_metric_versions`"
    new = now[name]
    if old["version"] == IMPL_VERSIONS[name]:
        assert new["fingerprint"] == old["fingerprint"], (
            f"{name}'s values on the golden vectors changed (recorded {old['values']}, now {new['values']}) "
            f"but its version is still {IMPL_VERSIONS[name]}: " + FIX.format(name=name)
        )
    else:
        pytest.fail(
            f"{name}'s version is {IMPL_VERSIONS[name]}, recorded {old['version']}: run "
            "`python -m tests.update_metric_versions` to record the values of the new version",
            pytrace=False,
        )


def test_the_check_catches_a_changed_value(recorded):
    """The fingerprint sees a change far below any value's precision (one part in 1e8)."""
    values = dict(recorded["bleu4"]["values"])
    case = max(values, key=values.get)
    values[case] *= 1 + 1e-8
    assert fingerprint(values) != recorded["bleu4"]["fingerprint"]
