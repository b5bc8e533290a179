"""Fixtures for the editor tests: isolated settings and recovery folder, a main window whose
questions are answered by the test, and a check that no test leaks a top-level widget."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication

from designer.core.builder import GraphBuilder
from designer.core.design import Design


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory):
    """Recent files and the theme go to a temp folder, never to the user's real settings."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setenv("NETDESIGNER_RECOVERY_DIR", str(folder))
    monkeypatch.setenv("NETDESIGNER_THEME", "light")
    monkeypatch.setenv("NETDESIGNER_UNSAVED_RUNS", str(tmp_path / "unsaved-runs"))
    # Canvas previews load torch and the digits in the background: only the tests of previews
    # (tests/app/test_previews_in_app.py) switch them on.
    monkeypatch.setenv("NETDESIGNER_PREVIEWS", "off")
    return folder


@pytest.fixture(autouse=True)
def _fail_on_leaked_widgets(qapp):
    """As napari does: a test that leaves a top-level widget alive fails."""
    before = [w for w in QApplication.topLevelWidgets()]
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    leaked = [
        w
        for w in QApplication.topLevelWidgets()
        if shiboken6.isValid(w)
        and not any(w is b for b in before)
        and type(w).__name__ != "QTipLabel"
    ]  # Qt's own tooltip window is reused
    if leaked:
        names = ", ".join(f"{type(w).__name__}({w.objectName()!r})" for w in leaked)
        for w in leaked:
            w.close()
            w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        pytest.fail(f"the test leaked top-level widgets: {names}")


class Answers:
    """Stands in for the dialogs: each question returns a scripted answer, and a question the
    test did not expect fails it (instead of blocking on a modal dialog)."""

    def __init__(self, prompts):
        self.asked: list[tuple[str, tuple]] = []
        self.errors: list[str] = []
        self.replies: dict[str, object] = {"save_changes": "discard"}
        for name in (
            "save_changes",
            "open_path",
            "save_path",
            "text",
            "restore",
            "choose_template",
            "confirm",
            "choose",
            "open_folder",
            "export_run",
            "search_settings",
            "adapt_to_dataset",
            "two_stage",
            "open_weights",
            "import_source",
            "new_experiment",
        ):
            setattr(prompts, name, self._make(name))
        prompts.error = lambda title, message: self.errors.append(message)

    def _make(self, name):
        def ask(*args):
            self.asked.append((name, args))
            if name not in self.replies:
                raise AssertionError(f"unexpected dialog {name}{args}")
            return self.replies[name]

        return ask


def small_design() -> Design:
    """input -> conv1 -> relu1 -> flatten -> fc1 -> output (3 x 8 x 8 input, 10 classes)."""
    d = Design("Small", input_shape=(3, 8, 8), num_classes=10)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    x = b.add("Conv2d", x, name="conv1", out_channels=4, kernel_size=3, padding=1)
    x = b.add("ReLU", x, name="relu1")
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Linear", x, name="fc1", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    return d


@pytest.fixture
def make_window(qtbot, recovery_dir):
    """make_window(design) -> a shown MainWindow; its `answers` script the dialogs."""
    from designer.app.main_window import MainWindow

    def make(design: Design | None = None, path: str | None = None, **kwargs):
        window = MainWindow(
            design if design is not None else small_design(),
            path,
            recovery_dir=recovery_dir,
            **kwargs,
        )
        window.answers = Answers(window.prompts)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        window.view.show_drawing()
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture(scope="session", autouse=True)
def _release_clipboard_at_exit(qapp):
    """What the app does when it quits (launch.release_clipboard); without it, copied layers
    still on the clipboard crash the interpreter at exit once torch is loaded."""
    yield
    from designer.app.launch import release_clipboard

    release_clipboard(qapp)
