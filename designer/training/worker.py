"""Training in a spawned worker process, so a UI stays responsive.

The worker runs the same Trainer and sends every event, as a small dict, through a one-way pipe
(from a sender thread, so training never waits for the reader); the caller drains it with poll()
(e.g. from a QTimer). Cancel sets an Event the loop checks every step, and terminates the worker if
it has not finished within a grace period; pause/resume is a second Event. A worker that crashes or
is killed is reported as an EndEvent with status "crashed" (its last checkpoint is kept, so the run
can be resumed); the caller never hangs. The parent closes its copy of the pipe's writing end, so
a worker that dies halfway through a message reads as end-of-file, not as a message still coming
(an mp.Queue keeps both ends open in the parent, and its reader then waits forever).
The worker runs with the "compute" thread role (designer.threads) and says so in a LogEvent
after its StartEvent.
"""

from __future__ import annotations

import queue as queue_module
import signal
import threading
import time
from pathlib import Path

import torch.multiprocessing as mp

from designer import threads
from designer.core.serialization import dumps
from designer.training.config import TrainConfig
from designer.training.control import TrainingControl
from designer.training.events import (
    EndEvent,
    EpochEvent,
    Event,
    LogEvent,
    StartEvent,
    event_from_dict,
    event_to_dict,
)
from designer.training.rundir import RunDir

_CONTEXT = mp.get_context("spawn")  # fork would copy the parent's threads and Qt state


class _Sender:
    """The worker's end of the pipe: put() never blocks the training loop; a thread sends."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self._queue: queue_module.SimpleQueue = queue_module.SimpleQueue()
        self._thread = threading.Thread(target=self._send_all, name="events-sender", daemon=True)
        self._thread.start()

    def put(self, data: dict) -> None:
        self._queue.put(data)

    def _send_all(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                self._connection.send(data)
            except OSError:  # the parent is gone: nobody is listening any more
                return

    def close(self) -> None:
        """Send what is queued, then close the pipe (the parent then reads end-of-file)."""
        self._queue.put(None)
        self._thread.join()
        self._connection.close()


def _worker_main(
    design_text, config_dict, run_dir, resume, weights, connection, cancel_event, pause_event
):
    """The worker process: train, sending each event as a dict; the last one is always "end"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the parent's to handle
    events = _Sender(connection)
    try:
        from designer.core.serialization import loads
        from designer.training.engine import Trainer
        from designer.training.model import TrainingError

        design = loads(design_text) if design_text is not None else None
        config = TrainConfig.from_dict(config_dict) if config_dict is not None else None
        control = TrainingControl(cancel_event, pause_event)
        try:
            trainer = Trainer(
                design, config, run_dir, resume=resume, control=control, weights=weights
            )
        except TrainingError as exc:
            events.put(event_to_dict(EndEvent("failed", str(exc))))
            return
        for event in trainer.events():
            events.put(event_to_dict(event))
            if isinstance(event, StartEvent):  # how this process was set up (designer.threads)
                events.put(event_to_dict(LogEvent(f"training process: {threads.describe()}")))
    except Exception as exc:  # noqa: BLE001 - reported to the caller rather than lost
        events.put(event_to_dict(EndEvent("failed", f"the training process failed: {exc}")))
    finally:
        events.close()  # everything put reaches the pipe before the process exits


