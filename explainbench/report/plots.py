"""The paper's figures with matplotlib (Agg backend), each written as PNG and SVG.

- Figure 5 (`plot_buckets`): each metric against the number of training samples of the user (or item),
  one line per model: the value per count with its 95% bootstrap CI band (results.json `per_count`,
  computed by the metrics layer) and a dashed least-squares trend line weighted by the number of test
  records per count, whose slope the legend states (the paper: "note the different slope of means").
- Figure 6 (`plot_losses`): training and validation loss per epoch (or per step) of several runs,
  from each run's train_log.jsonl (schema in docs/engine.md).
- Figure 4 (`plot_noise`): the initial-noise probe's binned cosine similarities (explainbench.probe).

Figures are drawn for print: titled, labelled axes, colour-blind-safe colours plus distinct markers
and dash styles so lines stay apart in greyscale. SVG text stays text (searchable, small). Files are
written atomically (temporary name, then rename).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainbench.report.tables import ReportError

COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
METRIC_LABELS = {
    "bleu1": "BLEU-1 (%)",
    "bleu4": "BLEU-4 (%)",
    "rouge1_f": "ROUGE-1 F (%)",
    "rougeL_f": "ROUGE-L F (%)",
    "rouge1_p": "ROUGE-1 P (%)",
    "rouge1_r": "ROUGE-1 R (%)",
    "rougeL_p": "ROUGE-L P (%)",
    "rougeL_r": "ROUGE-L R (%)",
    "meteor": "METEOR (%)",
    "sacrebleu": "sacreBLEU",
    "rs_rougeL": "ROUGE-L (rs, %)",
    "fmr": "FMR",
    "usr": "USR",
    "spec_aspect": "aspect specificity",
    "spec_detail": "detail specificity",
}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend with print-friendly defaults (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 8.5,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "svg.fonttype": "none",
            "svg.hashsalt": "explainbench",
            "lines.linewidth": 1.8,
        }
    )
    return plt


def figure_paths(out: Path) -> tuple[Path, Path]:
    """out (with or without .png/.svg) -> (stem.png, stem.svg)."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix.lower() in (".png", ".svg") else out
    return stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")


def save_figure(fig: Any, out: Path) -> list[Path]:
    """Write fig as PNG and SVG next to each other (atomic renames); returns both paths."""
    plt = pyplot()
    paths = list(figure_paths(out))
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    try:
        for path in paths:
            tmp = path.with_name(f".{path.name}.tmp")
            fig.savefig(
                tmp,
                format=path.suffix[1:],
                bbox_inches="tight",
                metadata={"Date": None} if path.suffix == ".svg" else None,
            )
            os.replace(tmp, path)
    finally:
        plt.close(fig)
    return paths


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


# -- Figure 5: metric against the training count ------------------------------------------------


@dataclass
class CountPoint:
    count: int
    n: int  # test records whose user (item) has `count` training records
    value: float
    ci_low: float | None
    ci_high: float | None


@dataclass
class CountSeries:
    """One model's per-count values of one metric (one line of Figure 5)."""

    model: str
    metric: str
    by: str
    points: list[CountPoint]

    @property
    def trend(self) -> tuple[float, float] | None:
        return weighted_trend(
            [p.count for p in self.points], [p.value for p in self.points], [p.n for p in self.points]
        )

    def to_dict(self) -> dict[str, Any]:
        trend = self.trend
        return {
            "model": self.model,
            "metric": self.metric,
            "by": self.by,
            "slope": None if trend is None else trend[0],
            "intercept": None if trend is None else trend[1],
            "points": [p.__dict__ for p in self.points],
        }


def weighted_trend(x: Sequence[float], y: Sequence[float], w: Sequence[float]) -> tuple[float, float] | None:
    """Weighted least squares line y = slope x + intercept (closed form); None for < 2 distinct x."""
    sw = float(sum(w))
    if len(x) < 2 or sw <= 0:
        return None
    mx = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / sw
    my = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sw
    sxx = sum(wi * (xi - mx) ** 2 for wi, xi in zip(w, x, strict=True))
    if sxx == 0:
        return None
    sxy = sum(wi * (xi - mx) * (yi - my) for wi, xi, yi in zip(w, x, y, strict=True))
    slope = sxy / sxx
    return slope, my - slope * mx


