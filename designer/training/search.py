"""Random hyperparameter search (seed 000: random trials cover the space better than a grid).

Each trial samples a learning rate and weight decay (log-uniform), a dropout rate (uniform, when
the design has dropout) and a batch size, trains for a few epochs in its own run directory and
is ranked by validation accuracy. The test split is never looked at while choosing.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from designer.core.serialization import atomic_write_text
from designer.training.config import ConfigError, TrainConfig
from designer.training.control import TrainingControl
from designer.training.engine import Trainer, prepare_for
from designer.training.model import TrainingError, has_dropout
from designer.training.rundir import clean_json

RESULTS = "search.json"


@dataclass(frozen=True)
class SearchSpace:
    lr: tuple[float, float] = (1e-4, 1e-1)
    weight_decay: tuple[float, float] = (1e-6, 1e-2)
    dropout: tuple[float, float] = (0.0, 0.6)
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128)

    def __post_init__(self) -> None:
        for name in ("lr", "weight_decay"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ConfigError(f"the search range for {name} must be two numbers 0 < low <= high, got {low:g}, {high:g}")
        low, high = self.dropout
        if not 0 <= low <= high < 1:
            raise ConfigError(f"the search range for dropout must be 0 <= low <= high < 1, got {low:g}, {high:g}")
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes):
            raise ConfigError(f"the search's batch sizes must be whole numbers of at least 1, got {self.batch_sizes}")

    def sample(self, rng: random.Random, dropout: bool) -> dict:
        def log_uniform(low: float, high: float) -> float:
            return math.exp(rng.uniform(math.log(low), math.log(high)))

        return {
            "lr": log_uniform(*self.lr),
            "weight_decay": log_uniform(*self.weight_decay),
            "dropout": rng.uniform(*self.dropout) if dropout else None,
            "batch_size": rng.choice(self.batch_sizes),
        }


@dataclass
class Trial:
    number: int
    run_dir: str
    lr: float
    weight_decay: float
    dropout: float | None
    batch_size: int
    status: str = "pending"
    best_val_accuracy: float | None = None
    best_val_loss: float | None = None
    best_epoch: int | None = None
    message: str = ""


def ranked(trials: list[Trial]) -> list[Trial]:
    """Best first: highest validation accuracy, then lowest validation loss; unfinished last."""
    def key(t: Trial):
        acc = t.best_val_accuracy if t.best_val_accuracy is not None else -1.0
        loss = t.best_val_loss if t.best_val_loss is not None else math.inf
        return (-acc, loss, t.number)

    return sorted(trials, key=key)


def random_search(design, base: TrainConfig, root: str | Path, *, trials: int, epochs: int,
                  space: SearchSpace | None = None, seed: int = 0, control: TrainingControl | None = None,
                  on_event=None) -> list[Trial]:
    """Run ``trials`` random trials of ``epochs`` epochs each under ``root`` (root/trial_01, ...).

    All trials use base's other settings and seed (the same initial weights), and the same data.
    on_event(trial, event) sees every event. Results, best first, are also written to
    root/search.json after every trial. Cancelling (control) stops after the current trial.
    """
    space = space or SearchSpace()
    if trials < 1 or epochs < 1:
        raise TrainingError(f"a search needs at least 1 trial of at least 1 epoch, got {trials} x {epochs}")
    root = Path(root)
    if (root / RESULTS).exists() or any(root.glob("trial_*")):
        raise TrainingError(f"{root} holds a search already; choose another directory")
    control = control or TrainingControl()
    rng = random.Random(seed)
    dropout = has_dropout(design)
    data = prepare_for(design, base)
    done: list[Trial] = []
    for number in range(1, trials + 1):
        params = space.sample(rng, dropout)
        trial = Trial(number, str(root / f"trial_{number:02d}"), **params)
        config = base.with_changes(epochs=epochs, **params)
        trainer = Trainer(design, config, trial.run_dir, control=control, data=data, evaluate_test=False)
        end = trainer.run_to_end(None if on_event is None else (lambda event, n=number: on_event(n, event)))
        trial.status, trial.message = end.status, end.message
        trial.best_val_accuracy, trial.best_val_loss, trial.best_epoch = (
            end.best_val_accuracy, end.best_val_loss, end.best_epoch)
        done.append(trial)
        _write_results(root, ranked(done))
        if control.cancelled:
            break
    return ranked(done)


def _write_results(root: Path, trials: list[Trial]) -> None:
    atomic_write_text(root / RESULTS, json.dumps(clean_json([asdict(t) for t in trials]), indent=2) + "\n")


def format_table(trials: list[Trial]) -> str:
    """The results as a text table, best first."""
    header = f"{'rank':>4}  {'trial':>5}  {'val acc':>8}  {'val loss':>8}  {'lr':>9}  {'w. decay':>9}  " \
             f"{'dropout':>7}  {'batch':>5}  status"
    lines = [header]
    for rank, t in enumerate(ranked(trials), start=1):
        acc = f"{t.best_val_accuracy:.2%}" if t.best_val_accuracy is not None else "-"
        loss = f"{t.best_val_loss:.4f}" if t.best_val_loss is not None else "-"
        drop = f"{t.dropout:.2f}" if t.dropout is not None else "-"
        lines.append(f"{rank:>4}  {t.number:>5}  {acc:>8}  {loss:>8}  {t.lr:>9.2e}  {t.weight_decay:>9.2e}  "
                     f"{drop:>7}  {t.batch_size:>5}  {t.status}")
    return "\n".join(lines)
