"""Hyperparameter search on Optuna: random by default (seed 000: random trials cover the space
better than a grid), TPE on request, a median pruner, and a shared storage for several processes.

Each trial samples a learning rate and weight decay (log-uniform), a dropout rate (uniform, when
the design has dropout) and a batch size, trains for a few epochs in its own run directory and
is ranked by validation accuracy. The test split is never looked at while choosing.
SearchStudy is the one definition of a search; the CLI (random_search) and the app ask and tell it.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import optuna

from designer.core.serialization import atomic_write_text
from designer.training.config import ConfigError, TrainConfig
from designer.training.control import TrainingControl
from designer.training.engine import Trainer, prepare_for
from designer.training.model import TrainingError, has_dropout
from designer.training.rundir import clean_json

RESULTS = "search.json"
optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines say how trials went


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
                raise ConfigError(
                    f"the search range for {name} must be two numbers 0 < low <= high, got "
                    f"{low:g}, {high:g}"
                )
        low, high = self.dropout
        if not 0 <= low <= high < 1:
            raise ConfigError(
                f"the search range for dropout must be 0 <= low <= high < 1, got {low:g}, {high:g}"
            )
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes):
            raise ConfigError(
                "the search's batch sizes must be whole numbers of at least 1, got "
                f"{self.batch_sizes}"
            )


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


SAMPLERS = ("random", "tpe")


class TrialSeededRandomSampler(optuna.samplers.BaseSampler):
    """Optuna's random sampling, with each trial's values drawn from (seed, trial number) alone.

    optuna.samplers.RandomSampler draws from one generator per process, so two processes of a
    shared search with the same seed would sample the same trials; here trial N is the same
    whichever process runs it, and a search is reproducible however many processes share it.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def infer_relative_search_space(self, study, trial) -> dict:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        rng = random.Random(f"{self.seed}:{trial.number}:{param_name}")
        dist = param_distribution
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            return dist.choices[rng.randrange(len(dist.choices))]
        if isinstance(dist, optuna.distributions.FloatDistribution):
            if dist.log:
                return math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
            return rng.uniform(dist.low, dist.high)
        raise TypeError(f"no random sampling for {type(dist).__name__} ({param_name})")


def _storage_url(storage: str) -> str:
    """A database URL as given, or a file path as an SQLite URL."""
    return storage if "://" in storage else f"sqlite:///{Path(storage).resolve()}"