def count_series(
    results: dict[str, Any], metric: str, *, by: str = "user", min_n: int = 1, max_count: int | None = None
) -> CountSeries:
    """A run's per-count values of one metric (results.json `per_count`), counts with >= min_n records."""
    table = (results.get("per_count") or {}).get(by)
    where = f"{results.get('model')} on {results.get('dataset')} split {results.get('split')}"
    if not table:
        raise ReportError(f"results of {where} have no per_count[{by!r}] series; re-score the run")
    points = []
    for count_text, entry in table.items():
        count = int(count_text)
        if entry.get("n", 0) < min_n or (max_count is not None and count > max_count):
            continue
        value = (entry.get("metrics") or {}).get(metric)
        if value is None or value.get("value") is None:
            continue
        points.append(
            CountPoint(
                count, int(entry["n"]), float(value["value"]), value.get("ci_low"), value.get("ci_high")
            )
        )
    if not points:
        known = sorted({m for e in table.values() for m in (e.get("metrics") or {})})
        if not any(metric in (e.get("metrics") or {}) for e in table.values()):
            raise ReportError(f"results of {where} have no per-count {metric!r}; known: {', '.join(known)}")
        raise ReportError(f"{where}: no count has at least {min_n} test records; lower --min-n")
    return CountSeries(str(results.get("model")), metric, by, sorted(points, key=lambda p: p.count))


def plot_buckets(
    series: dict[str, list[CountSeries]], out: Path, *, title: str, by: str = "user"
) -> list[Path]:
    """Figure 5: one panel per metric, one line (value, 95% CI band, dashed trend) per model."""
    plt = pyplot()
    metrics = list(series)
    n_lines = max(len(lines) for lines in series.values())
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.8 * len(metrics), 3.4 + 0.18 * n_lines), squeeze=False
    )
    models = sorted(
        {s.model for lines in series.values() for s in lines},
        key=lambda m: [s.model for lines in series.values() for s in lines].index(m),
    )
    style = {m: i for i, m in enumerate(models)}
    for ax, metric in zip(axes[0], metrics, strict=True):
        for s in series[metric]:
            i = style[s.model]
            color = COLORS[i % len(COLORS)]
            x = [p.count for p in s.points]
            y = [p.value for p in s.points]
            lo = [p.ci_low if p.ci_low is not None else p.value for p in s.points]
            hi = [p.ci_high if p.ci_high is not None else p.value for p in s.points]
            trend = s.trend
            name = s.model if trend is None else f"{s.model} (slope {round(trend[0], 2) + 0.0:+.2f}/sample)"
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
            ax.plot(x, y, color=color, marker=MARKERS[i % len(MARKERS)], markersize=4, label=name)
            if trend is not None:
                ax.plot(
                    [x[0], x[-1]],
                    [trend[1] + trend[0] * x[0], trend[1] + trend[0] * x[-1]],
                    color=color,
                    linestyle="--",
                    linewidth=1.2,
                )
        ax.set_xlabel(f"training samples of the {by}")
        ax.set_ylabel(metric_label(metric))
        ax.set_title(f"{metric_label(metric)}: mean and 95% CI")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, ncol=1)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out)


# -- Figure 6: loss curves ----------------------------------------------------------------------