class TrainingProcess:
    """A training run in a spawned process.

    proc = TrainingProcess(design, config, "runs/a")
    proc.start()
    ... every few ms:  for event in proc.poll(): ...
    proc.pause(); proc.resume(); proc.cancel()
    """

    target = staticmethod(_worker_main)  # what the process runs (a test plays a dying worker)

    def __init__(
        self,
        design,
        config: TrainConfig | None,
        run_dir: str | Path,
        *,
        resume: bool = False,
        weights: str | Path | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self._environment = environment or {}  # more variables for the child (its GPU)
        self._args = (
            dumps(design) if design is not None else None,
            config.to_dict() if config is not None else None,
            str(run_dir),
            resume,
            None if weights is None else str(weights),
        )
        self._events, self._writer = _CONTEXT.Pipe(duplex=False)
        self._cancel = _CONTEXT.Event()
        self._pause = _CONTEXT.Event()
        self._process = None
        self.result: EndEvent | None = None
        self._epochs_done = 0
        self._best_val_accuracy: float | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def best_val_accuracy(self) -> float | None:
        """The best validation accuracy of the epochs received so far."""
        return self._best_val_accuracy

    @property
    def finished(self) -> bool:
        return self.result is not None

    def start(self) -> None:
        self._process = _CONTEXT.Process(
            target=self.target,
            args=(*self._args, self._writer, self._cancel, self._pause),
            name="netdesigner-training",
            daemon=True,
        )
        # The child's threads are set by the environment it starts with: torch is imported
        # (unpickling this module) before any code of ours runs there.
        with threads.child_environment("compute", self._environment):
            self._process.start()
        self._writer.close()  # the worker holds the only writing end now (see the module doc)

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def _receive(self, timeout: float) -> dict | None:
        """The next message, waiting up to ``timeout``; None when there is none yet or the pipe
        is closed (the worker has exited, or died halfway through a message)."""
        if self._events.closed:
            return None
        try:
            if not self._events.poll(timeout):
                return None
            return self._events.recv()
        except (EOFError, OSError):
            self._events.close()
            return None

    def poll(self, timeout: float = 0.0, limit: int | None = None) -> list[Event]:
        """The events that arrived (waiting up to ``timeout`` for the first, at most ``limit``);
        ends with an EndEvent once the run is over, including when the worker died without
        sending one."""
        if self.result is not None or self._process is None:
            return []
        events: list[Event] = []
        deadline = time.monotonic() + timeout
        while limit is None or len(events) < limit:
            wait = max(0.0, deadline - time.monotonic()) if not events else 0.0
            data = self._receive(wait)
            if data is None:
                break
            event = event_from_dict(data)
            events.append(event)
            self._note(event)
            if isinstance(event, EndEvent):
                self._finish(event)
                return events
        if (limit is None or len(events) < limit) and not self._process.is_alive():
            events.extend(self._drain_after_exit(None))
        return events

    def _note(self, event: Event) -> None:
        if isinstance(event, EpochEvent):
            self._epochs_done = event.epoch
            if event.best:
                self._best_val_accuracy = event.val_accuracy

    def _drain_after_exit(self, end: EndEvent | None) -> list[Event]:
        """The events left in the queue of a worker that has exited, ending with its EndEvent or,
        if it sent none, with ``end`` (default: a "crashed" one describing the exit)."""
        events: list[Event] = []
        while (data := self._receive(0.1)) is not None:  # what the worker sent before exiting
            event = event_from_dict(data)
            events.append(event)
            self._note(event)
            if isinstance(event, EndEvent):
                self._finish(event)
                return events
        if end is None:
            code = self._process.exitcode
            how = (
                f"was killed by signal {-code}"
                if code is not None and code < 0
                else f"exited with code {code}"
            )
            end = EndEvent(
                "crashed",
                f"the training process {how} without finishing; the last checkpoint is "
                f"kept, so the run can be resumed",
            )
        self._record(end)
        events.append(end)
        return events

    def wait(self, timeout: float | None = None) -> list[Event]:
        """Block until the run ends (or ``timeout`` passes); returns the events received."""
        deadline = None if timeout is None else time.monotonic() + timeout
        events: list[Event] = []
        while self.result is None and (deadline is None or time.monotonic() < deadline):
            events.extend(self.poll(timeout=0.2))
        if self.result is not None:
            self.join()
        return events

    def join(self, timeout: float = 5.0) -> None:
        """Wait for a finished worker to exit (it sent its end; Python and torch take a moment
        to shut down), terminating it if it does not within ``timeout``. poll() never waits for
        this, so a UI does not freeze while the worker exits."""
        if self._process is None:
            return
        self._process.join(timeout)
        if self._process.is_alive():
            self._stop_process()

    def request_stop(self) -> None:
        """Ask the run to stop after its current step, without waiting (a UI keeps polling and
        sees the "cancelled" end arrive); cancel() is the waiting form."""
        if self._process is not None and self.result is None:
            self._cancel.set()
            self._pause.clear()

    def cancel(self, grace: float = 10.0) -> list[Event]:
        """Ask the run to stop (it checkpoints and ends "cancelled"); if it has not ended within
        ``grace`` seconds, terminate it. Returns the events received meanwhile."""
        if self._process is None or self.result is not None:
            return []
        self._cancel.set()
        self._pause.clear()
        events = self.wait(timeout=grace)
        if self.result is None:
            self._stop_process()
            events.extend(
                self._drain_after_exit(
                    EndEvent(
                        "cancelled",
                        f"the training process did not stop within {grace:g} s and was terminated; "
                        f"the last checkpoint is kept, so the run can be resumed",
                    )
                )
            )
        return events

    def _stop_process(self) -> None:
        self._process.terminate()
        self._process.join(3.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(3.0)

    def _finish(self, end: EndEvent) -> None:
        self.result = end
        self._events.close()

    def _record(self, end: EndEvent) -> None:
        """The worker could not write its result: write it here, if the run got that far."""
        end.epochs_run = self._epochs_done
        end.best_val_accuracy = self._best_val_accuracy
        self.result = end
        run = RunDir(self.run_dir)
        if run.file(RunDir.CONFIG).exists():
            run.write_result(end)
