"""Curves of training runs for plots and comparisons: one metric of each run's metrics.jsonl
against step, epoch or time, optionally smoothed the way the engine smooths the step loss.

Qt-free (numpy only), for `netdesigner plot` and the app's plots:

    curves = load_curves(["runs/a", "runs/b"], "val_loss", x="epoch", smooth=0.6)
    for c in curves: c.name, c.x, c.y, c.smoothed

Metrics: per step "loss", "loss_ema" (the engine's bias-corrected moving average) and "lr";
per epoch "train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_top5", "val_top5",
"epoch_lr" (the epoch's last learning rate) and "samples_per_second".
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from designer.core.atomic import atomic_write_text

STEP_METRICS = {"loss": "loss", "loss_ema": "loss_ema", "lr": "lr"}  # name -> record key
EPOCH_METRICS = {
    "train_loss": "train_loss",
    "val_loss": "val_loss",
    "train_accuracy": "train_accuracy",
    "val_accuracy": "val_accuracy",
    "train_top5": "train_top5",
    "val_top5": "val_top5",
    "epoch_lr": "lr",
    "samples_per_second": "samples_per_second",
}
METRICS = (*STEP_METRICS, *EPOCH_METRICS)
X_AXES = ("step", "epoch", "time")  # also in designer.cli.plot_verb, which stays numpy-free
X_LABELS = {"step": "step", "epoch": "epoch", "time": "time (s)"}


class CurveError(ValueError):
    """A metric, axis, smoothing or run directory that cannot be plotted; the message says why."""


@dataclass
class Curve:
    name: str  # the run's name in a legend (its folder, made unique among the runs)
    run_dir: Path
    metric: str
    x_axis: str
    x: np.ndarray
    y: np.ndarray  # the recorded values
    smoothed: np.ndarray  # y smoothed (y itself when the smoothing is 0)

    def __len__(self) -> int:
        return len(self.x)


def check_choice(metric: str, x: str, smooth: float) -> None:
    if metric not in METRICS:
        raise CurveError(f"unknown metric '{metric}'; the metrics are: {', '.join(METRICS)}")
    if x not in X_AXES:
        raise CurveError(f"unknown x axis '{x}'; choose one of: {', '.join(X_AXES)}")
    if not (isinstance(smooth, (int, float)) and 0 <= smooth < 1):
        raise CurveError(f"the smoothing must be from 0 up to (not including) 1, got {smooth!r}")


def load_curves(
    run_dirs: list[str | Path], metric: str, x: str = "step", smooth: float = 0.0
) -> list[Curve]:
    """One curve per run directory, in the given order (a run without values for the metric,
    e.g. val_loss without a validation split, gives an empty curve)."""
    check_choice(metric, x, smooth)
    paths = [Path(p) for p in run_dirs]
    curves = []
    for path, name in zip(paths, run_names(paths)):
        xs, ys = series(path, metric, x)
        curves.append(Curve(name, path, metric, x, xs, ys, ema(ys, smooth)))
    return curves


def run_names(paths: list[Path]) -> list[str]:
    """Each run's folder name, with as many parent folders as it takes to tell them apart."""
    parts = [Path(p).resolve().parts for p in paths]
    depth = 1
    while True:
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names) or depth >= max(len(p) for p in parts):
            return names
        depth += 1


def read_records(run_dir: Path) -> list[dict]:
    """metrics.jsonl's records; a line still being written (a live run) is left out."""
    path = Path(run_dir) / "metrics.jsonl"
    if not Path(run_dir).is_dir():
        raise CurveError(f"{run_dir}: no such run directory")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CurveError(
            f"{run_dir} holds no metrics.jsonl: it is not a training run directory"
        ) from None
    except OSError as exc:
        raise CurveError(f"{path} cannot be read: {exc.strerror or exc}") from None
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def steps_per_epoch(run_dir: Path, records: list[dict]) -> int:
    """From the run's training samples and batch size; else counted from epoch 1's steps."""
    try:
        data = json.loads((Path(run_dir) / "data.json").read_text(encoding="utf-8"))
        config = json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8"))
        return max(1, math.ceil(data["train_samples"] / config["batch_size"]))
    except (OSError, ValueError, KeyError, TypeError):
        first = [r["step"] for r in records if r.get("kind") == "step" and r.get("epoch") == 1]
        return max(first, default=1)


