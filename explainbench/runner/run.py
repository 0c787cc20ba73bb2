"""One run end to end: train -> generate for the test split -> samples.jsonl -> metrics -> results.json.

Each stage writes one artefact atomically and is skipped when that artefact is already complete:
model/ (the saved explainer, renamed into place), samples.jsonl (+ generate.json with its timing),
results.json (last; its presence means the run is done). Re-running a finished run is a no-op;
an interrupted one continues from the last complete stage, and with resume=True the explainer's own
training resumes from its checkpoint (ExplainContext.resume). The run folder's lock file lets two
processes ask for the same run at once: one works, the other waits and then finds it finished.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from explainbench.api.explainer import (
    ExplainContext,
    Explainer,
    ExplainerConfig,
    ExplainRequest,
    NotReadyError,
    RequestError,
)
from explainbench.api.faults import fault_point
from explainbench.api.provenance import module_folder
from explainbench.api.registry import explainer_package, get_explainer
from explainbench.api.results import (
    Sample,
    Timings,
    atomic_write_json,
    atomic_write_text,
    find_artifact,
    read_results,
    read_samples,
    results_document,
    samples_sha256,
    write_results,
    write_samples,
)
from explainbench.runner import store

Log = Callable[[str], None]
GENERATE_CHUNK = 1024
# score_samples keeps its statistics table in a module global while it works (it may fork workers
# that read it), so two threads of one process must not score at once; processes are unaffected.
_SCORE_LOCK = threading.Lock()  # requests per explain() call; the progress line advances per chunk


class RunError(RuntimeError):
    """A run that cannot go on (the message names the run folder and what to do)."""


@dataclass
class RunSpec:
    """Everything one run needs; `config` is already resolved (see runner.config.resolve_config)."""

    model: str
    data: str
    config: ExplainerConfig
    split: int = 1
    limit: int | None = None  # score only the first N test records (None: all)
    cold: str = "skip"  # test records whose user or item has no training record: skip | serve
    device: str | None = None  # None: cuda when present, else cpu
    threads: int | None = None  # torch CPU threads (None: torch's default); recorded, not in the run id
    scale: str | None = None  # the recipe scale the config was resolved at (recorded, not in the run id)
    resume: bool = False
    home: Path | None = None  # None: $EXPLAINBENCH_HOME or ~/.cache/explainbench
    n_boot: int = 1000
    boot_seed: int = 0
    meteor: bool = True
    bertscore: str | None = None  # a BERTScore model (Hub id or folder); None: no BERTScore. In the run id
    progress: bool = True
    score_workers: int | None = None  # processes for scoring (None: 2 from 20,000 samples); not in the id
    world_size: int = 1  # data-parallel training processes (set under torchrun); in the id when > 1


@dataclass
class RunOutcome:
    """What run_experiment did: "finished" (this call did the work) or "skipped" (already done)."""

    status: str
    run_id: str
    run_dir: Path
    results: dict[str, Any]
    stages_skipped: list[str] = field(default_factory=list)

    @property
    def results_path(self) -> Path:
        return self.run_dir / store.RESULTS_FILE


def default_device() -> str:
    """cuda when torch is loaded (the explainer's module imported it) and sees a GPU, else cpu.

    An explainer that never imports torch (the reference explainers) runs on the CPU, and the run
    does not pay torch's import time.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _set_threads(threads: int | None) -> int | None:
    """Apply --threads to torch (when the explainer loaded torch); the thread count in use, or None.

    On a shared CPU, torch's default of one thread per core can run many times slower than one
    thread (the threads wait on each other); the count can also change the last digits of a result.
    """
    torch = sys.modules.get("torch")
    if threads is not None:
        if threads < 1:
            raise RunError(f"--threads must be at least 1, not {threads}")
        if torch is not None:
            torch.set_num_threads(threads)
    return int(torch.get_num_threads()) if torch is not None else None


def resolved_precision_config(config: ExplainerConfig, device: str) -> ExplainerConfig:
    """config with precision "auto" replaced by what the device computes natively (fp32 or bf16), so
    the run's id and its config.yaml name the precision that produced its numbers."""
    if getattr(config, "precision", None) != "auto":
        return config
    from explainbench.engine.precision import resolve_precision

    return dataclasses.replace(config, precision=resolve_precision("auto", device))


def _home(spec_home: Path | None) -> Path:
    if spec_home is not None:
        return Path(spec_home)
    from explainbench.data import explainbench_home

    return Path(explainbench_home())


def _prepare_dataset(data: str, home: Path) -> dict[str, Any]:
    """ensure_dataset under a home-wide lock (two runs never build one dataset twice); the manifest."""
    from explainbench.data import ensure_dataset, load_manifest

    with store.locked(store.dataset_lock_path(home, data)):
        ensure_dataset(data, home=home)
    return load_manifest(data, home=home)


def _buckets(manifest: dict[str, Any]) -> tuple:
    from explainbench.data.buckets import DEFAULT_BUCKETS, Bucket

    spec = manifest.get("buckets")
    return tuple(Bucket.from_dict(b) for b in spec) if spec else DEFAULT_BUCKETS


def _rating_range(manifest: dict[str, Any]) -> tuple[float, float]:
    lo, hi = manifest.get("rating_range") or (1.0, 5.0)
    return float(lo), float(hi)


COLD_POLICIES = ("skip", "serve")


def _cold_filter(test: Any, policy: str) -> tuple[Any, int]:
    """(test records to explain, number of cold records) under the cold-start policy.

    A cold record's user or item has no training record in the split (user_train_count or
    item_train_count is 0): published splits can hold some (PETER-format Amazon MI: about 5% of the
    test set), while explainers built from training ids refuse them (RequestError). "skip" leaves
    them out for every model alike, so all models are scored on the same records; "serve" passes
    them on (an explainer that cannot serve them makes the run fail).
    """
    counts = test.select_columns(["user_train_count", "item_train_count"])[:]
    warm = [k for k, (u, i) in enumerate(zip(counts["user_train_count"], counts["item_train_count"],
                                             strict=True)) if u > 0 and i > 0]
    n_cold = len(test) - len(warm)
    if policy == "skip" and n_cold:
        return test.select(warm), n_cold
    return test, n_cold


def requests_for(test: Any, *, takes_feature: bool) -> list[ExplainRequest]:
    """One request per test record: the record's user, item and rating (the recommender's rating,
    as in the paper), and its ground-truth feature only for models that take one."""
    rows = test.select_columns(["user_id", "item_id", "rating", "feature"])[:]
    features = rows["feature"] if takes_feature else [None] * len(rows["user_id"])
    return [
        ExplainRequest(
            user_id=str(u),
            item_id=str(i),
            rating=float(r),
            feature=(f or None) if takes_feature else None,
        )
        for u, i, r, f in zip(rows["user_id"], rows["item_id"], rows["rating"], features, strict=True)
    ]


def samples_for(test: Any, explanations: Sequence[Any], tokenizer: Any) -> list[Sample]:
    """samples.jsonl lines: ids, rating, the tokenizer-mapped reference, the generated text, the
    model's predicted rating and feature, the bucket counts and the synthetic ground truth."""
    rows = test[:]
    out: list[Sample] = []
    for k, explanation in enumerate(explanations):
        out.append(
            Sample(
                user_id=str(rows["user_id"][k]),
                item_id=str(rows["item_id"][k]),
                rating=float(rows["rating"][k]),
                reference=tokenizer.reference(rows["explanation"][k] or ""),
                generated=str(explanation.text),
                feature=str(rows["feature"][k] or ""),
                user_train_count=int(rows["user_train_count"][k]),
                item_train_count=int(rows["item_train_count"][k]),
                predicted_rating=None if explanation.rating is None else float(explanation.rating),
                predicted_feature=explanation.feature,
                aspect=str(rows.get("aspect", [""] * len(explanations))[k] or ""),
                aspect_terms=list(rows.get("aspect_terms", [[]] * len(explanations))[k] or []),
                detail=str(rows.get("detail", [""] * len(explanations))[k] or ""),
            )
        )
    return out


def _explain_all(explainer: Explainer, requests: list[ExplainRequest], progress: bool) -> list[Any]:
    chunks = [requests[i : i + GENERATE_CHUNK] for i in range(0, len(requests), GENERATE_CHUNK)]
    out: list[Any] = []
    if not progress or len(chunks) <= 1:
        for chunk in chunks:
            out.extend(explainer.explain(chunk))
        return out
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    ) as bar:
        task = bar.add_task("generate", total=len(requests))
        for chunk in chunks:
            out.extend(explainer.explain(chunk))
            bar.advance(task, len(chunk))
    return out


