"""check_explainer(): the conformance suite a plugin author runs on their own explainer.

Modelled on scikit-learn's utils/estimator_checks.py: one call, a fixed small dataset
(`synthetic-tiny`, built locally in seconds), and a clear AssertionError naming the first broken
promise. The promises are those of explainbench.api.Explainer:

1. the class: a `name`, a dataclass `config_class` whose defaults build and round-trip through
   to_dict / from_dict, and from_dict refuses an unknown key;
2. fit(train, validation, context) returns the explainer; explain(requests) returns one
   Explanation per request, in order, with text, and a finite rating / a string feature where given;
3. explain() is deterministic: asking twice gives the same answers;
4. save(dir) then load(dir) gives identical outputs;
5. two fresh fits with the same config (and seed) give identical outputs;
6. bad requests raise RequestError: an unknown user, an unknown item, a NaN rating, and (for
   takes_feature models) a missing feature.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.api.explainer import (
    ExplainContext,
    Explainer,
    ExplainerConfig,
    ExplainRequest,
    Explanation,
    RequestError,
)

CHECK_DATASET = "synthetic-tiny"
UNKNOWN_USER = "__explainbench_unknown_user__"
UNKNOWN_ITEM = "__explainbench_unknown_item__"


@dataclass
class CheckReport:
    """What check_explainer verified, with timings and a few example outputs."""

    explainer: str
    config: dict[str, Any]
    n_requests: int
    passed: list[str] = field(default_factory=list)
    fit_s: float = 0.0
    explain_s: float = 0.0
    examples: list[tuple[ExplainRequest, Explanation]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"{self.explainer}: {len(self.passed)} checks passed on {CHECK_DATASET} "
            f"({self.n_requests} requests, fit {self.fit_s:.2f}s, explain {self.explain_s:.2f}s)"
        ]
        lines += [f"  ok  {name}" for name in self.passed]
        return "\n".join(lines)


def _fail(name: str, message: str) -> AssertionError:
    return AssertionError(f"check_explainer({name}): {message}")


def _resolve_config(
    cls: type[Explainer], config: ExplainerConfig | Mapping[str, Any] | None
) -> ExplainerConfig:
    if config is None:
        return cls.config_class()
    if isinstance(config, ExplainerConfig):
        return config
    from explainbench.runner.config import apply_overrides

    return apply_overrides(cls.config_class, [("check_explainer config", dict(config))])


def _check_class(cls: type[Explainer], label: str, passed: list[str]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Explainer)):
        raise _fail(label, f"{cls!r} is not a subclass of explainbench.api.Explainer")
    if not isinstance(cls.name, str) or not cls.name:
        raise _fail(label, "the class has no `name` (set name: ClassVar[str] = 'my-model')")
    config_class = cls.config_class
    if not (dataclasses.is_dataclass(config_class) and issubclass(config_class, ExplainerConfig)):
        raise _fail(label, f"config_class {config_class!r} must be a dataclass subclassing ExplainerConfig")
    try:
        defaults = config_class()
    except TypeError as exc:
        raise _fail(label, f"{config_class.__name__}() needs arguments ({exc}); give every field a default") \
            from None
    again = config_class.from_dict(defaults.to_dict())
    if again != defaults:
        raise _fail(label, f"{config_class.__name__}.from_dict(to_dict()) does not give the same config")
    try:
        config_class.from_dict({**defaults.to_dict(), "__no_such_key__": 1})
    except (ValueError, TypeError):
        pass
    else:
        raise _fail(label, f"{config_class.__name__}.from_dict accepted an unknown key")
    passed.append("class: name, config dataclass, to_dict/from_dict round trip, unknown keys refused")


def _check_outputs(label: str, requests: Sequence[ExplainRequest], outputs: Any, what: str) -> None:
    if not isinstance(outputs, list):
        raise _fail(label, f"{what}: explain() returned {type(outputs).__name__}, expected a list")
    if len(outputs) != len(requests):
        raise _fail(label, f"{what}: explain() gave {len(outputs)} explanations for {len(requests)} requests")
    for k, out in enumerate(outputs):
        if not isinstance(out, Explanation):
            raise _fail(label, f"{what}: output {k} is {type(out).__name__}, expected Explanation")
        if not isinstance(out.text, str):
            raise _fail(label, f"{what}: output {k} text is {type(out.text).__name__}, expected str")
        finite = isinstance(out.rating, (int, float)) and math.isfinite(out.rating)
        if out.rating is not None and not finite:
            raise _fail(label, f"{what}: output {k} rating {out.rating!r} is not a finite number or None")
        if out.feature is not None and not isinstance(out.feature, str):
            raise _fail(label, f"{what}: output {k} feature {out.feature!r} is not a str or None")
    if outputs and all(not out.text.strip() for out in outputs):
        raise _fail(label, f"{what}: every explanation is empty")


def _same(label: str, requests: Sequence[ExplainRequest], a: list[Explanation], b: list[Explanation],
          what: str) -> None:
    diffs = [k for k, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if diffs:
        k = diffs[0]
        r = requests[k]
        raise _fail(
            label,
            f"{what} changed {len(diffs)} of {len(a)} outputs; first: request ({r.user_id!r}, {r.item_id!r}, "
            f"{r.rating}) gave {a[k]!r} then {b[k]!r}",
        )


def _expect_refusal(label: str, explainer: Explainer, request: ExplainRequest, why: str) -> None:
    try:
        explainer.explain([request])
    except RequestError:
        return
    except Exception as exc:  # noqa: BLE001 - we report which exception came instead
        raise _fail(label, f"a request with {why} raised {type(exc).__name__} ({exc}); raise RequestError") \
            from exc
    raise _fail(label, f"a request with {why} was answered; raise explainbench.api.RequestError instead")


def check_explainer(
    cls: type[Explainer],
    *,
    config: ExplainerConfig | Mapping[str, Any] | None = None,
    home: Path | None = None,
    split: int = 1,
    n_requests: int = 64,
    device: str = "cpu",
) -> CheckReport:
    """Run the conformance checks on cls; returns a CheckReport or raises AssertionError.

    config: a config instance, or a mapping of overrides on the class defaults (e.g. a tiny network
    for a neural model). home: where synthetic-tiny is prepared (default $EXPLAINBENCH_HOME).
    """
    label = getattr(cls, "name", "") or getattr(cls, "__name__", repr(cls))
    passed: list[str] = []
    _check_class(cls, label, passed)
    resolved = _resolve_config(cls, config)

    from explainbench.data import ensure_dataset, explainbench_home, load_split, load_tokenizer
    from explainbench.runner.store import dataset_lock_path, locked

    data_home = Path(home) if home is not None else Path(explainbench_home())
    with locked(dataset_lock_path(data_home, CHECK_DATASET)):
        ensure_dataset(CHECK_DATASET, home=data_home)
    dd = load_split(CHECK_DATASET, split, home=data_home)
    tokenizer = load_tokenizer(CHECK_DATASET, split, home=data_home)
    test = dd["test"].select(range(min(n_requests, len(dd["test"]))))
    takes_feature = bool(getattr(cls, "takes_feature", False))
    rows = test[:]
    requests = [
        ExplainRequest(str(u), str(i), float(r), (f or None) if takes_feature else None)
        for u, i, r, f in zip(rows["user_id"], rows["item_id"], rows["rating"], rows["feature"], strict=True)
    ]
    if takes_feature:
        requests = [r for r in requests if r.feature] or requests
    report = CheckReport(label, resolved.to_dict(), len(requests), passed)

    with tempfile.TemporaryDirectory(prefix="explainbench-check-") as tmp:
        root = Path(tmp)

        def fresh_fit(tag: str) -> Explainer:
            context = ExplainContext(
                tokenizer=tokenizer,
                run_dir=root / tag,
                device=device,
                resume=False,
                progress=False,
                dataset_name=CHECK_DATASET,
            )
            (root / tag).mkdir()
            model = cls(dataclasses.replace(resolved))
            fitted = model.fit(dd["train"], dd["validation"], context=context)
            if fitted is not model:
                raise _fail(label, "fit() must return self")
            return model

        start = time.perf_counter()
        first = fresh_fit("fit-a")
        report.fit_s = time.perf_counter() - start
        start = time.perf_counter()
        outputs = first.explain(requests)
        report.explain_s = time.perf_counter() - start
        _check_outputs(label, requests, outputs, "fit + explain")
        passed.append(f"fit on {CHECK_DATASET} and explain {len(requests)} test requests")
        report.examples = list(zip(requests[:3], outputs[:3], strict=True))

        _same(label, requests, outputs, first.explain(requests), "asking explain() twice")
        passed.append("explain() is deterministic")

        saved = root / "saved"
        saved.mkdir()
        first.save(saved)
        loaded = cls.load(saved)
        if not isinstance(loaded, cls):
            raise _fail(label, f"load() returned {type(loaded).__name__}, expected {cls.__name__}")
        _same(label, requests, outputs, loaded.explain(requests), "save() then load()")
        passed.append("save/load round trip gives identical outputs")

        second = fresh_fit("fit-b")
        _same(label, requests, outputs, second.explain(requests), "a second fit with the same seed")
        passed.append("same config and seed: identical outputs from two fresh fits")

        good = requests[0]
        _expect_refusal(label, first, dataclasses.replace(good, user_id=UNKNOWN_USER), "an unknown user")
        _expect_refusal(label, first, dataclasses.replace(good, item_id=UNKNOWN_ITEM), "an unknown item")
        _expect_refusal(label, first, dataclasses.replace(good, rating=float("nan")), "a NaN rating")
        refused = "unknown user, unknown item, NaN rating"
        if takes_feature:
            _expect_refusal(label, first, dataclasses.replace(good, feature=None), "no feature")
            refused += ", missing feature"
        try:
            first.explain([*requests[:2], dataclasses.replace(good, item_id=UNKNOWN_ITEM)])
        except RequestError:
            pass
        else:
            raise _fail(label, "a batch holding one unknown item was answered; raise RequestError")
        passed.append(f"bad requests raise RequestError ({refused})")
    return report
