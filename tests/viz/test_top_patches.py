"""Top-k activating patches: the running top-k equals a brute-force ranking, every winner is the
node's real output at the recorded place, and every patch is the right crop of its image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from designer.templates import new_from_template
from designer.viz import (
    NodeProbe,
    RunningTopK,
    VizError,
    load_model,
    receptive_fields,
    top_patches,
)
from designer.viz.top_patches import clip_to_image, crop
from tests.viz.designs import design_with, inception, residual


def test_running_top_k_equals_ranking_everything_at_once():
    outputs = torch.randn(70, 5, 4, 3)
    top = RunningTopK(6)
    for lo, hi in ((0, 1), (1, 9), (9, 40), (40, 70)):  # uneven batches, the first smaller than k
        top.update(outputs[lo:hi])
    best, where = outputs.reshape(70, 5, -1).max(dim=2)
    values, images = torch.topk(best.T, 6, dim=1)
    assert torch.equal(top.values, values)
    assert torch.equal(top.images, images)
    assert torch.equal(top.positions, where.T.gather(1, images))


def test_fewer_images_than_k_and_flat_outputs():
    top = RunningTopK(5)
    top.update(torch.tensor([[1.0, -2.0], [3.0, 0.5]]))  # N x C, no spatial dimensions
    assert top.values.tolist() == [[3.0, 1.0], [0.5, -2.0]]
    assert top.images.tolist() == [[1, 0], [1, 0]]
    assert top.positions.tolist() == [[0, 0], [0, 0]]


def check_winners(model, node_name, inputs, shown, k=4, channels=None):
    node = model.design.find(node_name)
    tp = top_patches(model, node.id, inputs, shown, k=k, channels=channels, batch_size=16)
    out = NodeProbe(model, node.id)(inputs)
    field = receptive_fields(model.design, model.analysis)[node.id]
    hw = tuple(inputs.shape[2:])
    pictures = shown.permute(0, 2, 3, 1).numpy()
    for row, ch in enumerate(tp.channels):
        maxima = out[:, ch].reshape(len(inputs), -1).max(dim=1).values
        expect = torch.topk(maxima, k).indices.tolist()
        assert tp.image_index[row].tolist() == expect
        for j, img in enumerate(tp.image_index[row]):
            y, x = tp.position[row, j]
            assert tp.values[row, j] == pytest.approx(float(out[img, ch, y, x]))
            assert tp.values[row, j] == pytest.approx(float(maxima[img]))
            assert tuple(tp.boxes[row, j]) == field.box(int(y), int(x), hw)
            box = clip_to_image(field.box(int(y), int(x), hw), hw)
            h, w = box[2] - box[0], box[3] - box[1]
            patch = tp.patches[row, j, :h, :w]
            # inside the image: exactly the image's pixels; outside: padding (NaN)
            for r in range(h):
                for c in range(w):
                    py, px = box[0] + r, box[1] + c
                    if 0 <= py < hw[0] and 0 <= px < hw[1]:
                        assert patch[r, c, 0] == pictures[img, py, px, 0]
                    else:
                        assert np.isnan(patch[r, c, 0])
    return tp


def test_lenet_winners_and_crops():
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    model = load_model(design)
    inputs = torch.randn(40, 1, 16, 16)
    shown = torch.rand(40, 1, 16, 16)
    tp = check_winners(model, "conv2", inputs, shown, k=5, channels=[0, 3, 15])
    assert tp.patches.shape == (3, 5, 14, 14, 1)  # the full receptive field of conv2, 14 x 14
    assert np.isnan(tp.patches).any()  # conv2's corner units see the padding of conv1


@pytest.mark.parametrize("build,node", [(residual, "res2"), (inception, "inc1")])
def test_block_nodes(build, node):
    design = design_with((1, 16, 16), build)
    model = load_model(design)
    inputs = torch.randn(24, 1, 16, 16)
    check_winners(model, node, inputs, torch.rand(24, 1, 16, 16), k=3, channels=[0, 1])


def test_nodes_after_flatten_show_whole_images():
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    model = load_model(design)
    inputs, shown = torch.randn(12, 1, 16, 16), torch.rand(12, 1, 16, 16)
    tp = top_patches(model, design.find("fc2").id, inputs, shown, k=3, channels=[0, 1])
    assert tp.whole_image
    assert tp.patches.shape == (2, 3, 16, 16, 1)
    for row in range(2):
        for j in range(3):
            assert np.array_equal(
                tp.patches[row, j], shown[tp.image_index[row, j]].permute(1, 2, 0).numpy()
            )


def test_fewer_images_than_k_leave_empty_slots():
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    model = load_model(design)
    tp = top_patches(
        model,
        design.find("pool1").id,
        torch.randn(2, 1, 16, 16),
        torch.rand(2, 1, 16, 16),
        k=4,
        channels=[1],
    )
    assert sorted(tp.image_index[0, :2].tolist()) == [0, 1]
    assert tp.image_index[0, 2:].tolist() == [-1, -1]
    assert tp.values[0, 0] >= tp.values[0, 1]
    assert np.isneginf(tp.values[0, 2:]).all() and np.isnan(tp.patches[0, 2:]).all()


def test_bad_channel_is_refused_with_the_node_name():
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    model = load_model(design)
    with pytest.raises(VizError, match="conv1.*6 channels.*no channel 6"):
        top_patches(
            model,
            design.find("conv1").id,
            torch.randn(3, 1, 16, 16),
            torch.rand(3, 1, 16, 16),
            channels=[6],
        )


def test_crop_pads_outside_the_image():
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    patch = crop(image, (-1, 2, 2, 6))
    assert patch.shape == (3, 4, 1)
    assert np.isnan(patch[0]).all() and np.isnan(patch[:, 2:]).all()
    assert patch[1:, :2, 0].tolist() == [[2.0, 3.0], [6.0, 7.0]]


def test_probe_stops_the_forward_pass_at_the_node():
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    model = load_model(design)
    calls = []
    handle = model.module.fc3.register_forward_hook(lambda *a: calls.append(1))
    try:
        NodeProbe(model, design.find("conv2").id)(torch.randn(2, 1, 16, 16))
        assert calls == []  # the layers after conv2 were not computed
        NodeProbe(model, design.find("output").id)(torch.randn(2, 1, 16, 16))
        assert calls == [1]
    finally:
        handle.remove()
