"""The Inspect workspace, driven as a user would: it follows the canvas selection into blocks,
shows the expected filters and top-9 tiles, steps through a run's per-epoch filters, explains a
prediction, opens a confusion cell's images, checks gradients from the context menu and exports
PNGs. Real modules, a real training run on the bundled digits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from designer.training import filter_history
from tests.helpers import train_digits_lenet
from tests.viz.designs import design_with, residual


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    return train_digits_lenet(tmp_path_factory.mktemp("lenet") / "run1")


def trained_window(make_window, lenet_run):
    """The LeNet design in a window, its run among the (unsaved) design's runs."""
    from designer.app.training.workspace import unsaved_runs_folder

    design, run = lenet_run
    target = unsaved_runs_folder(design.name) / "run1"
    shutil.copytree(run, target)
    window = make_window(design)
    return window, target


def wait_idle(qtbot, inspect):
    qtbot.waitUntil(
        lambda: (
            not any(
                j.running
                for j in (
                    inspect.data_job,
                    inspect.patch_job,
                    inspect.confusion_job,
                    inspect.gradient_job,
                )
            )
        ),
        timeout=60000,
    )


def test_filters_and_top_patches_of_a_conv_inside_a_block(make_window, qtbot):
    window = make_window(design_with((1, 16, 16), residual))
    inspect = window.show_inspect()
    wait_idle(qtbot, inspect)
    assert "fresh, untrained weights" in inspect.note.text()
    # Open block res2 on the canvas and select its conv1: the Inspect tab follows.
    res2 = window.editor.design.find("res2").id
    window.editor.open_block(res2)
    conv1 = window.editor.graph.find("conv1").id
    window.scene.select_nodes([conv1])
    assert inspect.key == f"{res2}/{conv1}"
    assert inspect.nodes.currentText().strip() == "res2/conv1 (Conv2d)"

    inspect.tabs.setCurrentWidget(inspect.filters)
    assert len(inspect.filters.grid.tiles) == 6 * 6  # 6 filters x 6 input channels
    assert inspect.filters.grid.tiles[0].pixmap().width() >= 90  # 3x3 kernels upscaled

    inspect.tabs.setCurrentWidget(inspect.patches)
    inspect.patches.progress.compute.click()
    assert inspect.patch_job.running or inspect.patches.result is not None
    wait_idle(qtbot, inspect)
    assert len(inspect.patches.grid.tiles) == 6 * 9  # 6 channels, top 9 each
    assert "res2/conv1" in inspect.patches.title.text()
    inspect.patches.grid.tiles[10].clicked.emit(10)  # a patch: its whole image, field outlined
    assert not inspect.patches.detail.pixmap().isNull()
    assert "test image" in inspect.patches.detail_text.text()


def test_top_patches_page_and_cancel(make_window, qtbot):
    window = make_window(design_with((1, 16, 16), residual))
    inspect = window.show_inspect()
    wait_idle(qtbot, inspect)
    inspect.select_node(window.editor.design.find("res3").id)
    inspect.tabs.setCurrentWidget(inspect.patches)
    inspect.find_patches()
    inspect.patch_job.cancel()
    wait_idle(qtbot, inspect)
    if inspect.patches.result is None:  # stopped before the pass ended
        assert inspect.patches.message.text() == "Cancelled."
    inspect.find_patches()
    wait_idle(qtbot, inspect)
    assert inspect.patches.page_label.text() == "0..7 of 8 channels"
    assert "clipped to the 16x16 image" in inspect.patches.title.text()  # a deep field


def test_the_epoch_slider_steps_through_the_runs_filters(make_window, lenet_run, qtbot):
    window, run = trained_window(make_window, lenet_run)
    inspect = window.show_inspect()
    inspect.select_source(run, "last")
    wait_idle(qtbot, inspect)
    assert "the last weights of the run" in inspect.note.text()
    inspect.select_node(window.editor.design.find("conv1").id)
    inspect.tabs.setCurrentWidget(inspect.filters)
    history = filter_history.read(run)
    assert history.epochs == [0, 1, 2, 3, 4, 5]
    slider = inspect.filters.slider
    assert slider.isEnabled() and slider.maximum() == 5
    for step in (0, 3, 5):
        slider.setValue(step)
        shown = inspect.filters.tiles.weights
        assert np.array_equal(shown, history.weights[step].numpy())
        assert len(inspect.filters.grid.tiles) == 6
    assert "after epoch 5" in inspect.filters.title.text()
    inspect.select_node(window.editor.design.find("conv2").id)  # no history for conv2
    assert not slider.isEnabled() and "conv1 only" in slider.toolTip()


