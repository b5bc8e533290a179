"""Nodes inside blocks (a conv of a residual block, a layer of a custom block) can be looked at:
found by path or unique name, probed exactly, their filters, top patches and receptive fields
right, and reached by `visualize --node`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from designer.cli import main
from designer.core.serialization import save_design
from designer.viz import NodeProbe, VizError, filter_tiles, load_model, pick_node, top_patches
from designer.viz.nodes import find_place, walk
from designer.viz.top_patches import clip_to_image
from tests.viz.designs import custom_block_design, design_with, residual


@pytest.fixture
def res_model():
    return load_model(design_with((1, 16, 16), residual))


def test_walk_lists_block_insides_after_their_block(res_model):
    labels = [p.label for p in walk(res_model.design, res_model.analysis)]
    assert labels.index("res1") < labels.index("res1/conv1") < labels.index("res2")
    assert "res1/downsample_conv" in labels and "res2/downsample_conv" not in labels


def test_names_paths_and_ambiguity(res_model):
    d, a = res_model.design, res_model.analysis
    assert find_place(d, a, "res2/conv2").label == "res2/conv2"
    with pytest.raises(VizError, match="several blocks have a node named 'conv1'.*res1/conv1"):
        find_place(d, a, "conv1")
    with pytest.raises(VizError, match="'res1/bn1' is a BatchNorm, but filters need"):
        pick_node(d, a, "filters", "res1/bn1")


def test_a_nested_probe_is_the_inner_module_output(res_model):
    place = find_place(res_model.design, res_model.analysis, "res1/conv2")
    seen = {}
    res_model.module.res1.conv2.register_forward_hook(lambda m, i, o: seen.update(out=o.clone()))
    x = torch.randn(3, 1, 16, 16)
    out = NodeProbe(res_model, place.key)(x)
    with torch.inference_mode():
        res_model.module(x)
    assert torch.equal(out, seen["out"])
    add = find_place(res_model.design, res_model.analysis, "res1/add")  # no module: computed
    with torch.inference_mode():
        block_in = NodeProbe(res_model, res_model.design.find("stem").id)(x)
        m = res_model.module.res1
        want = m.bn2(m.conv2(m.relu1(m.bn1(m.conv1(block_in))))) + m.downsample_bn(
            m.downsample_conv(block_in)
        )
    assert torch.allclose(NodeProbe(res_model, add.key)(x), want, atol=1e-6)


def test_filters_and_top_patches_of_a_conv_inside_a_block(res_model):
    place = find_place(res_model.design, res_model.analysis, "res2/conv1")
    tiles = filter_tiles(res_model, place.key)
    assert tiles.node_name == "res2/conv1"
    assert tiles.weights.shape == (6, 6, 3, 3)
    assert np.array_equal(tiles.weights, res_model.module.res2.conv1.weight.detach().numpy())
    x, shown = torch.randn(20, 1, 16, 16), torch.rand(20, 1, 16, 16)
    tp = top_patches(res_model, place.key, x, shown, k=9)
    assert tp.patches.shape[:2] == (6, 9)  # every channel, 9 patches each
    out = NodeProbe(res_model, place.key)(x)
    best = out.reshape(20, 6, -1).max(dim=2).values
    assert tp.image_index[2].tolist() == torch.topk(best[:, 2], 9).indices.tolist()


def test_deep_fields_are_clipped_to_the_image_with_the_true_size_in_the_label(res_model):
    place = find_place(res_model.design, res_model.analysis, "res3/conv2")
    x, shown = torch.randn(8, 1, 16, 16), torch.rand(8, 1, 16, 16)
    tp = top_patches(res_model, place.key, x, shown, k=2, channels=[0])
    assert tp.field[0] > 16 and tp.clipped
    assert tp.patches.shape[2:4] == (16, 16)
    assert (
        f"receptive field {tp.field[0]}x{tp.field[1]}, clipped to the 16x16 image" in tp.field_text
    )
    assert clip_to_image((-3, 2, 30, 6), (16, 16)) == (0, 2, 16, 6)


def test_a_layer_of_a_custom_block(tmp_path):
    design = custom_block_design()
    model = load_model(design)
    place = find_place(design, model.analysis, "down2/conv_b")
    assert model.module_name(place.key) == "down2.conv_b"
    assert torch.equal(
        torch.from_numpy(filter_tiles(model, place.key).weights),
        model.module.down2.conv_b.weight.detach(),
    )


def test_visualize_node_reaches_nested_nodes(tmp_path, capsys):
    path = tmp_path / "res.json"
    save_design(design_with((1, 16, 16), residual), path)
    code = main(
        [
            "visualize",
            str(path),
            "--data",
            "digits",
            "--node",
            "res1/conv2",
            "--filters",
            str(tmp_path / "f.png"),
            "--top-patches",
            str(tmp_path / "t.png"),
            "--k",
            "3",
            "--channels",
            "2",
            "--activations",
            str(tmp_path / "a.png"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "6 filters of res1/conv2" in out
    assert "top 3 patches of res1/conv2 for 2 of 6 channels" in out
    assert "6 activation map(s) of res1/conv2" in out
    code = main(["visualize", str(path), "--node", "conv1", "--filters", str(tmp_path / "g.png")])
    assert code == 1 and "several blocks have a node named 'conv1'" in capsys.readouterr().err
