"""Files: save -> open round trip, recent files, the unsaved-changes question, a bad file's
message, exports, and autosave recovery after a real crash of another process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

from PySide6.QtGui import QImage

from designer.app import settings
from designer.app.autosave import find_orphans, offer_recovery
from designer.core.serialization import design_to_dict, load_design


def test_save_then_open_round_trips(window, make_window, tmp_path):
    ed = window.editor
    conv = ed.design.find("conv1")
    ed.set_node_attr(conv.id, "params.out_channels", 9)
    ed.add_after_selection("Dropout")
    assert ed.is_modified() and window.isWindowModified()
    path = tmp_path / "small.json"
    window.answers.replies["save_path"] = str(tmp_path / "small")  # the suffix is added
    window.actions_.save.trigger()

    assert path.exists() and not ed.is_modified() and not window.isWindowModified()
    assert ed.path == str(path)
    assert settings.recent_files()[0] == str(path)
    assert window.windowTitle().startswith("small.json")

    other = make_window(None)
    other.answers.replies["open_path"] = str(path)
    other.actions_.open.trigger()
    assert design_to_dict(other.editor.design) == design_to_dict(ed.design)
    assert len(other.scene.node_items) == len(ed.design.nodes)
    assert other.editor.path == str(path) and not other.editor.is_modified()
    assert next(a.toolTip() for a in other.actions_.recent_menu.actions()) == str(path)


def test_saving_again_writes_in_place_without_asking(window, tmp_path):
    path = tmp_path / "d.json"
    window.files.write(str(path))
    window.editor.set_setting("name", "Renamed")
    window.actions_.save.trigger()
    assert load_design(path).name == "Renamed"
    assert not any(q == "save_path" for q, _ in window.answers.asked)


def test_unsaved_changes_question_on_close(window, qtbot):
    window.editor.set_setting("name", "Changed")
    window.answers.replies["save_changes"] = "cancel"
    assert not window.close()
    assert window.isVisible()
    assert window.answers.asked[-1] == ("save_changes", ("Changed",))
    window.answers.replies["save_changes"] = "discard"
    assert window.close()


def test_new_asks_before_dropping_changes(window):
    window.editor.set_setting("name", "Changed")
    window.answers.replies["save_changes"] = "cancel"
    window.actions_.new.trigger()
    assert window.editor.design.name == "Changed"
    window.answers.replies["save_changes"] = "discard"
    window.actions_.new.trigger()
    assert window.editor.design.name == "Untitled"
    assert {n.type for n in window.editor.design.nodes.values()} == {
        "Input",
        "ClassificationOutput",
    }


def test_a_bad_file_gives_the_loaders_message_and_keeps_the_design(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netdesigner-design", "version": 1, "input_shape": [1, 0]}')
    before = design_to_dict(window.editor.design)
    assert not window.files.open(str(bad))
    assert window.answers.errors and "input_shape" in window.answers.errors[0]
    assert str(bad) in window.answers.errors[0]
    assert design_to_dict(window.editor.design) == before


def test_export_python_png_and_svg(window, tmp_path):
    window.answers.replies["save_path"] = str(tmp_path / "net.py")
    window.actions_.export_python.trigger()
    source = (tmp_path / "net.py").read_text()
    compile(source, "net.py", "exec")
    assert "class Small" in source and "nn.Conv2d(3, 4" in source

    window.answers.replies["save_path"] = str(tmp_path / "net.png")
    window.actions_.export_png.trigger()
    image = QImage(str(tmp_path / "net.png"))
    assert not image.isNull() and image.height() > image.width()  # a tall top-to-bottom drawing

    window.answers.replies["save_path"] = str(tmp_path / "net.svg")
    window.actions_.export_svg.trigger()
    root = ET.parse(tmp_path / "net.svg").getroot()
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "conv1" in text and "4 x 8 x 8" in text  # node names and shapes are real text


def test_export_python_of_an_invalid_design_explains(window, tmp_path):
    ed = window.editor
    ed.set_node_attr(ed.design.find("fc1").id, "params.out_features", 3)
    window.actions_.export_python.trigger()  # no file name asked: it says why first
    assert [name for name, _ in window.answers.asked] == []
    assert "3 features" in window.answers.errors[0]


def test_autosave_timer_writes_while_modified(make_window, qtbot, recovery_dir):
    window = make_window(None, autosave_ms=30)
    saver = window.autosaver
    window.editor.set_setting("name", "Work in progress")
    qtbot.waitUntil(saver.design_file.exists, timeout=3000)
    assert load_design(saver.design_file).name == "Work in progress"
    window.files.write(str(recovery_dir.parent / "saved.json"))
    assert not saver.design_file.exists()  # saved: nothing left to recover


CRASH = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from designer.app.main_window import MainWindow
    from designer.core.serialization import design_to_dict
    window = MainWindow(recovery_dir=Path(sys.argv[1]))
    ed = window.editor
    ed.set_node_attr(ed.design.find("conv1").id, "params.out_channels", 32)
    ed.add_after_selection("Dropout")
    assert window.autosaver.save_now()
    Path(sys.argv[2]).write_text(json.dumps(design_to_dict(ed.design)))
    os._exit(3)  # a crash: no close, no clean-up
""")


def test_autosave_recovery_after_a_crash(make_window, recovery_dir, tmp_path):
    expected_file = tmp_path / "expected.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, str(recovery_dir), str(expected_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    expected = json.loads(expected_file.read_text())

    window = make_window(None)
    window.answers.replies["restore"] = True
    assert offer_recovery(window)
    assert "LeNet-5" in window.answers.asked[-1][1][0]
    assert design_to_dict(window.editor.design) == expected
    assert window.editor.is_modified()  # restored work still needs saving
    assert len(window.scene.node_items) == len(window.editor.design.nodes)
    assert find_orphans(recovery_dir) == []  # offered once, not again


def test_declined_recovery_is_discarded(make_window, recovery_dir):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    script = CRASH.replace(
        "Path(sys.argv[2]).write_text(json.dumps(design_to_dict(ed.design)))", ""
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(recovery_dir), "unused"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    window = make_window(None)
    window.answers.replies["restore"] = False
    assert not offer_recovery(window)
    assert window.editor.design.name == "Small"
    assert find_orphans(recovery_dir) == []
    assert not list(recovery_dir.glob("*.design.json"))


def test_a_running_sessions_autosave_is_not_offered(make_window, recovery_dir):
    first = make_window(None)
    first.editor.set_setting("name", "Busy")
    assert first.autosaver.save_now()
    assert find_orphans(recovery_dir) == []  # its lock is held by a live session