def test_activations_grad_cam_and_a_dropped_image(make_window, lenet_run, qtbot, tmp_path):
    window, run = trained_window(make_window, lenet_run)
    inspect = window.show_inspect()
    inspect.select_source(run, "best")
    wait_idle(qtbot, inspect)
    inspect.select_node(window.editor.design.find("conv2").id)
    inspect.tabs.setCurrentWidget(inspect.activations)
    inspect.pick_sample(4)
    assert len(inspect.activations.grid.tiles) == 16
    assert "test image 4" in inspect.activations.title.text()
    inspect.tabs.setCurrentWidget(inspect.attribution)
    assert [r.method for r in inspect.attribution.results] == ["grad-cam", "saliency"]
    assert len(inspect.attribution.grid.tiles) == 6
    inspect.attribution.classes.setCurrentIndex(inspect.attribution.classes.findData(2))
    assert all(r.target == 2 for r in inspect.attribution.results)

    img = np.zeros((40, 30), dtype=np.uint8)
    img[8:32, 12:18] = 255  # a tall bar: a "1"
    Image.fromarray(img).save(tmp_path / "one.png")
    inspect.use_image(str(tmp_path / "one.png"))
    assert "one.png" in inspect.strip_label.text()
    assert inspect.attribution.input.shape == (28, 28, 1)
    (tmp_path / "notes.png").write_text("not an image")
    inspect.use_image(str(tmp_path / "notes.png"))
    assert window.answers.errors and "cannot be read as an image" in window.answers.errors[-1]


def test_confusion_cells_open_their_images_and_views_export_png(
    make_window, lenet_run, qtbot, tmp_path
):
    window, run = trained_window(make_window, lenet_run)
    inspect = window.show_inspect()
    inspect.select_source(run, "last")
    wait_idle(qtbot, inspect)
    inspect.tabs.setCurrentWidget(inspect.confusion)
    inspect.confusion.progress.compute.click()
    wait_idle(qtbot, inspect)
    m = inspect.confusion.confusion.matrix
    assert m.sum() == len(inspect.session.samples().x)
    wrong = [(i, j) for i in range(10) for j in range(10) if i != j and m[i, j]]
    i, j = wrong[0]
    inspect.confusion.table.cellClicked.emit(i, j)
    assert len(inspect.confusion.cell.tiles) == m[i, j]
    assert "misclassified" in inspect.confusion.cell_title.text()

    window.answers.replies["save_path"] = str(tmp_path / "confusion")
    inspect.export_view()
    with Image.open(tmp_path / "confusion.png") as im:
        assert im.format == "PNG" and im.width > 100
    inspect.tabs.setCurrentWidget(inspect.filters)
    window.answers.replies["save_path"] = str(tmp_path / "filters.png")
    inspect.export_view()
    assert (tmp_path / "filters.png").stat().st_size > 0


def test_check_gradients_from_the_context_menu(make_window, qtbot):
    window = make_window(design_with((1, 16, 16), residual))
    res1 = window.editor.design.find("res1").id
    menu = window.actions_.context_menu(res1)
    assert window.actions_.check_gradients in menu.actions()
    window.actions_.check_gradients.trigger()
    menu.deleteLater()
    inspect = window.inspect
    assert window.workspace.currentWidget() is window._inspect_page
    assert inspect.tabs.currentWidget() is inspect.gradients
    wait_idle(qtbot, inspect)
    assert "res1: gradients correct" in inspect.gradients.text.text()
    # The panels of the Design tab come back when the user returns to it.
    window.workspace.setCurrentIndex(1)
    window.workspace.setCurrentIndex(0)
    assert window.docks["Inspector"].isVisible()
    assert torch.get_num_threads() >= 1


def test_top_patches_asked_for_while_the_test_split_loads_follow_when_it_is_there(
    make_window, qtbot
):
    window = make_window(design_with((1, 16, 16), residual))
    inspect = window.show_inspect()
    inspect.select_node(window.editor.design.find("res3").id)
    inspect.tabs.setCurrentWidget(inspect.patches)
    inspect._load_samples()  # the test split loads (again) on a thread
    assert inspect.data_job.running
    inspect.find_patches()  # pressed too early
    assert "follow when it is here" in inspect.patches.message.text()
    qtbot.waitUntil(lambda: inspect.patches.result is not None, timeout=60000)
    wait_idle(qtbot, inspect)
    assert len(inspect.patches.grid.tiles) > 0
