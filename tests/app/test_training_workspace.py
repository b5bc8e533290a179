"""The Training workspace, driven as a user drives it (pytest-qt, offscreen) with real worker
processes on the bundled digits: curves fill while a run trains, runs appear in the list, pause,
stop and resume give the numbers of an uninterrupted run, a killed worker shows as crashed, two
runs overlay, and bad settings are refused with the engine's reason."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from designer.training.curves import ema
from designer.training.engine import Trainer
from designer.training.rundir import RunDir
from designer.training.runs import read_metrics
from tests.app.gestures import next_turn
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
    assert counts["step_loss"] == 2 * steps  # raw loss and its average, every step
    assert counts["epoch_loss"] == counts["accuracy"] == 4  # training + validation, 2 epochs
    curves = ws.plots.runs[str(run.path)]
    engine_ema = [r["loss_ema"] for r in read_metrics(run.path) if r["kind"] == "step"]
    np.testing.assert_allclose(ema(curves.steps["loss"].values, 0.99), engine_ema, rtol=1e-6)
    assert "Test accuracy" in ws.results.summary.text()
    assert ws.results.matrix.rowCount() == 10
    assert ws.runs_table.item(0, 5).text().endswith("%")


@pytest.mark.slow
def test_pause_stop_and_resume_reach_the_numbers_of_an_uninterrupted_run(ws, qtbot, tmp_path):
    set_setting(ws, "epochs", "30")
    config = ws.form.config
    assert ws.train()
    qtbot.waitUntil(lambda: ws.plots.point_counts()["step_loss"] > 0, timeout=WAIT_MS)
    assert ws.runs_table.item(0, 1).text() == "training…"  # listed while it trains
    ws.toggle_pause()
    qtbot.waitUntil(lambda: ws.controller.paused, timeout=WAIT_MS)
    assert ws.pause_button.text() == "Resume"
    ws.toggle_pause()
    qtbot.waitUntil(lambda: not ws.controller.paused, timeout=WAIT_MS)
    ws.toggle_pause()  # stopped while paused: it lands mid-run however fast the machine is
    qtbot.waitUntil(lambda: ws.controller.paused, timeout=WAIT_MS)
    ws.stop()
    wait_idle(ws, qtbot)
    stopped = ws.runs[0]
    assert stopped.status == "cancelled" and stopped.resumable
    assert ws.resume_button.isEnabled()
    assert ws.resume_run()
    wait_idle(ws, qtbot)
    resumed = ws.runs[0]
    assert (resumed.status, resumed.epochs_run) == ("completed", 30)
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
    next_turn()
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


@pytest.fixture
def trained(ws, qtbot):
    """The workspace with one finished 2-epoch run."""
    assert ws.train()
    wait_idle(ws, qtbot)
    return ws, ws.runs[0]


@pytest.mark.slow
def test_a_run_is_exported_with_the_cli_functions(trained, qtbot, tmp_path):
    ws, run = trained
    from designer.interop.weights import read_tensors

    outputs = {
        "state_dict": tmp_path / "m.safetensors",
        "code": tmp_path / "m.py",
        "onnx": tmp_path / "m.onnx",
        "train_script": tmp_path / "m_train.py",
    }
    ws.window_.answers.replies["export_run"] = ("last", outputs)
    ws.export_run(run.path)
    qtbot.waitUntil(
        lambda: "Exported" in ws.state_label.text() or "failed" in ws.state_label.text(),
        timeout=WAIT_MS,
    )
    assert "Exported 4 file(s)" in ws.state_label.text(), ws.state_label.text()
    assert all(p.is_file() for p in outputs.values())
    last = read_tensors(run.path / "last.safetensors")
    exported = read_tensors(outputs["state_dict"])
    assert last.keys() == exported.keys()
    assert all((last[k] == exported[k]).all() for k in last)
    assert "class " in outputs["code"].read_text()


@pytest.mark.slow
def test_the_runs_weights_become_the_designs_in_one_undoable_step(trained, tmp_path):
    ws, run = trained
    from designer.interop.weights import WEIGHTS_KEY, read_tensors

    window = ws.window_
    assert not ws.use_weights(run.path)  # unsaved: there is nowhere beside the file yet
    assert "Save the design first" in window.answers.errors[-1]
    window.answers.replies["confirm"] = True  # move the runs beside the saved file
    assert window.files.write(str(tmp_path / "tiny.json"))
    assert [r.name for r in ws.runs] == ["run-001"]
    assert ws.runs[0].path.parent == tmp_path / "runs" / "tiny"
    assert ws.use_weights(ws.runs[0].path)
    assert window.editor.design.metadata[WEIGHTS_KEY] == "tiny.safetensors"
    kept = read_tensors(ws.runs[0].path / "best.safetensors")
    copied = read_tensors(tmp_path / "tiny.safetensors")
    assert all((kept[k] == copied[k]).all() for k in kept)
    window.editor.undo()
    assert WEIGHTS_KEY not in window.editor.design.metadata


@pytest.mark.slow
def test_the_user_chooses_which_weights_a_run_keeps(trained):
    ws, run = trained
    ws.runs_table.select_paths({run.path})
    assert ws.results.keep.isVisibleTo(ws) and ws.results.keep.currentData() == "best"
    ws.results.keep.setCurrentIndex(1)
    ws.results.keep.activated.emit(1)
    result = RunDir(run.path).read_json("result.json")
    assert result["kept"] == "last"
    assert result["test_accuracy"] == result["test"]["last"]["accuracy"]
    assert ws.runs[0].test_accuracy == result["test"]["last"]["accuracy"]


@pytest.mark.slow
def test_plots_save_as_png_svg_and_csv(trained, tmp_path):
    ws, _run = trained
    widget = ws.plots.epoch_loss.widget
    for kind in ("png", "svg", "csv"):
        ws.window_.answers.replies["save_path"] = str(tmp_path / f"loss.{kind}")
        ws.save_plot(widget, kind)
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "loss.svg").read_text()
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0] == "curve,x,y" and len(rows) == 1 + 4  # training + validation, 2 epochs


@pytest.mark.slow
def test_runs_trained_by_the_cli_are_opened_and_overlaid(ws, tmp_path):
    import subprocess
    import sys

    from designer.core.serialization import save_design

    save_design(tiny_design(), tmp_path / "tiny.json")
    command = [
        sys.executable,
        "-m",
        "designer",
        "train",
        str(tmp_path / "tiny.json"),
        "--run-dir",
        str(tmp_path / "cli-run"),
        "--epochs",
        "1",
        "--device",
        "cpu",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    ws.window_.answers.replies["open_folder"] = str(tmp_path / "cli-run")
    ws.open_run_folder()
    assert [r.name for r in ws.runs] == ["cli-run"]
    assert str(tmp_path / "cli-run") in ws.plots.runs
    assert ws.plots.point_counts()["epoch_loss"] == 2


@pytest.mark.slow
def test_a_search_trains_its_trials_as_runs_and_applies_the_best(ws, qtbot):
    from designer.training.search import SearchSpace

    space = SearchSpace(lr=(1e-3, 3e-2), weight_decay=(1e-6, 1e-4), batch_sizes=(64, 128))
    ws.window_.answers.replies["search_settings"] = (space, 3, 1, 7)
    assert ws.start_search()
    qtbot.waitUntil(lambda: ws.search.finished and not ws.controller.running, timeout=WAIT_MS)
    names = sorted(r.name for r in ws.runs)
    assert names == ["search-001-trial-01", "search-001-trial-02", "search-001-trial-03"]
    table = ws.search_panel.table
    assert table.rowCount() == 3
    accuracies = [float(table.item(i, 2).text().rstrip("%")) for i in range(3)]
    assert accuracies == sorted(accuracies, reverse=True)
    best = ws.search_panel.best
    assert 1e-3 <= best["lr"] <= 3e-2 and best["batch_size"] in (64, 128)
    ws.search_panel.apply.click()
    assert ws.form.config.lr == best["lr"] and ws.form.config.batch_size == best["batch_size"]
    assert ws.form.config.epochs == 2  # the form's own epochs stay


def test_search_ranges_are_checked_before_anything_starts():
    from designer.app.training.search_panel import parse_space
    from designer.training.config import ConfigError

    with pytest.raises(ValueError, match="learning rate range must be two numbers"):
        parse_space("0.1", "1e-6, 1e-2", "0, 0.5", "32")
    with pytest.raises(ConfigError, match="lr must be two numbers 0 < low <= high"):
        parse_space("0.1, 0.01", "1e-6, 1e-2", "0, 0.5", "32")
    assert parse_space("1e-4 1e-1", "1e-6, 1e-2", "0, 0.5", "16, 32").batch_sizes == (16, 32)


@pytest.mark.slow
def test_screenshot_of_the_training_workspace_with_a_run(tmp_path):
    import subprocess
    import sys

    from designer.core.serialization import save_design
    from designer.training.config import TrainConfig

    save_design(tiny_design(), tmp_path / "tiny.json")
    Trainer(tiny_design(), TrainConfig(epochs=1, device="cpu"), tmp_path / "run").run_to_end()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    base = [sys.executable, "-m", "designer", str(tmp_path / "tiny.json")]

    def run(*args):
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    out = run(
        "--screenshot",
        str(tmp_path / "t.png"),
        "--workspace",
        "training",
        "--run",
        str(tmp_path / "run"),
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "empty").mkdir()
    bad = run(
        "--screenshot",
        str(tmp_path / "u.png"),
        "--workspace",
        "training",
        "--run",
        str(tmp_path / "empty"),
    )
    assert bad.returncode == 1 and f"--run {tmp_path / 'empty'}" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "u.png").exists()
    usage = run("--workspace", "training")
    assert usage.returncode == 2 and "go with --screenshot" in usage.stderr


@pytest.mark.slow
def test_closing_can_leave_the_run_training_in_the_background(ws, qtbot):
    set_setting(ws, "epochs", "40")
    assert ws.train()
    qtbot.waitUntil(lambda: any(r.epochs_run >= 1 for r in ws.runs), timeout=WAIT_MS)
    run_dir = ws.controller.run_dir
    window = ws.window_
    window.answers.replies["choose"] = "background"
    window.close()
    assert not ws.controller.running
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        result = RunDir(run_dir).read_json("result.json")
        if result and result["status"] not in ("cancelled",):
            break
        time.sleep(0.5)
    assert result["status"] == "completed", (run_dir / "train.log").read_text()
    assert result["epochs_run"] == 40


@pytest.mark.slow
def test_a_click_on_a_confusion_cell_shows_its_test_images(trained, qtbot):
    ws, run = trained
    ws.runs_table.select_paths({run.path})
    result = RunDir(run.path).read_json("result.json")
    row, column = next(
        (i, j)
        for i, r in enumerate(result["confusion"])
        for j, count in enumerate(r)
        if count and i != j
    )  # a misclassified cell
    ws.results.matrix.cellClicked.emit(row, column)
    inspect = ws.window_.inspect
    qtbot.waitUntil(lambda: inspect.confusion.confusion is not None, timeout=WAIT_MS)
    shown = inspect.confusion.cell_title.text()
    assert f"{result['confusion'][row][column]} misclassified test image(s)" in shown
