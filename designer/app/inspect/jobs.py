"""Slow work of the Inspect views (top patches over a dataset, a confusion matrix, a gradient
check) on a Python thread, with progress and cancel, its result handed back on the UI thread.
Starting a job again supersedes the one running: the old one is told to stop and its result,
should it still arrive, is dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class Cancelled(Exception):
    """Raised inside a job's work (from its progress callback) once it is cancelled."""


class Job(QObject):
    progress = Signal(int, int, int)  # generation, done, total
    finished = Signal(int, object)  # generation, result
    failed = Signal(int, str)  # generation, message
    state_changed = Signal(bool)  # running or not

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.generation = 0
        self.running = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_done: Callable[[Any], None] | None = None
        self._on_error: Callable[[str], None] | None = None
        self._on_progress: Callable[[int, int], None] | None = None
        self.progress.connect(self._progressed)
        self.finished.connect(self._finished)
        self.failed.connect(self._failed)

    def start(
        self,
        work: Callable[[Callable[[int, int], None]], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Run ``work(report)``; it calls ``report(done, total)`` as it goes, which raises
        Cancelled once the job is cancelled."""
        self.cancel()
        self.generation += 1
        generation = self.generation
        stop = self._stop = threading.Event()
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress

        def report(done: int, total: int) -> None:
            if stop.is_set():
                raise Cancelled
            self.progress.emit(generation, done, total)

        def run() -> None:
            try:
                result = work(report)
            except Cancelled:
                self.failed.emit(generation, "cancelled")
            except Exception as exc:  # noqa: BLE001 - shown to the user, not lost on the thread
                self.failed.emit(generation, str(exc) or type(exc).__name__)
            else:
                self.finished.emit(generation, result)

        self._set_running(True)
        self._thread = threading.Thread(target=run, name="netdesigner-inspect", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the running job to stop at its next progress report."""
        self._stop.set()

    def wait(self, seconds: float = 10.0) -> None:
        """Block until the thread ends (closing the window; tests)."""
        if self._thread is not None:
            self._thread.join(seconds)

    def _set_running(self, running: bool) -> None:
        if running != self.running:
            self.running = running
            self.state_changed.emit(running)

    def _progressed(self, generation: int, done: int, total: int) -> None:
        if generation == self.generation and self._on_progress is not None:
            self._on_progress(done, total)

    def _finished(self, generation: int, result: object) -> None:
        if generation == self.generation:
            self._set_running(False)
            self._on_done(result)

    def _failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self._set_running(False)
            self._on_error(message)
