"""Run a slow function (loading a dataset, evaluating a run) on a Python thread and hand its result
back on the UI thread, so the window keeps painting. Each task has a generation number: a result
that arrives after a newer task was started is dropped, so the UI shows only the latest answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class BackgroundTask(QObject):
    """One kind of background job; start() again supersedes the previous one."""

    finished = Signal(int, object)  # generation, result
    failed = Signal(int, str)  # generation, message

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.generation = 0
        self.busy = False
        self._on_done: Callable[[Any], None] | None = None
        self._on_error: Callable[[str], None] | None = None
        self.finished.connect(self._finished)
        self.failed.connect(self._failed)

    def start(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        errors: tuple[type[Exception], ...],
    ) -> None:
        """Run ``work()``; ``errors`` are the expected failures, reported by their message
        (anything else is reported too, with its type, rather than lost on the thread)."""
        self.generation += 1
        self.busy = True
        self._on_done, self._on_error = on_done, on_error
        generation = self.generation

        def run() -> None:
            try:
                result = work()
            except errors as exc:
                self.failed.emit(generation, str(exc))
            except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
                self.failed.emit(generation, f"{type(exc).__name__}: {exc}")
            else:
                self.finished.emit(generation, result)

        threading.Thread(target=run, name="netdesigner-background", daemon=True).start()

    def _finished(self, generation: int, result: object) -> None:
        if generation == self.generation:
            self.busy = False
            self._on_done(result)

    def _failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.busy = False
            self._on_error(message)
