"""Canvas previews in the app, as a user sees them: a thumbnail on every LeNet-5 node for the
pinned digit, a kernel-size edit recomputing only that node and downstream, View > Previews
switching them off and on, another pinned sample, and a refresh from a run's weights when the
run finishes an epoch. Real modules, the bundled digits, a real training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from designer.templates import new_from_template
from designer.training.events import EpochEvent
from designer.viz import load_model
from tests.helpers import train_digits_lenet

WAIT_MS = 60000


@pytest.fixture
def lenet_window(make_window, monkeypatch, qtbot):
    monkeypatch.setenv("NETDESIGNER_PREVIEWS", "on")
    window = make_window(new_from_template("lenet5"))
    qtbot.waitUntil(lambda: window.previews.passes >= 1, timeout=WAIT_MS)
    return window


def shown(window) -> dict:
    """Node name -> the Preview its canvas item shows (None: no preview item)."""
    out = {}
    for nid, item in window.scene.node_items.items():
        name = window.editor.design.nodes[nid].name
        out[name] = item.preview_item.preview if item.preview_item is not None else None
    return out


def next_pass(window, qtbot, action) -> None:
    before = window.previews.passes
    action()
    qtbot.waitUntil(lambda: window.previews.passes > before, timeout=WAIT_MS)


def test_every_lenet_node_shows_a_preview_and_an_edit_recomputes_downstream(lenet_window, qtbot):
    window = lenet_window
    previews = shown(window)
    assert len(previews) == 14
    assert all(p is not None and p.kind != "none" for p in previews.values()), previews
    assert previews["input"].kind == "image" and previews["conv1"].kind == "maps"
    assert previews["output"].kind == "classes"
    assert window.scene.node_items[window.editor.design.find("conv1").id].preview_item.image
    assert window.previews.strip.isVisible()
    assert len(window.previews.strip.grid.tiles) == 12

    engine = window.previews.engine
    counted = engine.recomputed
    conv2 = window.editor.design.find("conv2").id
    next_pass(window, qtbot, lambda: window.editor.set_node_attr(conv2, "params.kernel_size", 3))
    after = shown(window)
    assert engine.recomputed - counted == 10  # conv2 and the nine nodes after it
    for name in ("input", "conv1", "relu1", "pool1"):
        assert after[name] is previews[name]
    assert after["conv2"].caption == "16 maps 12x12"
    assert not np.array_equal(after["output"].values, previews["output"].values)

    # Undo: conv2 and what follows it are computed again, as they were.
    counted = engine.recomputed
    next_pass(window, qtbot, window.editor.undo)
    assert engine.recomputed - counted == 10
    assert shown(window)["conv2"].caption == "16 maps 10x10"
    np.testing.assert_allclose(shown(window)["output"].values, previews["output"].values)

    # Another pinned sample: every node is computed again for it.
    counted = engine.recomputed
    next_pass(window, qtbot, lambda: window.previews.strip.grid.tiles[5].clicked.emit(5))
    assert engine.recomputed - counted == 14
    assert "test image 5" in window.previews.strip.label.text()
    assert not np.array_equal(shown(window)["input"].pixels, previews["input"].pixels)


def test_view_previews_switches_them_off_and_on(lenet_window, qtbot):
    window = lenet_window
    action = window.actions_.previews
    assert action.isChecked() and action.shortcut().toString() == "Ctrl+Shift+P"
    action.trigger()
    assert not action.isChecked() and not window.previews.enabled
    assert all(p is None for p in shown(window).values())
    assert not window.previews.strip.isVisible()
    window.editor.set_document(new_from_template("lenet5"))  # switched off: stays off
    assert not action.isChecked() and not window.previews.strip.isVisible()
    next_pass(window, qtbot, action.trigger)
    assert all(p is not None for p in shown(window).values())
    assert window.previews.strip.isVisible()


def test_large_designs_start_without_previews(make_window, monkeypatch):
    from benchmarks.designs import densenet201_flat

    monkeypatch.delenv("NETDESIGNER_PREVIEWS")
    window = make_window(densenet201_flat((3, 32, 32)))
    assert len(window.editor.design.nodes) > 200
    assert not window.previews.enabled and not window.actions_.previews.isChecked()
    assert not window.previews.strip.isVisible()
    assert all(item.preview_item is None for item in window.scene.node_items.values())


def test_previews_refresh_when_a_run_finishes_an_epoch(lenet_window, qtbot, tmp_path):
    window = lenet_window
    design, run = train_digits_lenet(tmp_path / "run1", epochs=1)
    fresh = shown(window)["output"]
    controller = window.training_workspace().controller
    controller.run_dir = run
    epoch = EpochEvent(
        epoch=1,
        epochs=1,
        train_loss=0.5,
        train_accuracy=0.8,
        val_loss=0.5,
        val_accuracy=0.8,
        lr=0.01,
        seconds=1.0,
        samples_per_second=100.0,
    )
    next_pass(window, qtbot, lambda: controller.event.emit(epoch))
    engine = window.previews.engine
    assert engine.weights_note == f"weights from {run / 'last.safetensors'}"
    head = shown(window)["output"]
    assert not np.allclose(head.values, fresh.values)
    trained = load_model(design, weights=run / "last.safetensors").module
    with torch.no_grad():
        expected = torch.softmax(trained(engine.sample.x[None]), dim=1)[0].numpy()
    np.testing.assert_allclose(head.values, expected, rtol=1e-4, atol=1e-6)


def test_a_block_previews_its_output_and_its_inside_shows_none(make_window, monkeypatch, qtbot):
    from tests.viz.designs import design_with, residual

    monkeypatch.setenv("NETDESIGNER_PREVIEWS", "on")
    window = make_window(design_with((1, 16, 16), residual))
    qtbot.waitUntil(lambda: window.previews.passes >= 1, timeout=WAIT_MS)
    assert shown(window)["res2"].kind == "maps"
    window.editor.open_block(window.editor.design.find("res2").id)
    assert window.scene.node_items
    assert all(item.preview_item is None for item in window.scene.node_items.values())
    window.editor.go_up()
    assert shown(window)["res2"].kind == "maps"  # at once, from the last pass


def test_the_training_workspaces_data_gives_the_sample_images(lenet_window, qtbot, tmp_path):
    from tests.data.conftest import write_png

    window = lenet_window
    for c, name in enumerate(("cats", "dogs")):
        for i in range(10):
            pixels = np.full((12, 12), 20 + 100 * c + 5 * i, np.uint8)
            write_png(tmp_path / "pets" / name / f"{i}.png", pixels)
    form = window.training_workspace().form
    config = form.config.with_changes(dataset=f"folder:{tmp_path / 'pets'}")
    form.set_config(config)
    qtbot.waitUntil(
        lambda: (
            window.previews.samples is not None
            and window.previews.samples.classes == ["cats", "dogs"]
        ),
        timeout=WAIT_MS,
    )
    assert "pets" in window.previews.strip.label.text()
    assert shown(window)["input"].pixels.shape == (28, 28, 3)  # resized to LeNet's input
    assert shown(window)["output"].kind == "classes"  # 10 outputs, 2 classes: numbered