def _epoch_records(explainer: Explainer) -> list[dict[str, Any]]:
    """The epoch records of an engine model's TrainResult history (none for other explainers)."""
    history = getattr(getattr(explainer, "train_result", None), "history", None) or []
    return [r for r in history if isinstance(r, dict) and r.get("kind", "epoch") == "epoch"]


def _throughput(explainer: Explainer, n_train: int, train_s: float) -> tuple[float, float | None, int | None]:
    """(examples trained on, examples/s, epochs).

    Engine models report a TrainResult whose epoch records carry examples/s and seconds of the
    training steps: their sums give the throughput without validation time, and stay right for a
    resumed run (the history covers the epochs before the interruption). Other explainers: one pass
    over the training split in train_s.
    """
    epochs = getattr(getattr(explainer, "train_result", None), "epochs", None)
    epochs = epochs if isinstance(epochs, int) and epochs > 0 else None
    seen, seconds = 0.0, 0.0
    for record in _epoch_records(explainer):
        rate, secs = record.get("examples_per_s"), record.get("train_s")
        if isinstance(rate, (int, float)) and isinstance(secs, (int, float)):
            seen += rate * secs
            seconds += secs
    if seen > 0 and seconds > 0:
        return float(round(seen)), seen / seconds, epochs
    seen = float(n_train * (epochs or 1))
    return seen, (seen / train_s if train_s > 0 else None), epochs