def series(run_dir: Path, metric: str, x: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one metric of one run; points without a value are left out."""
    records = read_records(run_dir)
    per_epoch = steps_per_epoch(run_dir, records)
    epochs = {r["epoch"]: r for r in records if r.get("kind") == "epoch"}
    if metric in STEP_METRICS:
        key, chosen = STEP_METRICS[metric], [r for r in records if r.get("kind") == "step"]
        steps = np.array([r["step"] for r in chosen], dtype=float)
    else:
        key, chosen = EPOCH_METRICS[metric], list(epochs.values())
        steps = np.array([r["epoch"] * per_epoch for r in chosen], dtype=float)
    y = np.array([np.nan if r.get(key) is None else r[key] for r in chosen], dtype=float)
    if x == "step":
        xs = steps
    elif x == "epoch":
        xs = steps / per_epoch
    else:
        xs = seconds_at(steps, per_epoch, epochs)
    keep = np.isfinite(xs) & np.isfinite(y)
    return xs[keep], y[keep]


def seconds_at(steps: np.ndarray, per_epoch: int, epochs: dict[int, dict]) -> np.ndarray:
    """Training time at each step: the epochs' recorded durations, spread evenly over their
    steps (an epoch not finished yet takes the finished ones' mean duration)."""
    if not epochs:
        return np.full(len(steps), np.nan)
    last = max(math.ceil(steps.max() / per_epoch) if len(steps) else 0, max(epochs))
    durations = [epochs[e].get("seconds") for e in range(1, last + 1) if e in epochs]
    mean = float(np.mean([d for d in durations if d is not None] or [np.nan]))
    seconds = np.array([(epochs.get(e) or {}).get("seconds") or mean for e in range(1, last + 1)])
    starts = np.concatenate([[0.0], np.cumsum(seconds)])
    epoch_index = np.clip(np.ceil(steps / per_epoch).astype(int) - 1, 0, last - 1)
    within = steps / per_epoch - epoch_index
    return starts[epoch_index] + within * seconds[epoch_index]


def ema(values: np.ndarray, coefficient: float) -> np.ndarray:
    """The bias-corrected exponential moving average of the engine's step loss
    (designer.training.metrics.LossAverage), for the whole series at once.

    v_t = c·v_{t-1} + (1-c)·x_t with v_0 = 0, shown as v_t / (1 - c^t). Written as cumulative
    sums of x_k·c^-k, computed in blocks short enough that c^-k stays far from overflowing.
    """
    x = np.asarray(values, dtype=float)
    c = float(coefficient)
    if c == 0 or len(x) == 0:
        return x.copy()
    block = max(1, int(300 * math.log(10) / -math.log(c)) // 2)  # c^-block <= 1e150
    out = np.empty_like(x)
    carry = 0.0  # v just before the block
    for start in range(0, len(x), block):
        chunk = x[start : start + block]
        k = np.arange(len(chunk))
        powers = c**k  # c^k, >= 1e-150
        sums = np.cumsum(chunk / powers)  # sum of x_j c^-j
        v = c ** (k + 1) * carry + (1 - c) * powers * sums
        out[start : start + len(chunk)] = v
        carry = float(v[-1])
    t = np.arange(1, len(x) + 1)
    return out / (1 - c**t)


def write_csv(curves: list[Curve], path: str | Path) -> None:
    """The curves as CSV, one row per point: run, the x axis, the metric, and the smoothed
    metric when it differs."""
    smoothed = any(not np.array_equal(c.y, c.smoothed) for c in curves)
    metric, axis = curves[0].metric, curves[0].x_axis
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", axis, metric, *([f"{metric}_smoothed"] if smoothed else [])])
    for c in curves:
        for i in range(len(c)):
            row = [c.name, repr(float(c.x[i])), repr(float(c.y[i]))]
            writer.writerow(row + ([repr(float(c.smoothed[i]))] if smoothed else []))
    atomic_write_text(path, buffer.getvalue())
