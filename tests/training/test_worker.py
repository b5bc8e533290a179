"""The worker process, for real: spawned, paused, killed, stopped by force; the caller is told and
never hangs, and a killed run resumes to the same numbers as one that never stopped."""

from __future__ import annotations

import os
import signal
import time

import pytest

from designer.training.engine import Trainer
from designer.training.events import EndEvent, EpochEvent, LogEvent, StateEvent, StepEvent
from designer.training.rundir import RunDir
from designer.training.worker import TrainingProcess
from tests.training.conftest import tiny_config, tiny_design
from tests.training.test_engine import without_times

WAIT = 120  # seconds; generous for a loaded 2-core machine, only reached if something is broken


def events_until(proc, predicate, timeout=WAIT):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in proc.poll(timeout=0.2):
            seen.append(event)
            if predicate(event):
                return seen
        if proc.finished:
            break
    raise AssertionError(f"not seen in time; last events: {seen[-3:]}")


@pytest.mark.slow
def test_killed_worker_is_reported_and_its_run_resumes_exactly(tmp_path):
    design, config = tiny_design(), tiny_config(epochs=3)
    proc = TrainingProcess(design, config, tmp_path / "run")
    proc.start()
    try:
        # Pause in epoch 2, so the kill lands at a known point: after a checkpoint (epoch 1)
        # and after some step lines of epoch 2 that the resumed run must replace.
        events_until(proc, lambda e: isinstance(e, EpochEvent) and e.epoch == 1)
        proc.pause()
        events_until(proc, lambda e: isinstance(e, StateEvent) and e.state == "paused")
        os.kill(proc.pid, signal.SIGKILL)
        events = events_until(proc, lambda e: isinstance(e, EndEvent))
    finally:
        proc.cancel(grace=1)
    end = events[-1]
    assert (
        end.status == "crashed" and "killed by signal 9" in end.message and "resumed" in end.message
    )
    assert proc.result is end and proc.poll() == []
    run = RunDir(tmp_path / "run")
    assert run.read_json("result.json")["status"] == "crashed"
    assert run.read_json("result.json")["epochs_run"] == 1

    resumed = Trainer(design, None, tmp_path / "run", resume=True).run_to_end()
    assert resumed.status == "completed"
    whole = Trainer(design, config, tmp_path / "whole").run_to_end()
    assert without_times(run.read_metrics()) == without_times(
        RunDir(tmp_path / "whole").read_metrics()
    )
    assert (resumed.test_loss, resumed.test_accuracy) == (whole.test_loss, whole.test_accuracy)


@pytest.mark.slow
def test_pause_resume_and_cancel(tmp_path):
    proc = TrainingProcess(tiny_design(), tiny_config(epochs=200), tmp_path / "run")
    proc.start()
    try:
        events_until(proc, lambda e: isinstance(e, StepEvent))
        proc.pause()
        events_until(proc, lambda e: isinstance(e, StateEvent) and e.state == "paused")
        time.sleep(0.5)
        assert not any(
            isinstance(e, StepEvent) for e in proc.poll(timeout=0.2)
        )  # nothing while paused
        proc.resume()
        events_until(proc, lambda e: isinstance(e, StepEvent))
        events = proc.cancel(grace=WAIT)
    finally:
        proc.cancel(grace=1)
    assert isinstance(events[-1], EndEvent) and events[-1].status == "cancelled"
    assert "resumed" in events[-1].message
    result = RunDir(tmp_path / "run").read_json("result.json")
    assert result["status"] == "cancelled" and result["epochs_run"] < 200
    assert RunDir(tmp_path / "run").load_checkpoint() is not None


@pytest.mark.slow
def test_a_worker_that_does_not_stop_is_terminated(tmp_path):
    proc = TrainingProcess(tiny_design(), tiny_config(epochs=200), tmp_path / "run")
    proc.start()
    try:
        events_until(proc, lambda e: isinstance(e, StepEvent))
        os.kill(proc.pid, signal.SIGSTOP)  # frozen: it cannot see the cancel request
        started = time.monotonic()
        events = proc.cancel(grace=1.0)
        waited = time.monotonic() - started
    finally:
        if proc._process.is_alive():
            proc._process.kill()
    assert events[-1].status == "cancelled" and "terminated" in events[-1].message
    assert not proc._process.is_alive()
    assert waited < WAIT
    assert RunDir(tmp_path / "run").read_json("result.json")["status"] == "cancelled"


@pytest.mark.slow
def test_setup_failure_in_the_worker_is_reported(tmp_path):
    proc = TrainingProcess(tiny_design(num_classes=5), tiny_config(), tmp_path / "run")
    proc.start()
    events = proc.wait(timeout=WAIT)
    assert proc.finished and events[-1].status == "failed"
    assert "10 classes" in events[-1].message and "5" in events[-1].message
    assert not (tmp_path / "run").exists()


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    import multiprocessing

    yield
    for child in multiprocessing.active_children():
        if child.name == "netdesigner-training":
            child.kill()
            raise AssertionError("a training worker was left running")


def _dies_halfway_through_a_message(
    design_text, config, run_dir, resume, weights, connection, cancel_event, pause_event
):
    """A worker killed while sending a large message: the length header and part of the bytes
    reach the pipe, then the process is gone."""
    import pickle
    import struct

    connection.send({"kind": "log", "message": "started"})
    confusion = [[i] * 500 for i in range(500)]
    payload = pickle.dumps({"kind": "end", "status": "completed", "confusion": confusion})
    os.write(connection.fileno(), struct.pack("!i", len(payload)) + payload[:4096])
    os._exit(1)


class _DyingProcess(TrainingProcess):
    target = staticmethod(_dies_halfway_through_a_message)


def test_a_worker_that_dies_halfway_through_a_message_never_leaves_the_caller_waiting(tmp_path):
    proc = _DyingProcess(tiny_design(), tiny_config(), tmp_path / "run")
    proc.start()
    started = time.monotonic()
    events = proc.wait(timeout=WAIT)
    assert time.monotonic() - started < 30
    assert [e.kind for e in events] == ["log", "end"]
    assert events[-1].status == "crashed" and "exited with code 1" in events[-1].message


def _worker_threads_note(tmp_path) -> str:
    proc = TrainingProcess(tiny_design(), tiny_config(epochs=1), tmp_path / "run")
    proc.start()
    events = proc.wait(timeout=WAIT)
    assert events[-1].status == "completed", events[-1]
    return next(e.message for e in events if isinstance(e, LogEvent) and "thread" in e.message)


@pytest.mark.slow
def test_the_worker_gets_the_compute_thread_role(tmp_path, monkeypatch):
    """Started from the app's process (one thread, set by designer.threads), the worker has the
    compute role — passive waiting, its thread count fitted to the model (one for this tiny one),
    not the app's OMP_NUM_THREADS=1; a user's own settings reach it unchanged."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("NETDESIGNER_THREAD_VARS", "OMP_NUM_THREADS,OMP_WAIT_POLICY")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    note = _worker_threads_note(tmp_path / "from_app")
    assert "1 CPU thread(s) (one for a small model" in note and "policy PASSIVE" in note

    monkeypatch.delenv("NETDESIGNER_THREAD_VARS")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")  # the user's own: kept
    note = _worker_threads_note(tmp_path / "users")
    assert "2 CPU thread(s) (OMP_NUM_THREADS=2, yours), OpenMP wait policy active" in note