def _open_study(storage: str | None, name: str | None, sampler, pruner) -> optuna.Study:
    """Create the study, or join it when another process has; processes that start together may
    race to lay out a new database (a database error), so that is tried again."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    tries = 1
    while True:
        try:
            return optuna.create_study(
                storage=None if storage is None else _storage_url(storage),
                sampler=sampler,
                pruner=pruner,
                study_name=name,
                direction="maximize",
                load_if_exists=True,
            )
        except Exception as exc:  # noqa: BLE001 - a bad URL, an unreachable database: say which
            # two processes laying out a new database at once: a locked file (OperationalError)
            # or the schema version row written twice (IntegrityError); the other one won
            if tries == 5 or not isinstance(exc, (OperationalError, IntegrityError)):
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise TrainingError(f"cannot open the search storage {storage}: {reason}") from None
            tries += 1
            time.sleep(0.2 + random.random())


class SearchStudy:
    """The one definition of a search, as an Optuna study: what is sampled (the SearchSpace, via
    suggest_* so any Optuna sampler can choose), the sampler ("random", the default, or "tpe"),
    the median pruner (``prune``), and the storage (None: in memory; else a database URL or an
    SQLite file that several processes share under one ``study`` name).

    ask() -> (trial, settings); report(trial, epoch event) -> prune it?; tell(trial, result).
    The CLI's random_search and the app's search both drive it.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        dropout: bool,
        seed: int = 0,
        sampler: str = "random",
        prune: bool = False,
        storage: str | None = None,
        study: str | None = None,
        epochs: int | None = None,
    ) -> None:
        if sampler not in SAMPLERS:
            raise ConfigError(
                f"the search sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}"
            )
        if study is not None and storage is None:
            raise ConfigError("a study name needs a storage to share it (--storage)")
        self.space, self.dropout = space, dropout
        if sampler == "random":
            chooser = TrialSeededRandomSampler(seed)
        else:
            # Processes sharing a study must not draw the same startup trials: mix in the process.
            chooser = optuna.samplers.TPESampler(
                seed=seed if storage is None else seed + os.getpid(),
                constant_liar=storage is not None,
            )
        # Epoch 1 is noisy; from epoch 2 on, a trial below the median of the trials that got
        # there stops (once 2 trials have finished).
        pruner = (
            optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
            if prune
            else optuna.pruners.NopPruner()
        )
        self.study = _open_study(storage, study, chooser, pruner)
        self._check_same_search(epochs)

    def _check_same_search(self, epochs: int | None) -> None:
        """Processes sharing a study must search the same space for the same epochs."""
        mine = {"space": clean_json(asdict(self.space)), "epochs": epochs}
        theirs = {k: self.study.user_attrs.get(k) for k in mine}
        if theirs["space"] is None:
            for key, value in mine.items():
                self.study.set_user_attr(key, value)
        elif json.dumps(theirs) != json.dumps(mine):
            raise TrainingError(
                f"the study {self.study.study_name} searches {theirs}, not {mine}; "
                f"use another study name for another search"
            )

    def ask(self, run_dir_of) -> tuple[optuna.trial.Trial, Path, dict]:
        """A new trial, its run directory (``run_dir_of(Optuna trial number)``, recorded in the
        study so every process sees where each trial trains) and its sampled settings."""
        space, trial = self.space, self.study.ask()
        run_dir = Path(run_dir_of(trial.number))
        trial.set_user_attr("run_dir", str(run_dir))
        params = {
            "lr": trial.suggest_float("lr", *space.lr, log=True),
            "weight_decay": trial.suggest_float("weight_decay", *space.weight_decay, log=True),
            "dropout": trial.suggest_float("dropout", *space.dropout) if self.dropout else None,
            "batch_size": trial.suggest_categorical("batch_size", list(space.batch_sizes)),
        }
        return trial, run_dir, params

    @staticmethod
    def report(trial: optuna.trial.Trial, event) -> bool:
        """Report an epoch's validation accuracy; True: the pruner says stop this trial."""
        if event.kind != "epoch" or event.val_accuracy is None:
            return False
        trial.report(event.val_accuracy, event.epoch)
        return trial.should_prune()

    def tell(self, trial: optuna.trial.Trial, result: Mapping) -> None:
        """The trial's end (an EndEvent's fields or its result.json): completed, early-stopped
        and diverged trials count with their best validation accuracy (a diverged one as 0 if it
        had none: a bad region the sampler should learn), pruned ones as pruned; cancelled or
        failed ones as failed."""
        for key, value in clean_json({k: result.get(k) for k in _RESULT_KEYS}).items():
            trial.set_user_attr(key, value)
        status, accuracy = result.get("status"), result.get("best_val_accuracy")
        if status == "pruned":
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif status in ("completed", "early_stopped") and accuracy is not None:
            self.study.tell(trial, accuracy)
        elif status == "diverged":
            self.study.tell(trial, accuracy or 0.0)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def trials(self) -> list[Trial]:
        """Every trial of the study (all processes'), best first."""
        out = []
        for frozen in self.study.get_trials(deepcopy=False):
            attrs, params = frozen.user_attrs, frozen.params
            if "run_dir" not in attrs:
                continue  # enqueued, not started yet
            status = attrs.get("status") or frozen.state.name.lower()
            out.append(
                Trial(
                    frozen.number + 1,
                    attrs.get("run_dir", ""),
                    params.get("lr"),
                    params.get("weight_decay"),
                    params.get("dropout"),
                    params.get("batch_size"),
                    status,
                    attrs.get("best_val_accuracy"),
                    attrs.get("best_val_loss"),
                    attrs.get("best_epoch"),
                    attrs.get("message") or "",
                )
            )
        return ranked(out)


_RESULT_KEYS = ("status", "message", "best_val_accuracy", "best_val_loss", "best_epoch")


