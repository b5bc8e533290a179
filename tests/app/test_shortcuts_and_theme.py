"""The standard shortcuts work from the canvas and none is bound twice; the palette follows the
theme; the window starts without importing torch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.app import theme


def test_no_key_is_bound_to_two_actions(window):
    keys = Counter(seq.toString() for a in window.actions() for seq in a.shortcuts())
    assert [k for k, n in keys.items() if n > 1] == []
    rows = dict(window.actions_.shortcut_rows())
    assert rows["Undo"] == "Ctrl+Z" and "Ctrl+Shift+Z" in rows["Redo"]
    assert rows["Duplicate"] == "Ctrl+D" and rows["Delete"] == "Del, Backspace"
    assert rows["Fit to window"] == "Ctrl+0"


def test_keyboard_editing_on_the_canvas(window):
    d = window.editor.design
    conv = d.find("conv1").id
    window.view.setFocus()
    window.scene.select_nodes([conv])
    QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(d.nodes) == 7
    QTest.keyClick(window.view, Qt.Key.Key_Backspace)
    assert len(d.nodes) == 6
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(d.nodes) == 7
    QTest.keyClick(
        window.view,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert len(d.nodes) == 6
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.scene.selected_node_ids()) == 6
    zoom = window.view.zoom()
    QTest.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.zoom() < zoom


class X11LineEdit(QObject):
    """What a line edit does on X11 and macOS: it claims Ctrl+E (end of line) for itself."""

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_E:
            event.accept()
            return True
        return False


def test_ctrl_e_exports_code_while_a_text_field_has_focus(window):
    window.answers.replies["save_path"] = None
    window.scene.select_nodes([window.editor.design.find("conv1").id])
    name = window.inspector.fields["name"].editor
    claims = X11LineEdit(name)
    name.installEventFilter(claims)
    name.setFocus()
    QTest.keyClick(name, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert [q for q, _ in window.answers.asked] == ["save_path"]
    QTest.keyClick(name, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(window.editor.design.nodes) == 7  # Ctrl+D duplicated conv1, as before
    name = window.inspector.fields["name"].editor  # the copy's inspector
    name.setFocus()
    QTest.keyClick(name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.scene.selected_node_ids()) == 1  # Ctrl+A selects the field's text


def test_paste_is_enabled_only_when_the_clipboard_holds_layers(window):
    clipboard = QApplication.clipboard()
    clipboard.setText("some notes")
    assert not window.actions_.paste.isEnabled()
    window.actions_.paste.trigger()  # a disabled action does nothing, not a JSON error
    window.editor.paste()
    assert "holds no layers" in window.statusBar().currentMessage()
    window.scene.select_nodes([window.editor.design.find("conv1").id])
    window.actions_.copy.trigger()
    assert window.actions_.paste.isEnabled()


def test_palette_switches_between_light_and_dark(window):
    app = QApplication.instance()
    try:
        theme.apply_theme(app, "dark")
        assert theme.is_dark_palette(window.scene.palette())
        assert window.scene.palette().color(QPalette.ColorRole.Base) == theme.dark_palette().color(
            QPalette.ColorRole.Base
        )
    finally:
        theme.apply_theme(app, "light")
    assert not theme.is_dark_palette(window.scene.palette())


def test_start_up_does_not_import_torch(tmp_path):
    script = (
        "import sys\n"
        "from designer.app.launch import make_app\n"
        "app = make_app()\n"
        "from designer.app.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('torch' in sys.modules)\n"
        "w.close()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETDESIGNER_RECOVERY_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
