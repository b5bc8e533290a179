"""Cancel and pause/resume flags a running training loop checks between steps.

Backed by threading.Event in-process, or by multiprocessing Events shared with a worker process
(anything with set/clear/is_set/wait works).
"""

from __future__ import annotations

import threading


class TrainingControl:
    def __init__(self, cancel_event=None, pause_event=None) -> None:
        self._cancel = cancel_event if cancel_event is not None else threading.Event()
        self._pause = pause_event if pause_event is not None else threading.Event()

    def cancel(self) -> None:
        """Stop at the next step; the run keeps a checkpoint and can be resumed."""
        self._cancel.set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def wait_while_paused(self, poll_seconds: float = 0.05) -> None:
        """Block while paused; returns at once when resumed or cancelled."""
        while self._pause.is_set() and not self._cancel.is_set():
            self._cancel.wait(poll_seconds)