def trial_dir(root: str | Path, number: int) -> Path:
    """root/trial_01 for the study's first trial (Optuna's trial number 0): unique in the study
    whichever process runs it, so processes sharing a search never collide."""
    return Path(root) / f"trial_{number + 1:02d}"


def random_search(
    design,
    base: TrainConfig,
    root: str | Path,
    *,
    trials: int,
    epochs: int,
    space: SearchSpace | None = None,
    seed: int = 0,
    control: TrainingControl | None = None,
    on_event=None,
    sampler: str = "random",
    prune: bool = False,
    storage: str | None = None,
    study: str | None = None,
) -> list[Trial]:
    """Run ``trials`` trials of ``epochs`` epochs each under ``root`` (root/trial_01, ...) and
    return the study's trials, best first.

    All trials use base's other settings and seed (the same initial weights), and the same data.
    on_event(trial number, event) sees every event. Results of the whole study (every process
    sharing its storage) are written to root/search.json after every trial. Cancelling
    (control) stops after the current trial. With a storage, ``trials`` is this process's
    share: two processes of 5 trials each make a study of 10.
    """
    space = space or SearchSpace()
    if trials < 1 or epochs < 1:
        raise TrainingError(
            f"a search needs at least 1 trial of at least 1 epoch, got {trials} x {epochs}"
        )
    root = Path(root)
    if storage is None and ((root / RESULTS).exists() or any(root.glob("trial_*"))):
        raise TrainingError(f"{root} holds a search already; choose another directory")
    control = control or TrainingControl()
    dropout = has_dropout(design)
    search = SearchStudy(
        space,
        dropout=dropout,
        seed=seed,
        sampler=sampler,
        prune=prune,
        storage=storage,
        study=study,
        epochs=epochs,
    )
    data = prepare_for(design, base)
    for _ in range(trials):
        trial, run_dir, params = search.ask(lambda number: trial_dir(root, number))
        config = base.with_changes(epochs=epochs, **params)
        try:
            trainer = Trainer(
                design, config, run_dir, control=control, data=data, evaluate_test=False
            )
        except TrainingError as exc:
            search.tell(trial, {"status": "failed", "message": str(exc)})
            raise
        number = trial.number + 1

        def seen(event, trainer=trainer, trial=trial, number=number) -> None:
            if prune and search.report(trial, event):
                trainer.prune(
                    f"pruned after epoch {event.epoch}: its validation accuracy is below "
                    f"the median of earlier trials at that epoch"
                )
            if on_event is not None:
                on_event(number, event)

        end = trainer.run_to_end(seen)
        search.tell(trial, vars(end))
        _write_results(root, search)
        if control.cancelled:
            break
    return search.trials()


def _write_results(root: Path, search: SearchStudy) -> None:
    """search.json: the whole study. Written again while the study changed meanwhile, so with
    several processes the last file written is never older than the last trial told."""
    root.mkdir(parents=True, exist_ok=True)
    trials, written = search.trials(), None
    while trials != written:
        atomic_write_text(
            root / RESULTS, json.dumps(clean_json([asdict(t) for t in trials]), indent=2) + "\n"
        )
        written, trials = trials, search.trials()


def format_table(trials: list[Trial]) -> str:
    """The results as a text table, best first."""
    header = (
        f"{'rank':>4}  {'trial':>5}  {'val acc':>8}  {'val loss':>8}  {'lr':>9}  {'w. decay':>9}  "
        f"{'dropout':>7}  {'batch':>5}  status"
    )
    lines = [header]
    for rank, t in enumerate(ranked(trials), start=1):
        acc = f"{t.best_val_accuracy:.2%}" if t.best_val_accuracy is not None else "-"
        loss = f"{t.best_val_loss:.4f}" if t.best_val_loss is not None else "-"
        drop = f"{t.dropout:.2f}" if t.dropout is not None else "-"
        lines.append(
            f"{rank:>4}  {t.number:>5}  {acc:>8}  {loss:>8}  {t.lr:>9.2e}  {t.weight_decay:>9.2e}  "
            f"{drop:>7}  {t.batch_size:>5}  {t.status}"
        )
    return "\n".join(lines)