def _time_before_resume(explainer: Explainer) -> float:
    """Seconds of the epochs an engine model finished before the interruption it resumed from (each
    epoch record's `wall_s`, or its `train_s` in logs written before epochs recorded their wall time),
    so that a resumed run's train_s covers its whole training; 0 for a run trained in one go."""
    resumed = getattr(getattr(explainer, "train_result", None), "resumed_from_epoch", None)
    if not isinstance(resumed, int):
        return 0.0
    seconds = 0.0
    for record in _epoch_records(explainer):
        epoch = record.get("epoch")
        if isinstance(epoch, int) and epoch <= resumed:
            secs = record.get("wall_s", record.get("train_s"))
            seconds += float(secs) if isinstance(secs, (int, float)) else 0.0
    return seconds


def _train_stage(
    spec: RunSpec, cls: type[Explainer], rdir: Path, dd: Any, context: ExplainContext, log: Log
) -> tuple[Explainer, dict[str, Any], bool]:
    """Fit and save into model/ (atomically renamed), or load model/ when it is already there."""
    model_dir = rdir / store.MODEL_DIR
    if model_dir.is_dir():
        meta_path = model_dir / "train.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        log(f"train: found the trained model in {model_dir}, loading it")
        return cls.load(model_dir), meta, True
    explainer = cls(spec.config)
    start = time.perf_counter()
    explainer.fit(dd["train"], dd["validation"], context=context)
    train_s = time.perf_counter() - start + _time_before_resume(explainer)
    n_train = len(dd["train"])
    seen, rate, epochs = _throughput(explainer, n_train, train_s)
    meta = {
        "train_s": train_s,
        "n_train": n_train,
        "epochs": epochs,
        "examples_seen": seen,
        "train_examples_per_s": rate,
    }
    tmp = Path(tempfile.mkdtemp(dir=rdir, prefix=".model."))
    try:
        explainer.save(tmp)
        atomic_write_json(tmp / "train.json", meta)
        fault_point("model", path=model_dir)  # EXPLAINBENCH_FAULT hook (api/faults.py)
        os.replace(tmp, model_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return explainer, meta, False


def _write_config(rdir: Path, spec: RunSpec, run_id: str, manifest: dict[str, Any]) -> None:
    doc = {
        "run_id": run_id,
        "model": spec.model,
        "data": spec.data,
        "split": spec.split,
        "limit": spec.limit,
        "cold": spec.cold,
        "dataset_fingerprint": manifest.get("fingerprint", ""),
        "config": spec.config.to_dict(),
    }
    atomic_write_text(rdir / store.CONFIG_FILE, yaml.safe_dump(doc, sort_keys=False))


def _n_splits(manifest: dict[str, Any]) -> int | None:
    """Number of splits a manifest declares (splits.count, or the number of splits.sizes)."""
    splits = manifest.get("splits")
    if isinstance(splits, int):
        return splits
    if isinstance(splits, dict):
        if isinstance(splits.get("count"), int):
            return int(splits["count"])
        if isinstance(splits.get("sizes"), dict):
            return len(splits["sizes"])
    if isinstance(splits, list):
        return len(splits)
    return None


@dataclass
class RunIdentity:
    """What names a run: its generation key (what fixes the samples), its scoring key and its id."""

    generation_key: str
    scoring: dict[str, Any]
    run_id: str
    code_sha256: str


def _identity_inputs(cls: type, spec: RunSpec) -> dict[str, str]:
    try:
        return cls.identity_inputs(spec.config)
    except NotReadyError as exc:  # e.g. pretrained weights that are not on this machine
        raise RunError(f"{spec.model}: {exc}") from None


def run_identity(spec: RunSpec, manifest: dict[str, Any]) -> RunIdentity:
    """The generation key, scoring key and run id of a spec (see store.generation_key, store.run_id_for)."""
    from explainbench.api.provenance import package_versions

    cls = get_explainer(spec.model)
    package, package_version = explainer_package(spec.model)
    versions = {"explainbench": package_versions().get("explainbench", "")}
    if package and package != "explainbench":
        versions[package] = package_version
    model_code = module_folder(cls)
    key = store.generation_key(
        model=spec.model,
        data=spec.data,
        split=spec.split,
        config=spec.config.to_dict(),
        dataset_fingerprint=str(manifest.get("fingerprint", "")),
        limit=spec.limit,
        cold=spec.cold,
        model_code=model_code,
        versions=versions,
        world_size=spec.world_size,
        inputs=_identity_inputs(cls, spec),
    )
    scoring = store.scoring_key(n_boot=spec.n_boot, boot_seed=spec.boot_seed, meteor=spec.meteor,
                                bertscore=spec.bertscore)
    return RunIdentity(key, scoring, store.run_id_for(key, scoring), store.run_code_sha256(model_code))


def prepare_run(spec: RunSpec) -> tuple[Path, RunIdentity, Path, dict[str, Any]]:
    """(home, run identity, run folder, dataset manifest) of a spec, preparing the dataset if needed."""
    home = _home(spec.home)
    spec.config = resolved_precision_config(spec.config, spec.device or default_device())
    manifest = _prepare_dataset(spec.data, home)
    n_splits = _n_splits(manifest)
    if n_splits is not None and not 1 <= spec.split <= n_splits:
        raise RunError(f"dataset {spec.data!r} has splits 1..{n_splits}; split {spec.split} does not exist")
    ident = run_identity(spec, manifest)
    return home, ident, store.run_dir(home, spec.data, spec.split, spec.model, ident.run_id), manifest


def _reuse_generation(rdir: Path, ident: RunIdentity, say: Log) -> None:
    """Link (or copy) model/, samples and the training log of a finished sibling run with the same
    generation key into rdir: the samples are the same, only the scoring differs."""
    source = store.generation_sibling(rdir.parent, ident.generation_key, exclude=rdir)
    if source is None or find_artifact(rdir, store.SAMPLES_FILE).is_file():
        return
    say(f"generate: run {source.name} has the same model and samples (same generation key); "
        "reusing them and scoring again")

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if (source / store.MODEL_DIR).is_dir() and not (rdir / store.MODEL_DIR).exists():
        tmp = Path(tempfile.mkdtemp(dir=rdir, prefix=".model."))
        shutil.rmtree(tmp)
        shutil.copytree(source / store.MODEL_DIR, tmp, copy_function=link)
        os.replace(tmp, rdir / store.MODEL_DIR)
    for name in (store.GENERATE_FILE, store.TRAIN_LOG_FILE, store.SAMPLES_FILE):  # samples last
        src = find_artifact(source, name)
        if src.is_file():
            tmp = rdir / f".{src.name}.reuse"
            tmp.unlink(missing_ok=True)
            link(str(src), str(tmp))
            os.replace(tmp, rdir / src.name)


class _Followers:
    """Under torchrun, rank 0 tells the other ranks once whether this run trains (they then train with
    it) or not (they stop). Outside torchrun, or on the other ranks, tell() does nothing."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.told = False

    def tell(self, train: bool) -> None:
        if self.active and not self.told:
            from explainbench.engine.distributed import broadcast_object

            self.told = True
            broadcast_object(bool(train))


def check_data_parallel(model: str | None) -> None:
    """Refuse (RunError) an explainer that does not train with the engine's loop under torchrun."""
    from explainbench.engine.neural import NeuralExplainer

    if model and not issubclass(get_explainer(model), NeuralExplainer):
        raise RunError(f"{model} does not train with the engine's loop, so it cannot train "
                       "data-parallel: run it without torchrun or --nproc")


def _process_group(spec: RunSpec, cls: type[Explainer]) -> tuple[int, int]:
    """(rank, world size): join torchrun's process group when it started this process, else (0, 1).

    torch is imported only under torchrun, so a floor run outside it does not pay for the import."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return 0, 1
    from explainbench.engine.distributed import init_from_env
    from explainbench.engine.seed import resolve_device

    check_data_parallel(spec.model)
    device = resolve_device(spec.device or default_device())
    ranks = init_from_env(device)
    return ranks.rank, ranks.world_size


def run_experiment(spec: RunSpec, *, log: Log | None = None) -> RunOutcome:
    """Run (or finish, or skip) one model on one split of one dataset; returns the results.

    Under torchrun every rank calls this: all of them train (data-parallel, engine/distributed.py),
    and rank 0 alone writes the run folder, generates and scores; the others return status "follower".
    """
    say: Log = log or (lambda message: print(message, file=sys.stderr))
    cls = get_explainer(spec.model)
    if spec.limit is not None and spec.limit < 1:
        raise RunError(f"--limit must be a positive number of test records, not {spec.limit}")
    if spec.cold not in COLD_POLICIES:
        raise RunError(f"--cold {spec.cold!r}: use one of {', '.join(COLD_POLICIES)}")
    try:  # before anything is written: e.g. pretrained weights that are not on this machine
        cls.check_ready(spec.config)
    except NotReadyError as exc:
        raise RunError(f"{spec.model}: {exc}") from None
    rank, spec.world_size = _process_group(spec, cls)
    home, ident, rdir, manifest = prepare_run(spec)
    if rank > 0:
        return _follow(spec, cls, home, ident, rdir)
    followers = _Followers(spec.world_size > 1)
    try:
        results_path = rdir / store.RESULTS_FILE
        if results_path.is_file():
            return RunOutcome("skipped", ident.run_id, rdir, read_results(results_path), ["all"])
        rdir.mkdir(parents=True, exist_ok=True)
        with store.locked(rdir / store.LOCK_FILE):
            if results_path.is_file():  # another process finished it while we waited for the lock
                return RunOutcome("skipped", ident.run_id, rdir, read_results(results_path), ["all"])
            _reuse_generation(rdir, ident, say)
            return _run_locked(spec, cls, home, ident, rdir, manifest, say, followers)
    finally:
        followers.tell(False)  # a path that did not train (or failed before training) releases them


def _follow(spec: RunSpec, cls: type[Explainer], home: Path, ident: RunIdentity, rdir: Path) -> RunOutcome:
    """A rank > 0 under torchrun: train alongside rank 0 when it trains; write nothing."""
    from explainbench.data import load_split, load_tokenizer
    from explainbench.engine.distributed import broadcast_object

    if not broadcast_object(None):
        return RunOutcome("follower", ident.run_id, rdir, {}, ["all"])
    dd = load_split(spec.data, spec.split, home=home)
    _set_threads(spec.threads)
    context = ExplainContext(
        tokenizer=load_tokenizer(spec.data, spec.split, home=home),
        run_dir=rdir,  # read for --resume (rank 0's checkpoint); the trainer writes on rank 0 only
        device=spec.device or default_device(),
        resume=spec.resume,
        progress=False,
        rating_range=_rating_range(load_manifest_for(spec, home)),
        dataset_name=spec.data,
    )
    cls(spec.config).fit(dd["train"], dd["validation"], context=context)
    return RunOutcome("follower", ident.run_id, rdir, {}, [])


def load_manifest_for(spec: RunSpec, home: Path) -> dict[str, Any]:
    from explainbench.data import load_manifest

    return load_manifest(spec.data, home=home)


def _run_locked(
    spec: RunSpec,
    cls: type[Explainer],
    home: Path,
    ident: RunIdentity,
    rdir: Path,
    manifest: dict[str, Any],
    say: Log,
    followers: _Followers | None = None,
) -> RunOutcome:
    from explainbench.data import feature_set, item_features, load_split, load_tokenizer
    from explainbench.metrics import score_samples

    skipped: list[str] = []
    run_id = ident.run_id
    store.remove_temporaries(rdir)  # a killed run's half-written files (we hold the lock)
    dd = load_split(spec.data, spec.split, home=home)
    tokenizer = load_tokenizer(spec.data, spec.split, home=home)
    _write_config(rdir, spec, run_id, manifest)  # after the split loads: a broken dataset writes nothing
    device = spec.device or default_device()
    threads = _set_threads(spec.threads)
    rating_range = _rating_range(manifest)
    context = ExplainContext(
        tokenizer=tokenizer,
        run_dir=rdir,
        device=device,
        resume=spec.resume,
        progress=spec.progress,
        rating_range=rating_range,
        dataset_name=spec.data,
    )
    test = dd["test"]
    n_original = len(test)
    test, n_cold = _cold_filter(test, spec.cold)
    if n_cold:
        say(f"generate: {n_cold} of {n_original} test records have a user or item without training "
            "records (cold start); " + ("left out (--cold skip)" if spec.cold == "skip" else
                                        "served to the explainer (--cold serve)"))
    if spec.limit is not None:
        test = test.select(range(min(spec.limit, len(test))))

    # -- generate (loading or training the model only when samples are missing) -------------------
    samples_path = find_artifact(rdir, store.SAMPLES_FILE)
    generate_path = rdir / store.GENERATE_FILE
    samples: list[Sample] | None = None
    train_meta: dict[str, Any] = {}
    if samples_path.is_file():
        samples = read_samples(samples_path)
        if len(samples) != len(test):
            say(f"generate: {samples_path} has {len(samples)} lines, expected {len(test)}; regenerating")
            samples = None
    model_dir = rdir / store.MODEL_DIR
    if samples is not None:
        skipped += ["train", "generate"]
        if (model_dir / "train.json").is_file():
            train_meta = json.loads((model_dir / "train.json").read_text(encoding="utf-8"))
        gen_meta = json.loads(generate_path.read_text(encoding="utf-8")) if generate_path.is_file() else {}
        say(f"generate: {samples_path} is complete, skipping train and generate")
    else:
        if not model_dir.is_dir():
            say(f"train: {spec.model} on {spec.data} split {spec.split} ({len(dd['train'])} records)")
            checkpoints = rdir / "checkpoint"
            if checkpoints.is_dir() and any(checkpoints.iterdir()):
                say(
                    "train: continuing the interrupted training from its checkpoint" if spec.resume
                    else "train: an interrupted training left a checkpoint; starting over "
                    "(pass --resume to continue from it)"
                )
            if followers is not None:
                followers.tell(True)
        explainer, train_meta, loaded = _train_stage(spec, cls, rdir, dd, context, say)
        if loaded:
            skipped.append("train")
        requests = requests_for(test, takes_feature=bool(getattr(cls, "takes_feature", False)))
        say(f"generate: {len(requests)} test requests")
        start = time.perf_counter()
        try:
            explanations = _explain_all(explainer, requests, spec.progress)
        except RequestError as exc:
            hint = " (--cold serve sends cold-start records too; --cold skip leaves them out)" \
                if spec.cold == "serve" else ""
            raise RunError(f"{spec.model} refused a test request of {spec.data} split {spec.split}: "
                           f"{exc}{hint}") from exc
        generate_s = time.perf_counter() - start
        if len(explanations) != len(requests):
            raise RunError(
                f"{spec.model}.explain() returned {len(explanations)} explanations for {len(requests)} "
                "requests; it must return one per request"
            )
        samples = samples_for(test, explanations, tokenizer)
        gen_meta = {
            "generate_s": generate_s,
            "n": len(samples),
            "sentences_per_s": len(samples) / generate_s if generate_s > 0 else None,
        }
        atomic_write_json(generate_path, gen_meta)
        samples_path = rdir / store.SAMPLES_FILE
        write_samples(samples_path, samples)

    # -- score and publish ------------------------------------------------------------------------
    say(f"score: {len(samples)} samples ({spec.n_boot} bootstrap resamples)")
    start = time.perf_counter()
    features = feature_set(dd)
    with _SCORE_LOCK:
        report = score_samples(
            samples,
            feature_set=features,
            item_features=item_features(dd, features),
            buckets=_buckets(manifest),
            rating_range=rating_range,
            n_boot=spec.n_boot,
            seed=spec.boot_seed,
            meteor=spec.meteor,
            bertscore=spec.bertscore,
            workers=spec.score_workers,
        ).to_dict()
    score_s = time.perf_counter() - start
    results = results_document(
        run_id=run_id,
        generation_key=ident.generation_key,
        model=spec.model,
        model_package=explainer_package(spec.model),
        dataset=spec.data,
        dataset_fingerprint=str(manifest.get("fingerprint", "")),
        split=spec.split,
        scale=spec.scale,
        config=spec.config.to_dict(),
        model_seed=int(getattr(spec.config, "seed", 0)),
        limit=spec.limit,
        cold=spec.cold,
        n_original=n_original,
        n_cold=n_cold,
        samples=samples,
        samples_sha256=samples_sha256(samples_path),
        report=report,
        n_boot=spec.n_boot,
        boot_seed=spec.boot_seed,
        meteor=spec.meteor,
        bertscore=spec.bertscore,
        rating_range=rating_range,
        timings=Timings(
            train_s=train_meta.get("train_s"),
            generate_s=gen_meta.get("generate_s"),
            train_examples_per_s=train_meta.get("train_examples_per_s"),
            generate_sentences_per_s=gen_meta.get("sentences_per_s"),
            score_s=score_s,
            train_epochs=train_meta.get("epochs"),
        ),
        device=device,
        threads=threads,
        processes=spec.world_size,
        code_sha256=ident.code_sha256,
    )
    write_results(rdir / store.RESULTS_FILE, results)
    return RunOutcome("finished", run_id, rdir, results, skipped)
