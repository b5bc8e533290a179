"""The runs of a design as the Runs panel reads them: listed from real run directories, renamed,
deleted, compared by settings, and marked stale only when the network itself changed."""

from __future__ import annotations

import json

import pytest

from designer.core.serialization import dumps
from designer.training.engine import Trainer
from designer.training.rundir import RunDirError
from designer.training.runs import (
    delete_run,
    describe_diff,
    list_runs,
    move_runs,
    network_fingerprint,
    new_run_path,
    read_run,
    rename_run,
    runs_folder_for,
    settings_diff,
)
from tests.training.conftest import tiny_config, tiny_design


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    design = tiny_design()
    Trainer(design, tiny_config(epochs=1), new_run_path(folder)).run_to_end()
    Trainer(design, tiny_config(epochs=2, lr=0.02), new_run_path(folder)).run_to_end()
    return folder, design


def test_runs_are_listed_oldest_first_with_their_results(two_runs):
    folder, design = two_runs
    (folder / "not-a-run").mkdir(exist_ok=True)
    runs = list_runs(folder)
    assert [r.name for r in runs] == ["run-001", "run-002"]
    first, second = runs
    assert (first.status, first.epochs_run, second.epochs_run) == ("completed", 1, 2)
    result = json.loads((second.path / "result.json").read_text())
    assert second.test_accuracy == result["test_accuracy"] is not None
    assert second.best_val_accuracy == result["best_val_accuracy"]
    assert first.fingerprint == second.fingerprint == network_fingerprint(dumps(design))
    assert not first.resumable
    assert (
        describe_diff(settings_diff(first.config, second.config)) == "epochs 1 → 2, lr 0.01 → 0.02"
    )


def test_new_run_names_never_reuse_a_taken_one(tmp_path):
    assert new_run_path(tmp_path).name == "run-001"
    (tmp_path / "run-001").mkdir()
    (tmp_path / "run-007").mkdir()
    assert new_run_path(tmp_path).name == "run-008"


def test_moving_a_node_does_not_change_the_fingerprint_but_a_param_does():
    design = tiny_design()
    before = network_fingerprint(dumps(design))
    conv = next(n for n in design.nodes.values() if n.type == "Conv2d")
    design.set_node_attr(conv.id, "position", (123.0, 456.0))
    assert network_fingerprint(dumps(design)) == before
    design.set_node_attr(conv.id, "params", {**conv.params, "out_channels": 5})
    assert network_fingerprint(dumps(design)) != before


def test_rename_delete_and_move(tmp_path):
    run = new_run_path(tmp_path / "a")
    Trainer(tiny_design(), tiny_config(epochs=1), run).run_to_end()
    renamed = rename_run(run, "batch norm, lr 0.01")
    assert renamed.name == "batch norm, lr 0.01" and read_run(renamed).status == "completed"
    (tmp_path / "a" / "taken").mkdir()
    with pytest.raises(RunDirError, match="exists already"):
        rename_run(renamed, "taken")
    with pytest.raises(RunDirError, match="cannot contain"):
        rename_run(renamed, "x/y")
    with pytest.raises(RunDirError, match="not a training run"):
        delete_run(tmp_path / "a" / "taken")
    assert (tmp_path / "a" / "taken").exists()
    moved = move_runs(tmp_path / "a", tmp_path / "b")
    assert [p.name for p in moved] == ["batch norm, lr 0.01"]
    delete_run(moved[0])
    assert list_runs(tmp_path / "b") == []


def test_runs_folder_is_beside_the_design_file(tmp_path):
    assert runs_folder_for(tmp_path / "lenet.json") == tmp_path / "runs" / "lenet"
