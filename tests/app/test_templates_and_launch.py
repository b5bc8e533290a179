"""Every template opens with one item per top-level node; the gallery lists them all with
params and MACs; `netdesigner --screenshot` writes a non-blank PNG (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from designer.app.dialogs.gallery import TemplateGallery
from designer.core.summary import human
from designer.templates import list_templates


@pytest.fixture(scope="module")
def template_names():
    return [t.name for t in list_templates()]


def test_every_template_opens_with_one_item_per_node(window, template_names):
    assert "lenet5" in template_names
    for name in template_names:
        window.answers.replies["choose_template"] = (name, False)
        window.actions_.new_template.trigger()
        design = window.editor.design
        assert design.metadata["template"] == name
        assert set(window.scene.node_items) == set(design.nodes), name
        assert sum(len(v) for v in window.scene.edge_items.values()) == len(design.edges), name
        positions = [n.position for n in design.nodes.values()]
        assert len(set(positions)) == len(positions), f"{name}: nodes overlap"
        assert window.editor.path is None and not window.editor.is_modified()


def test_gallery_lists_templates_with_params_and_macs(qtbot, template_names):
    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    qtbot.waitUntil(gallery.done_filling, timeout=60000)
    titles = {t.name: t.title for t in list_templates()}
    assert gallery.table.rowCount() == len(template_names)
    rows = {gallery.table.item(r, 0).text(): r for r in range(gallery.table.rowCount())}
    assert set(rows) == set(titles.values())
    lenet = rows["LeNet-5"]
    assert gallery.table.item(lenet, 1).text() == "1998"
    assert gallery.table.item(lenet, 2).text() == human(61706)
    gallery.table.selectRow(lenet)
    assert "61,706 parameters" in gallery.details.text()
    assert gallery.chosen() == ("lenet5", False)


def _run(args, tmp_path):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        NETDESIGNER_RECOVERY_DIR=str(tmp_path / "rec"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


def test_screenshot_writes_a_non_blank_png(tmp_path):
    out = tmp_path / "shot.png"
    proc = _run(["--screenshot", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1000
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 50  # widgets, text and coloured nodes, not one flat fill


def test_screenshot_of_an_unreadable_file_fails_with_the_message(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    proc = _run([str(bad), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert proc.returncode == 1
    assert "not valid JSON" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.png").exists()