@dataclass
class LossCurve:
    """One run's training and validation loss (one line in each panel of Figure 6)."""

    label: str
    stage: str
    x: str  # "epoch" or "step"
    train: list[tuple[float, float]] = field(default_factory=list)
    validation: list[tuple[float, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "stage": self.stage,
            "x": self.x,
            "train": [list(p) for p in self.train],
            "validation": [list(p) for p in self.validation],
        }


def read_train_log(path: Path) -> list[dict[str, Any]]:
    """train_log.jsonl (or .jsonl.gz) records; a malformed line is a ReportError naming file and line."""
    from explainbench.api.results import read_jsonl

    try:
        lines = read_jsonl(path)
    except ValueError as exc:
        raise ReportError(f"{exc}; is the run still writing it?") from None
    records = []
    for lineno, rec in lines:
        if not isinstance(rec, dict):
            raise ReportError(f"{path}:{lineno}: expected a JSON object")
        records.append(rec)
    return records


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def loss_curve(
    records: Sequence[dict[str, Any]],
    *,
    label: str,
    stage: str | None = None,
    x: str = "epoch",
    where: str = "train_log.jsonl",
) -> LossCurve:
    """Training and validation losses of one stage of a train_log.

    x="epoch": epoch lines' train_loss and val_loss against the epoch. x="step": step lines' loss
    against the optimiser step, validation at each epoch's last step. stage None picks "train" when
    present, else the last stage in the log (e.g. NETE's generator after its rating stage).
    """
    if x not in ("epoch", "step"):
        raise ReportError(f"--x {x!r}: use epoch or step")
    stages = list(dict.fromkeys(str(r.get("stage", "train")) for r in records))
    if not stages:
        raise ReportError(f"{where}: empty training log")
    if stage is None:
        stage = "train" if "train" in stages else stages[-1]
    elif stage not in stages:
        raise ReportError(f"{where}: no stage {stage!r}; stages: {', '.join(stages)}")
    mine = [r for r in records if str(r.get("stage", "train")) == stage]
    epochs = [r for r in mine if r.get("kind") == "epoch"]
    curve = LossCurve(label, stage, x)
    if x == "epoch":
        curve.train = [
            (float(r["epoch"]), float(r["train_loss"])) for r in epochs if _finite(r.get("train_loss"))
        ]
        curve.validation = [
            (float(r["epoch"]), float(r["val_loss"])) for r in epochs if _finite(r.get("val_loss"))
        ]
    else:
        curve.train = [
            (float(r["step"]), float(r["loss"]))
            for r in mine
            if r.get("kind") == "step" and _finite(r.get("loss"))
        ]
        curve.validation = [
            (float(r["step"]), float(r["val_loss"])) for r in epochs if _finite(r.get("val_loss"))
        ]
    if not curve.train and not curve.validation:
        raise ReportError(f"{where}: stage {stage!r} has no {x} losses")
    return curve


def find_train_log(run: Path) -> Path:
    """A run folder, its results.json or a train_log.jsonl -> the train_log.jsonl path."""
    from explainbench.api.results import find_artifact

    run = Path(run)
    path = run if run.name.endswith((".jsonl", ".jsonl.gz")) else \
        find_artifact(run.parent if run.is_file() else run, "train_log.jsonl")
    if not path.is_file():
        raise ReportError(
            f"{path}: no training log (reference explainers and plugins without the engine "
            "write none); give a run folder of a neural model"
        )
    return path


def run_label(log_path: Path) -> str:
    """model (run id) from the run folder's results.json or config.yaml, else the folder name."""
    folder = log_path.parent
    for name in ("results.json",):
        p = folder / name
        if p.is_file():
            try:
                d = json.loads(p.read_text(encoding="utf-8"))
                return f"{d['model']} ({d.get('run_id', folder.name)})"
            except (ValueError, KeyError):
                pass
    config = folder / "config.yaml"
    if config.is_file():
        import yaml

        try:
            d = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
            if isinstance(d, dict) and d.get("model"):
                return f"{d['model']} ({folder.name})"
        except yaml.YAMLError:
            pass
    return folder.name


def plot_losses(curves: Sequence[LossCurve], out: Path, *, title: str) -> list[Path]:
    """Figure 6: (a) training loss, (b) validation loss, one line per run."""
    plt = pyplot()
    fig, (ax_t, ax_v) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    for i, c in enumerate(curves):
        kw = dict(color=COLORS[i % len(COLORS)], linestyle=LINESTYLES[i % len(LINESTYLES)])
        marker = MARKERS[i % len(MARKERS)] if c.x == "epoch" else None
        if c.train:
            ax_t.plot(*zip(*c.train, strict=True), marker=marker, markersize=4, label=c.label, **kw)
        if c.validation:
            ax_v.plot(
                *zip(*c.validation, strict=True),
                marker=MARKERS[i % len(MARKERS)],
                markersize=4,
                label=c.label,
                **kw,
            )
    for ax, name in ((ax_t, "(a) training loss"), (ax_v, "(b) validation loss")):
        ax.set_title(name)
        ax.set_xlabel("epoch" if curves[0].x == "epoch" else "optimiser step")
        ax.set_ylabel("loss")
        ax.legend(loc="best", frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out)


# -- Figure 4: initial noise --------------------------------------------------------------------


def plot_noise(
    bins: Sequence[dict[str, float]], out: Path, *, title: str, initial: float | None = None
) -> list[Path]:
    """Figure 4: mean cosine similarity of a user's two embeddings per bin of users sorted by count.

    bins: {"count_mean", "similarity_mean", "similarity_ci"} per bin, in ascending count order. The
    x-axis is the bin (users sorted by their number of training examples, as the paper sorts them);
    the grey steps on the right axis give each bin's mean count. initial: the mean similarity of the
    two copies before training (the pure-noise level).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    x = list(range(1, len(bins) + 1))
    y = [b["similarity_mean"] for b in bins]
    ci = [b.get("similarity_ci", 0.0) for b in bins]
    ax.fill_between(
        x,
        [a - c for a, c in zip(y, ci, strict=True)],
        [a + c for a, c in zip(y, ci, strict=True)],
        color=COLORS[0],
        alpha=0.2,
        linewidth=0,
        label="95% CI of the bin mean",
    )
    ax.plot(x, y, color=COLORS[0], marker="o", markersize=3, label="after training")
    if initial is not None:
        ax.axhline(initial, color=COLORS[1], linestyle="--", linewidth=1.2, label="before training")
    ax.set_xlabel(f"bins of users sorted by their number of training examples ({len(bins)} bins)")
    ax.set_ylabel("cosine similarity of the two copies")
    counts = ax.twinx()
    counts.step(
        x,
        [b["count_mean"] for b in bins],
        where="mid",
        color="0.45",
        linewidth=1.0,
        label="training examples (right axis)",
    )
    counts.set_ylabel("training examples per user (bin mean)", color="0.35")
    counts.grid(False)
    handles = ax.get_legend_handles_labels()
    more = counts.get_legend_handles_labels()
    ax.legend(
        handles[0] + more[0],
        handles[1] + more[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=2,
        frameon=False,
    )
    ax.set_title(title)
    fig.tight_layout()
    return save_figure(fig, out)
