"""Experiments in the app (pytest-qt, offscreen, real worker processes on the bundled digits):
the New experiment form builds the file and refuses a bad value with the engine's reason, the
experiment trains its runs one at a time, they are grouped in the Runs list, its results table
colours rows by a factor and a click overlays a run's curves; a second Run trains nothing."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import Qt

from designer.app.dialogs.gallery import TemplateGallery
from designer.app.plots import PALETTE
from designer.app.training.experiment_form import ExperimentDialog
from designer.training.experiment import list_experiments, load_experiment
from designer.training.rundir import RunDir
from tests.app.test_training_workspace import WAIT_MS, set_setting
from tests.training.conftest import tiny_design

RUNS = {"lr=0.01,batch=128,seed=0", "lr=0.05,batch=128,seed=0"}


@pytest.fixture
def ws(make_window, qtbot):
    window = make_window(tiny_design())
    workspace = window.show_training()
    qtbot.waitUntil(lambda: workspace.data.summary is not None, timeout=WAIT_MS)
    set_setting(workspace, "epochs", "1")
    workspace.form.fields["device"].editor.setCurrentText("cpu")
    # a test that fails mid-run leaves its window to be closed: stop the run rather than ask
    window.answers.replies["choose"] = "stop"
    yield workspace
    if workspace.job is not None:  # a failed test: no next run when this one stops
        workspace.job.stopped = True
    if workspace.controller.running:
        workspace.controller.stop_now(grace=5)


def form(ws) -> ExperimentDialog:
    dialog = ExperimentDialog(ws.editor.design, ws.editor.path, ws.form.config, ws)
    dialog.name.setText("lr-sweep")
    return dialog


def test_the_form_refuses_a_bad_value_with_the_engines_reason_and_saves_the_file(
    ws, tmp_path, qtbot
):
    dialog = form(ws)
    lr = dialog.add_factor("setting", "lr", "0.01, -1")
    conv = next(n.name for n in ws.editor.design.nodes.values() if n.type == "Conv2d")
    width = dialog.add_factor("edit", f"{conv}.out_channels", "4, 0")
    assert dialog.check() is None and not dialog.run_button.isEnabled()
    assert "out_channels must be at least 1" in width.problem.text()  # the layer's own check
    assert width.values.styleSheet() and not lr.values.styleSheet()
    width.values.setText("4, 6")
    assert dialog.check() is None
    assert "lr" in lr.problem.text() and "above 0" in lr.problem.text()  # TrainConfig's check
    lr.values.setText("0.01, 0.05")
    dialog.seeds.setValue(2)
    assert dialog.check() is not None and dialog.run_button.isEnabled()
    assert dialog.summary.text().startswith("8 runs: 4 combinations × 2 seeds")

    design_file = tmp_path / "tiny.json"
    assert ws.window_.files.write(str(design_file))
    dialog.design_path = ws.editor.path
    assert dialog.save(str(tmp_path / "sweep.json"))
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert saved["base"] == {"design": "tiny.json"} and saved["settings"]["epochs"] == 1
    assert [f["levels"] for f in saved["factors"]] == [[0.01, 0.05], [4, 6]]
    experiment = load_experiment(tmp_path / "sweep.json")  # the CLI reads what the form wrote
    assert len(experiment.check()) == 8

    dialog.combine.setCurrentIndex(dialog.combine.findData("random"))
    dialog.samples.setValue(9)
    assert dialog.check() is None and "'samples' must be from 1 to 4" in dialog.summary.text()
    dialog.combine.setCurrentIndex(dialog.combine.findData("grid"))
    dialog.name.setText("my sweep")
    assert dialog.check() is None and "folder" in dialog.name.toolTip()
    dialog.name.setText("sweep")
    dialog.base_template.setChecked(True)  # a template base: its options, checked by type
    dialog.template.setCurrentIndex(dialog.template.findData("thesis_fcn"))
    dropout = dialog.option_fields["dropout"][0]
    dropout.setText("3")
    assert dialog.check() is None and "must be true or false" in dropout.toolTip()
    assert dropout.styleSheet() and not dialog.save_button.isEnabled()
    dialog.deleteLater()


@pytest.mark.slow
def test_an_experiment_runs_grouped_coloured_overlaid_and_resumes_without_retraining(ws, qtbot):
    dialog = form(ws)
    dialog.add_factor("setting", "lr", "0.01, 0.05")
    dialog.add_factor("setting", "batch_size", "128").name.setText("batch")
    choice = dialog.choice()
    dialog.deleteLater()
    assert choice is not None
    ws.window_.answers.replies["new_experiment"] = choice
    ws.window_.actions_.new_experiment.trigger()  # Run → New experiment…
    assert ws.job is not None and ws.controller.running
    qtbot.waitUntil(lambda: "run 1 of 2" in ws.progress.format(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: ws.job is None and not ws.controller.running, timeout=WAIT_MS)

    out = ws.runs_folder() / "lr-sweep"
    assert {p.name for p in out.iterdir() if p.is_dir()} == RUNS
    for name in RUNS:
        assert RunDir(out / name).read_json(RunDir.RESULT)["status"] == "completed"
    assert (out / "base-design.json").exists() and (out / "results.csv").exists()
    assert "all 2 runs finished" in ws.state_label.text()

    table = ws.runs_table  # one group row, its two runs under it
    row = table.group_row(out)
    assert row is not None and "2 of 2 runs" in table.item(row, 0).text()
    children = [table.run_at(row + 1), table.run_at(row + 2)]
    assert {r.name for r in children} == RUNS and not table.isRowHidden(row + 1)
    table.set_expanded(out, False)
    assert table.isRowHidden(row + 1) and table.isRowHidden(row + 2)

    view = ws.experiment_view  # the results table, coloured by the chosen factor
    assert ws.tabs.currentWidget() is view and view.table.rowCount() == 2
    assert view.factors == ["lr", "batch"]
    view.colour_by.setCurrentText("lr")
    assert view.row_colours == [PALETTE[0], PALETTE[1]]
    assert {view.table.item(i, 1).text() for i in range(2)} == {"0.01", "0.05"}
    tints = [view.table.item(i, 4).background().color() for i in range(2)]
    assert [t.name() for t in tints] == [PALETTE[0], PALETTE[1]]  # the whole row
    view.colour_by.setCurrentText("batch")
    assert view.row_colours == [PALETTE[0], PALETTE[0]]  # one level: one colour
    assert view.table.item(0, 3).text().endswith("%")

    ws.plots.clear()
    item = view.table.item(1, 0)
    qtbot.mouseClick(
        view.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.table.visualItemRect(item).center(),
    )
    clicked = out / view.rows[1].runs[0]["name"]
    assert list(ws.plots.runs) == [str(clicked)]  # its curves overlaid
    assert not table.isRowHidden(table.group_row(out) + 1)  # its group opened to show it

    before = {name: (out / name / RunDir.METRICS).stat().st_mtime_ns for name in RUNS}
    ws.start_experiment(choice)  # Run again: both finished, nothing trains
    assert ws.job is None and not ws.controller.running
    assert "nothing was trained again" in ws.state_label.text()
    assert {name: (out / name / RunDir.METRICS).stat().st_mtime_ns for name in RUNS} == before


@pytest.mark.slow
def test_stop_ends_the_experiment_after_a_checkpoint_and_run_continues_it(ws, qtbot):
    set_setting(ws, "epochs", "12")  # long enough for the pause to land in the first run
    dialog = form(ws)
    dialog.add_factor("setting", "lr", "0.01, 0.05")
    choice = dialog.choice()
    dialog.deleteLater()
    assert ws.start_experiment(choice)
    # the progress line follows its own (throttled) events: it may come after the points
    qtbot.waitUntil(lambda: ws.progress.format().startswith("run 1 of 2 · "), timeout=WAIT_MS)
    ws.toggle_pause()  # stopped while paused: it lands mid-run however fast the machine is
    qtbot.waitUntil(lambda: ws.controller.paused, timeout=WAIT_MS)
    ws.stop()
    qtbot.waitUntil(lambda: ws.job is None and not ws.controller.running, timeout=WAIT_MS)
    out = ws.runs_folder() / "lr-sweep"
    first, second = out / "lr=0.01,seed=0", out / "lr=0.05,seed=0"
    assert RunDir(first).read_json(RunDir.RESULT)["status"] == "cancelled"
    assert RunDir(first).file(RunDir.CHECKPOINT).exists() and not second.exists()
    assert "stopped: 0 of 2 runs finished" in ws.state_label.text()

    assert ws.start_experiment(choice)  # Run again: the stopped run continues, then the next
    assert f"Resuming {first}" in ws.log.toPlainText()
    qtbot.waitUntil(lambda: ws.job is None and not ws.controller.running, timeout=WAIT_MS)
    for run in (first, second):
        result = RunDir(run).read_json(RunDir.RESULT)
        assert (result["status"], result["epochs_run"]) == ("completed", 12)
    assert ws.experiment_view.table.rowCount() == 2


def test_the_gallery_offers_the_shipped_experiments_and_opens_one_in_the_form(ws):
    window = ws.window_
    gallery = TemplateGallery(window)
    shipped = list_experiments()
    assert gallery.experiment_table.rowCount() == len(shipped) >= 9
    assert gallery.chosen_experiment() is None  # the Networks tab is the default
    gallery.tabs.setCurrentIndex(1)
    row = [e.name for e in gallery.experiments].index("optimizers")
    gallery.experiment_table.selectRow(row)
    assert gallery.chosen_experiment().name == "optimizers"
    assert gallery.create_button.text() == "Open experiment…"
    assert "optimizers" in gallery.experiment_details.text().lower()
    gallery.deleteLater()

    window.answers.replies["choose_template"] = shipped[0]
    window.answers.replies["new_experiment"] = None  # the form opened on it, then cancelled
    assert not window.files.new_from_template()
    name, args = window.answers.asked[-1]
    assert name == "new_experiment" and args[-1] is shipped[0]

    dialog = form(ws)  # what the form shows of a shipped experiment is what it writes back
    dialog.load(next(e for e in shipped if e.name == "thesis_shift_scale"))
    assert dialog.check() is not None and dialog.summary.text().startswith("33 runs")
    data = dialog.data()
    assert data["base"] == {"template": "thesis_fcn"} and data["offline"]["settings"]
    assert [f["name"] for f in data["factors"]] == ["change", "lr"]
    dialog.deleteLater()


@pytest.mark.slow
def test_closing_can_leave_the_experiment_training_in_the_background(ws, qtbot):
    set_setting(ws, "epochs", "4")
    dialog = form(ws)
    dialog.add_factor("setting", "lr", "0.01, 0.05")
    choice = dialog.choice()
    dialog.deleteLater()
    assert ws.start_experiment(choice)
    qtbot.waitUntil(lambda: ws.plots.point_counts()["step_loss"] > 0, timeout=WAIT_MS)
    ws.toggle_pause()  # closed while paused: the first run is mid-way however fast the machine is
    qtbot.waitUntil(lambda: ws.controller.paused, timeout=WAIT_MS)
    out = ws.runs_folder() / "lr-sweep"
    window = ws.window_
    window.answers.replies["choose"] = "background"
    window.close()
    assert not ws.controller.running
    runs = [out / "lr=0.01,seed=0", out / "lr=0.05,seed=0"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        results = [RunDir(r).read_json(RunDir.RESULT) if r.exists() else None for r in runs]
        if all(r and r["status"] == "completed" for r in results):
            break
        time.sleep(0.5)
    log = (out / "experiment.log").read_text()
    assert all(r and (r["status"], r["epochs_run"]) == ("completed", 4) for r in results), log
    assert "lr=0.01,seed=0 (continuing)" in log  # the stopped run resumed its checkpoint
