"""The thread rule of designer.threads: each role's settings, the user's own settings win, and
settings inherited from a parent of another role are replaced."""

from __future__ import annotations

import os

import pytest

from designer import threads


def test_each_role_gets_its_settings():
    env = {}
    threads.apply("ui", env)
    assert env == {
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        threads.OURS: "OMP_NUM_THREADS,OMP_WAIT_POLICY",
    }
    env = {}
    threads.apply("compute", env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE", threads.OURS: "OMP_WAIT_POLICY"}


def test_a_child_replaces_what_its_parent_set_but_not_what_the_user_set():
    env = {"PATH": "/bin"}
    threads.apply("ui", env)  # the app's process
    threads.apply("compute", env)  # the training worker it starts, inheriting its environment
    assert env == {"PATH": "/bin", "OMP_WAIT_POLICY": "PASSIVE", threads.OURS: "OMP_WAIT_POLICY"}
    mine = {"OMP_NUM_THREADS": "3", "OMP_WAIT_POLICY": "active"}
    for role in ("ui", "compute"):
        env = dict(mine)
        threads.apply(role, env)
        assert env == mine


def test_child_environment_is_restored(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv(threads.OURS, "OMP_NUM_THREADS")  # as if this were the app's process
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with threads.child_environment("compute"):
        assert "OMP_NUM_THREADS" not in os.environ and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert os.environ["OMP_NUM_THREADS"] == "1" and "OMP_WAIT_POLICY" not in os.environ
    assert os.environ[threads.OURS] == "OMP_NUM_THREADS"


def test_unknown_role():
    with pytest.raises(ValueError, match="roles: ui, compute"):
        threads.apply("gpu", {})


def test_a_compute_process_fits_its_threads_to_the_model(monkeypatch):
    """One thread for a small model, torch's default for a large one, the user's choice kept."""
    import torch

    from designer import threads

    before = torch.get_num_threads()
    monkeypatch.setenv(threads.OURS, "OMP_WAIT_POLICY")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        assert threads.fit_to_model(400_000) == 1 and torch.get_num_threads() == 1
        large = threads.fit_to_model(40_000_000)
        assert large == threads._default_threads() and torch.get_num_threads() == large
        monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own
        assert threads.fit_to_model(400_000) is None and torch.get_num_threads() == large
        assert "OMP_NUM_THREADS=3, yours" in threads.describe()
    finally:
        torch.set_num_threads(before)
