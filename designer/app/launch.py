"""Start the desktop app: open a design (or the built-in default) or render a screenshot."""

from __future__ import annotations

import os
import sys


def default_design():
    """The built-in default: LeNet-5, ready to train on the bundled digits."""
    from designer.templates import new_from_template

    return new_from_template("lenet5")


def make_app():
    """The QApplication with high-DPI scaling, the app's identity, icon and theme."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from designer.app import settings, theme
    from designer.app.icon import app_icon

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )  # crisp at 125 % / 150 %
        app = QApplication(sys.argv[:1])
    app.setApplicationName(settings.APPLICATION)
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationDisplayName(settings.APPLICATION)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("netdesigner")  # Wayland takes the window's icon from the entry
    theme.apply_theme(app)
    theme.follow_system(app)
    return app


def launch(
    path: str | None = None,
    screenshot: str | None = None,
    workspace: str = "design",
    runs: list[str] = (),
    experiment: str | None = None,
) -> int:
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    app = make_app()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from designer.app.autosave import offer_recovery
    from designer.app.main_window import MainWindow
    from designer.core.errors import DesignFileError
    from designer.core.serialization import load_design

    design, error = None, None
    if path:
        try:
            design = load_design(path)
        except DesignFileError as exc:
            error = str(exc)
    if error:
        if screenshot:
            print(f"netdesigner: error: {error}", file=sys.stderr)
            return 1
        QMessageBox.critical(None, "Cannot open design", error)
    window = MainWindow(design or default_design(), os.path.abspath(path) if design else None)
    if screenshot:
        window.resize(1400, 900)
        window.show()
        app.processEvents()
        window.view.show_drawing()  # now that the view has its real size
        app.processEvents()
        if workspace == "training" and not _show_training(app, window, runs):
            window.close()
            return 1
        if experiment:
            ok = _experiment_form_shot(app, window, experiment, screenshot)
            window.close()
            return 0 if ok else 1
        if workspace == "design" and window.previews.enabled:
            _wait_for_previews(app, window)
        ok = window.grab().save(screenshot)
        window.close()
        if not ok:
            print(f"netdesigner: error: cannot write {screenshot}", file=sys.stderr)
            return 1
        print(f"wrote {screenshot}")
        return 0
    window.restore_layout()
    window.show()
    window.view.show_drawing()
    if design is None and not error:
        QTimer.singleShot(0, lambda: offer_recovery(window))
    code = app.exec()
    release_clipboard(app)
    return code


def _show_training(app, window, runs: list[str]) -> bool:
    """The Training workspace with ``runs`` shown, once its data has loaded (for screenshots)."""
    import time
    from pathlib import Path

    from designer.training.rundir import RunDirError
    from designer.training.runs import list_runs, read_run

    for run in runs:
        try:
            read_run(run)
        except RunDirError as exc:
            if not list_runs(run):
                print(f"netdesigner: error: --run {run}: {exc}", file=sys.stderr)
                return False
    training = window.show_training()
    for run in runs:
        training.show_run_folder(run)
    training.runs_table.select_paths({p for run in runs for p in _run_paths(run)})
    deadline = time.monotonic() + 60
    while training.data._task.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if training.runs:
        training.tabs.setCurrentWidget(training.results)
    from designer.training.experiment_run import EXPERIMENT_RECORD

    for run in runs:  # an experiment's folder: its results table
        if (Path(run) / EXPERIMENT_RECORD).is_file():
            training.runs_table.set_expanded(Path(run).resolve(), True)
            training.show_experiment(Path(run).resolve())
    for _ in range(5):
        app.processEvents()
        training.plots.refresh(everything=True)
    return True


def _experiment_form_shot(app, window, spec: str, screenshot: str) -> bool:
    """The New experiment form, on ``spec`` (a file or a shipped name; "new": empty)."""
    from designer.app.training.experiment_form import ExperimentDialog
    from designer.training.config import ConfigError, TrainConfig, config_for_design
    from designer.training.experiment import ExperimentError, find_experiment

    try:
        config = config_for_design(window.editor.design)
    except ConfigError:
        config = TrainConfig()
    dialog = ExperimentDialog(window.editor.design, window.editor.path, config, window)
    try:
        if spec != "new":
            try:
                dialog.load(find_experiment(spec))
            except ExperimentError as exc:
                print(f"netdesigner: error: {exc}", file=sys.stderr)
                return False
        dialog.show()
        for _ in range(3):
            app.processEvents()
        if not dialog.grab().save(screenshot):
            print(f"netdesigner: error: cannot write {screenshot}", file=sys.stderr)
            return False
        print(f"wrote {screenshot}")
        return True
    finally:
        dialog.close()
        dialog.deleteLater()


def _wait_for_previews(app, window, seconds: float = 60.0) -> None:
    """Until the canvas shows its first previews (for screenshots)."""
    import time

    deadline = time.monotonic() + seconds
    while not window.previews.passes and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def _run_paths(folder: str):
    from pathlib import Path

    from designer.training.rundir import RunDirError
    from designer.training.runs import list_runs, read_run

    folder = Path(folder).resolve()  # as the workspace lists runs
    try:
        return [read_run(folder).path]
    except RunDirError:
        return [r.path for r in list_runs(folder)]


def release_clipboard(app) -> None:
    """Drop copied layers we still own before Python tears Qt down: a QMimeData wrapper that
    outlives the QApplication crashes the interpreter at exit (seen with torch loaded)."""
    from designer.app.mime import DESIGN_MIME

    clipboard = app.clipboard()
    mime = clipboard.mimeData()
    if clipboard.ownsClipboard() or (mime is not None and mime.hasFormat(DESIGN_MIME)):
        clipboard.clear()
