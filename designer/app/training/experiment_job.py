"""An experiment the Training workspace is running: its runs (prepared by
designer.training.experiment_run.prepare_experiment, so resumable exactly as the CLI's: finished
runs are not trained again, stopped ones continue from their checkpoint) go one at a time to the
workspace's RunController, the same worker as a single run; and the progress of the whole."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from designer.app.training.controller import format_seconds
from designer.training.experiment import Experiment
from designer.training.experiment_run import FINISHED, PreparedExperiment


@dataclass
class NextRun:
    path: Path
    design: object
    config: object
    resume: bool


@dataclass
class ExperimentJob:
    experiment: Experiment
    prepared: PreparedExperiment
    queue: list[int] = field(default_factory=list)  # plan indexes still to train
    current: int | None = None
    trained: list[str] = field(default_factory=list)
    spent: list[float] = field(default_factory=list)  # seconds of each run trained here
    stopped: bool = False
    done: int = 0  # runs finished (completed, stopped early, diverged): before, and since
    _started: float = 0.0

    def __post_init__(self) -> None:
        self.queue = self.prepared.pending()
        self.done = self.total - len(self.queue)

    @property
    def out(self) -> Path:
        return self.prepared.out

    @property
    def total(self) -> int:
        return len(self.prepared.plan)

    @property
    def position(self) -> int:
        """The number of the run being trained (the runs before it were skipped or trained)."""
        return self.total - len(self.queue)

    @property
    def current_path(self) -> Path | None:
        return None if self.current is None else self.out / self.prepared.plan[self.current].name

    def next_run(self) -> NextRun | None:
        """The next run to train, or None when there is none left or the job was stopped."""
        if self.stopped or not self.queue:
            self.current = None
            return None
        self.current = self.queue.pop(0)
        design, config = self.prepared.built[self.current]
        status = self.prepared.statuses[self.current]
        self._started = time.monotonic()
        return NextRun(self.current_path, design, config, status is not None)

    def run_ended(self, status: str) -> None:
        self.spent.append(time.monotonic() - self._started)
        self.trained.append(self.prepared.plan[self.current].name)
        self.done += status in FINISHED
        if status == "cancelled":
            self.stopped = True
        self.current = None

    def eta(self, run_eta: float | None) -> float | None:
        """Seconds until the experiment ends: the current run's ETA plus the runs after it at
        the mean time of the runs trained so far (or of the current run's estimate)."""
        if self.current is None:
            return None
        elapsed = time.monotonic() - self._started
        if self.spent:
            per_run = sum(self.spent) / len(self.spent)
        elif run_eta is not None:
            per_run = elapsed + run_eta
        else:
            return None
        now = run_eta if run_eta is not None else max(0.0, per_run - elapsed)
        return now + per_run * len(self.queue)

    def text(self, run_eta: float | None) -> str:
        """'run 3 of 8 · experiment ETA 4 min 10 s' for the progress bar and status bar."""
        parts = [f"run {self.position} of {self.total}"]
        eta = self.eta(run_eta)
        if eta is not None:
            parts.append(f"experiment ETA {format_seconds(eta)}")
        return " · ".join(parts)
