"""The Training workspace, driven as a user drives it (pytest-qt, offscreen) with real worker
processes on the bundled digits: curves fill while a run trains, runs appear in the list, pause,
stop and resume give the numbers of an uninterrupted run, a killed worker shows as crashed, two
runs overlay, and bad settings are refused with the engine's reason."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from designer.training.engine import Trainer
from designer.training.rundir import RunDir
from designer.training.runs import read_metrics
from tests.training.conftest import tiny_design

WAIT_MS = 180_000  # only reached when something is broken (a loaded 2-core machine is slow)


def set_setting(ws, key: str, text: str) -> None:
    field = ws.form.fields[key]
    field.editor.setText(text)
    field.edited.emit()


@pytest.fixture
def ws(make_window, qtbot):
    window = make_window(tiny_design())
    workspace = window.show_training()
    qtbot.waitUntil(lambda: workspace.data.summary is not None, timeout=WAIT_MS)
    for key, text in (("epochs", "2"), ("batch_size", "128"), ("lr", "0.01")):
        set_setting(workspace, key, text)
    workspace.form.fields["device"].editor.setCurrentText("cpu")
    yield workspace
    if workspace.controller.running:
        workspace.controller.stop_now(grace=5)


def wait_idle(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.controller.running, timeout=WAIT_MS)


@pytest.mark.slow
def test_a_run_fills_the_plots_and_appears_in_the_runs_list(ws, qtbot):
    assert ws.train()
    qtbot.waitUntil(lambda: ws.plots.point_counts()["step_loss"] > 0, timeout=WAIT_MS)
    wait_idle(ws, qtbot)
    assert ws.runs_table.rowCount() == 1
    run = ws.runs[0]
    assert (run.status, run.epochs_run) == ("completed", 2)
    counts = ws.plots.point_counts()
    steps = sum(1 for r in read_metrics(run.path) if r["kind"] == "step")
    assert counts["step_loss"] == 2 * steps   # raw loss and its average, every step
    assert counts["epoch_loss"] == counts["accuracy"] == 4  # training + validation, 2 epochs
    curves = ws.plots.runs[str(run.path)]
    engine_ema = [r["loss_ema"] for r in read_metrics(run.path) if r["kind"] == "step"]
    from designer.app.training.plots import smooth

    np.testing.assert_allclose(smooth(curves.steps["loss"].values, 0.99), engine_ema, rtol=1e-6)
    assert "Test accuracy" in ws.results.summary.text()
    assert ws.results.matrix.rowCount() == 10
    assert ws.runs_table.item(0, 5).text().endswith("%")


@pytest.mark.slow
def test_pause_stop_and_resume_reach_the_numbers_of_an_uninterrupted_run(ws, qtbot, tmp_path):
    set_setting(ws, "epochs", "6")
    config = ws.form.config
    assert ws.train()
    qtbot.waitUntil(lambda: ws.plots.point_counts()["step_loss"] > 0, timeout=WAIT_MS)
    assert ws.runs_table.item(0, 1).text() == "training…"  # listed while it trains
    ws.toggle_pause()
    qtbot.waitUntil(lambda: ws.controller.paused, timeout=WAIT_MS)
    assert ws.pause_button.text() == "Resume"
    ws.toggle_pause()
    qtbot.waitUntil(lambda: not ws.controller.paused, timeout=WAIT_MS)
    ws.stop()
    wait_idle(ws, qtbot)
    stopped = ws.runs[0]
    assert stopped.status == "cancelled" and stopped.resumable
    assert ws.resume_button.isEnabled()
    assert ws.resume_run()
    wait_idle(ws, qtbot)
    resumed = ws.runs[0]
    assert (resumed.status, resumed.epochs_run) == ("completed", 6)
    whole = Trainer(tiny_design(), config, tmp_path / "whole").run_to_end()
    assert (resumed.test_loss, resumed.test_accuracy) == (whole.test_loss, whole.test_accuracy)


@pytest.mark.slow
def test_a_killed_worker_shows_as_crashed_and_the_run_resumes(ws, qtbot):
    set_setting(ws, "epochs", "200")
    assert ws.train()
    qtbot.waitUntil(lambda: any(r.epochs_run >= 1 for r in ws.runs), timeout=WAIT_MS)
    os.kill(ws.controller.process.pid, signal.SIGKILL)
    wait_idle(ws, qtbot)
    assert "crashed" in ws.state_label.text() and "Resume" in ws.state_label.text()
    assert ws.runs[0].status == "crashed" and ws.runs[0].resumable
    assert ws.train_button.isEnabled() and ws.resume_button.isEnabled()
    ws.editor.set_setting("name", "still editable")  # the UI keeps working
    assert ws.editor.design.name == "still editable"


@pytest.mark.slow
def test_two_selected_runs_overlay_with_one_curve_each(ws, qtbot):
    set_setting(ws, "epochs", "1")
    for lr in ("0.01", "0.02"):
        set_setting(ws, "lr", lr)
        assert ws.train()
        wait_idle(ws, qtbot)
    ws.runs_table.selectAll()
    assert len(ws.plots.runs) == 2
    for plot in (ws.plots.step_loss, ws.plots.epoch_loss, ws.plots.accuracy, ws.plots.lr):
        keys = {key for key, _series in plot.curves}
        assert keys == {str(r.path) for r in ws.runs}
    assert "lr 0.01 → 0.02" in ws.runs_table.item(1, 7).text()
    assert ws.comparison.verticalHeaderItem(0).text() == "lr"  # differing settings first


def test_an_invalid_setting_is_refused_with_the_engines_reason(ws):
    set_setting(ws, "lr", "-1")
    field = ws.form.fields["lr"]
    assert ws.form.config is None and not ws.train_button.isEnabled()
    assert "'lr' must be above 0" in field.error.text() and field.error.isVisibleTo(ws)
    set_setting(ws, "lr", "fast")
    assert field.error.text() == "a number expected, got 'fast'"
    assert not ws.train()
    set_setting(ws, "lr", "0.01")
    assert ws.form.config is not None and not field.error.isVisibleTo(ws)
    assert ws.train_button.isEnabled()


def test_rows_that_do_not_apply_to_the_optimizer_are_hidden(ws):
    form = ws.form
    visible = lambda key: form.fields[key].isVisibleTo(ws)
    form.fields["optimizer"].editor.setCurrentText("rmsprop")
    assert visible("rmsprop_alpha") and not visible("beta1")
    form.fields["optimizer"].editor.setCurrentText("adam")
    assert visible("beta1") and not visible("rmsprop_alpha")


def test_a_head_that_does_not_fit_the_data_is_fixed_in_one_undoable_step(make_window, qtbot):
    window = make_window(tiny_design(num_classes=5))
    ws = window.show_training()
    qtbot.waitUntil(lambda: ws.data.summary is not None, timeout=WAIT_MS)
    assert "10 classes" in ws.data.mismatch.text() and "5" in ws.data.mismatch.text()
    assert not ws.train() and "10 classes" in ws.state_label.text()
    ws.data.fix_button.click()
    head = next(n for n in window.editor.design.nodes.values() if n.type == "Linear")
    assert head.params["out_features"] == 10 and window.editor.design.num_classes == 10
    assert not ws.data.mismatch.isVisibleTo(ws)
    window.editor.undo()
    assert head.params["out_features"] == 5 and window.editor.design.num_classes == 5


@pytest.mark.slow
def test_closing_while_training_stops_the_run_keeping_a_checkpoint(ws, qtbot):
    set_setting(ws, "epochs", "200")
    assert ws.train()
    qtbot.waitUntil(lambda: any(r.epochs_run >= 1 for r in ws.runs), timeout=WAIT_MS)
    window = ws.window_
    window.answers.replies["choose"] = None
    window.close()
    assert window.isVisible() and ws.controller.running  # cancelled: nothing happens
    run_dir = ws.controller.run_dir
    window.answers.replies["choose"] = "stop"
    window.close()
    assert not ws.controller.running
    assert RunDir(run_dir).read_json("result.json")["status"] == "cancelled"
    assert RunDir(run_dir).load_checkpoint() is not None
