"""Best and last weights at the end of a run: both evaluated on the test split, the kept ones'
figures at the top of result.json, the choice set by `keep` and changeable afterwards."""

from __future__ import annotations

import shutil

import pytest
import torch

from designer.codegen import compile_design
from designer.interop.weights import load_weights
from designer.training.config import TrainConfig
from designer.training.engine import Trainer, prepare_for
from designer.training.events import EndEvent, event_from_dict, event_to_dict
from designer.training.metrics import evaluate
from designer.training.rundir import RunDir, RunDirError
from tests.training.conftest import LAST_IS_WORSE, tiny_config, tiny_design

FIGURES = ("loss", "accuracy", "top5", "confusion")


def top_level(result):
    return {
        "loss": result["test_loss"],
        "accuracy": result["test_accuracy"],
        "top5": result["test_top5"],
        "confusion": result["confusion"],
    }


def test_both_weights_are_evaluated_and_the_best_are_kept_by_default(finished_run):
    run = RunDir(finished_run)
    result = run.read_json(RunDir.RESULT)
    assert result["kept"] == "best" == run.kept()
    best, last = result["test"]["best"], result["test"]["last"]
    assert (best["epoch"], last["epoch"]) == (2, 3) == (result["best_epoch"], result["epochs_run"])
    assert best["accuracy"] != last["accuracy"]
    assert top_level(result) == {k: best[k] for k in FIGURES}
    # Each figure is of its own weights file, evaluated afresh here.
    design, config = tiny_design(), TrainConfig.from_dict(run.read_json(RunDir.CONFIG))
    data = prepare_for(design, config)
    for which, figures in (("best", best), ("last", last)):
        model = compile_design(design)
        load_weights(model, run.weights_file(which))
        again = evaluate(
            model,
            data.test_x,
            data.test_y,
            "cross_entropy",
            torch.device("cpu"),
            num_classes=10,
            top5=True,
            confusion=True,
        )
        assert (again.loss, again.accuracy, again.top5) == (
            figures["loss"],
            figures["accuracy"],
            figures["top5"],
        )
        assert again.confusion.tolist() == figures["confusion"]


def test_keep_last_reports_the_last_weights(finished_run, tmp_path):
    config = tiny_config(**LAST_IS_WORSE, keep="last")
    end = Trainer(tiny_design(), config, tmp_path / "run").run_to_end()
    assert end.kept == "last"
    # the same run as finished_run, but keeping the other weights
    assert end.test == RunDir(finished_run).read_json(RunDir.RESULT)["test"]
    assert (end.test_loss, end.test_accuracy, end.confusion) == (
        end.test["last"]["loss"],
        end.test["last"]["accuracy"],
        end.test["last"]["confusion"],
    )
    assert RunDir(tmp_path / "run").kept() == "last"
    assert RunDir(tmp_path / "run").kept_weights() == ("last", tmp_path / "run" / RunDir.LAST)


def test_a_finished_runs_choice_can_be_changed(finished_run, tmp_path):
    shutil.copytree(finished_run, tmp_path / "run")
    run = RunDir(tmp_path / "run")
    tests = run.read_json(RunDir.RESULT)["test"]
    result = run.set_kept("last")
    assert result == run.read_json(RunDir.RESULT) and run.kept() == "last"
    assert top_level(result) == {k: tests["last"][k] for k in FIGURES} and result["test"] == tests
    assert run.kept_weights()[1].name == RunDir.LAST
    run.set_kept("best")
    assert top_level(run.read_json(RunDir.RESULT)) == {k: tests["best"][k] for k in FIGURES}
    with pytest.raises(RunDirError, match="best or last, not 'worst'"):
        run.set_kept("worst")


def test_runs_that_can_be_resumed_or_have_no_result_keep_nothing_yet(tmp_path):
    run = RunDir(tmp_path / "run")
    with pytest.raises(RunDirError, match="no finished run"):
        run.set_kept("last")
    run.create(tiny_config(keep="last").to_dict(), "{}")
    run.write_json(RunDir.RESULT, {"status": "cancelled"})
    assert run.kept() == "last"  # its settings' choice until it finishes
    with pytest.raises(RunDirError, match="cancelled and can be resumed"):
        run.set_kept("best")


def test_results_from_before_the_choice_are_the_last_weights(tmp_path):
    run = RunDir(tmp_path)
    run.write_json(
        RunDir.RESULT,
        {
            "status": "completed",
            "test_accuracy": 0.9,
            "test_loss": 0.3,
            "test_top5": 1.0,
            "confusion": [[1]],
        },
    )
    assert run.kept() == "last"


def test_the_end_event_carries_both_figures_through_the_worker_queue(finished_run):
    result = RunDir(finished_run).read_json(RunDir.RESULT)
    end = EndEvent(
        "completed", kept=result["kept"], test=result["test"], test_accuracy=result["test_accuracy"]
    )
    again = event_from_dict(event_to_dict(end))
    assert (again.kept, again.test, again.test_accuracy) == (
        "best",
        result["test"],
        end.test_accuracy,
    )
