"""The one training run the app is driving: a TrainingProcess (a spawned worker) whose events are
drained from a QTimer, a bounded number per tick, so the UI never blocks on the worker and a flood
of step events cannot starve painting. The run trains the design as it was when it started."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

POLL_MS = 40  # 25 Hz: live enough for curves, cheap for the UI thread
EVENTS_PER_TICK = 500


@dataclass
class Progress:
    """What the progress bar and the status bar show."""

    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps_total: int = 0
    samples_per_second: float = 0.0
    eta_seconds: float | None = None
    paused: bool = False

    def text(self) -> str:
        parts = [f"epoch {self.epoch}/{self.epochs}", f"step {self.step}/{self.steps_total}"]
        if self.samples_per_second:
            parts.append(f"{self.samples_per_second:,.0f} samples/s")
        if self.eta_seconds is not None:
            parts.append(f"ETA {format_seconds(self.eta_seconds)}")
        if self.paused:
            parts.append("paused")
        return " · ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RunController(QObject):
    """Starts, pauses, resumes and stops one run; re-emits its events on the UI thread."""

    event = Signal(object)  # every event of the run, in order
    progress = Signal(object)  # Progress, after the events of a tick
    ended = Signal(object)  # the EndEvent (always the last thing emitted for a run)
    state_changed = Signal()  # running / paused / idle changed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.process = None
        self.run_dir: Path | None = None
        self.kind = "train"  # "train" or "overfit"
        self.batch_size = 0
        self._progress = Progress()
        self._steps_before = 0  # steps already done when the run (re)started
        self._started_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._drain)

    # -- state --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and not self.process.finished

    @property
    def paused(self) -> bool:
        return self.running and self._progress.paused

    # -- control ------------------------------------------------------------------------------
    def start(
        self,
        design,
        config,
        run_dir: str | Path,
        *,
        resume: bool = False,
        weights: str | Path | None = None,
        kind: str = "train",
    ) -> None:
        """Start a worker on ``run_dir`` (design and config None when resuming: the run's own)."""
        from designer.training.worker import TrainingProcess

        if self.running:
            raise RuntimeError("a run is in progress already")
        self.run_dir = Path(run_dir)
        self.kind = kind
        self.batch_size = config.batch_size if config is not None else 0
        self._progress = Progress()
        self._steps_before = 0
        self._started_at = time.monotonic()
        self.process = TrainingProcess(design, config, run_dir, resume=resume, weights=weights)
        self.process.start()
        self._timer.start()
        self.state_changed.emit()

    def pause(self) -> None:
        if self.running:
            self.process.pause()

    def resume(self) -> None:
        if self.running:
            self.process.resume()

    def stop(self) -> None:
        """Ask the run to stop after this step; it checkpoints and ends "cancelled" (the end
        arrives through the timer like every other event, so the UI does not wait here)."""
        if self.running:
            self.process.request_stop()

    def stop_now(self, grace: float = 10.0) -> None:
        """Stop and wait for it (closing the app): the checkpoint is written before returning."""
        if self.running:
            for event in self.process.cancel(grace=grace):
                self._handle(event)

    # -- events -------------------------------------------------------------------------------
    def _drain(self) -> None:
        if self.process is None:
            self._timer.stop()
            return
        events = self.process.poll(limit=EVENTS_PER_TICK)
        for event in events:
            self._handle(event)
        if events and self.process is not None:
            self.progress.emit(self._progress)

    def _handle(self, event) -> None:
        kind = event.kind
        p = self._progress
        if kind == "start":
            p.epochs = event.epochs
            p.steps_total = event.epochs * event.steps_per_epoch
            p.epoch = event.start_epoch
            p.step = self._steps_before = (
                event.start_epoch * event.steps_per_epoch + event.start_batch
            )
            self._started_at = time.monotonic()
        elif kind == "step":
            p.epoch, p.step = event.epoch, event.step
            done = p.step - self._steps_before
            elapsed = time.monotonic() - self._started_at
            if done > 0 and elapsed > 0:
                rate = done / elapsed
                if self.batch_size:
                    p.samples_per_second = rate * self.batch_size
                p.eta_seconds = (p.steps_total - p.step) / rate
        elif kind == "epoch":
            p.samples_per_second = event.samples_per_second
        elif kind == "state":
            p.paused = event.state == "paused"
            self.state_changed.emit()
        self.event.emit(event)
        if kind == "end":
            self._timer.stop()
            self.process = None
            self.state_changed.emit()
            self.ended.emit(event)
