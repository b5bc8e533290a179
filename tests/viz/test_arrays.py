"""Filters, activation maps and the confusion matrix, checked against the modules' own tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.viz import (
    VizError,
    activation_maps,
    confusion_matrix,
    filter_tiles,
    load_model,
)
from designer.viz.filters import normalize_tiles
from tests.viz.designs import design_with, residual


def conv_design(c_in, out=4, kind="Conv2d", **params):
    def build(b, x):
        return b.add(kind, x, name="conv", out_channels=out, kernel_size=3, **params)

    return design_with((c_in, 10, 10), build)


def test_rgb_filters_are_one_tile_each_normalized_per_tile():
    model = load_model(conv_design(3))
    f = filter_tiles(model, model.design.find("conv").id)
    w = model.module.conv.weight.detach().numpy()
    assert f.mode == "rgb" and f.tiles.shape == (4, 1, 3, 3, 3)
    for i in range(4):
        t = w[i].transpose(1, 2, 0)  # kh x kw x RGB
        assert np.allclose(f.tiles[i, 0], (t - t.min()) / (t.max() - t.min()), atol=1e-6)


def test_gray_filters_one_tile_per_input_channel_or_their_mean():
    model = load_model(conv_design(2, out=5))
    nid = model.design.find("conv").id
    w = model.module.conv.weight.detach().numpy()
    each = filter_tiles(model, nid)
    assert each.mode == "channels" and each.tiles.shape == (5, 2, 3, 3)
    assert np.allclose(each.tiles.min(axis=(2, 3)), 0) and np.allclose(
        each.tiles.max(axis=(2, 3)), 1
    )
    t = w[3, 1]
    assert np.allclose(each.tiles[3, 1], (t - t.min()) / (t.max() - t.min()), atol=1e-6)
    mean = filter_tiles(model, nid, mode="mean")
    m = w[2].mean(axis=0)
    assert mean.tiles.shape == (5, 1, 3, 3)
    assert np.allclose(mean.tiles[2, 0], (m - m.min()) / (m.max() - m.min()), atol=1e-6)


def test_transposed_convolution_filters_are_per_output_channel():
    model = load_model(conv_design(2, out=6, kind="ConvTranspose2d", groups=2))
    f = filter_tiles(model, model.design.find("conv").id)
    w = model.module.conv.weight.detach()  # in x out/groups x kh x kw
    assert f.weights.shape == (6, 1, 3, 3)
    # output channel 4 is in group 1, so it reads input channel 1 through w[1, 4 - 3]
    assert np.array_equal(f.weights[4, 0], w[1, 1].numpy())
    probe = torch.zeros(1, 2, 1, 1)
    probe[0, 1] = 1.0  # a single 1 in input channel 1: the output shows the kernels it meets
    out = torch.nn.functional.conv_transpose2d(probe, w, groups=2)
    assert np.allclose(out[0, 4].numpy(), f.weights[4, 0])


def test_constant_tiles_become_mid_gray():
    tiles = normalize_tiles(np.ones((2, 1, 3, 3), dtype=np.float32), 2)
    assert np.all(tiles == 0.5)


def test_filters_of_a_non_convolution_are_refused():
    model = load_model(conv_design(1))
    with pytest.raises(VizError, match="'fc' is a Linear"):
        filter_tiles(model, model.design.find("fc").id)


def test_activation_maps_equal_the_layer_outputs():
    design = design_with((1, 16, 16), residual)
    model = load_model(design)
    x = torch.randn(1, 16, 16)
    with torch.no_grad():
        stem = model.module.stem(x[None])
        res1 = model.module.res1(stem)
    a = activation_maps(model, design.find("res1").id, x)
    assert a.maps.shape == (6, 8, 8) and np.allclose(a.maps, res1[0].numpy())
    flat = activation_maps(model, design.find("flatten").id, x)  # no submodule: computed
    with torch.no_grad():
        res3 = model.module.res3(model.module.res2(res1))
    assert flat.maps.shape == (res3.numel(), 1, 1)
    assert np.allclose(flat.maps[:, 0, 0], res3.flatten().numpy())


def test_activation_maps_of_a_merge_node_without_a_submodule():
    design = Design("Merge", input_shape=(1, 8, 8))
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    a = b.add("Conv2d", x, name="a", out_channels=2, kernel_size=3, padding=1)
    c = b.add("Conv2d", x, name="c", out_channels=2, kernel_size=1)
    s = b.add("Add", [a, c], name="sum")
    cat = b.add("Concat", [s, a], name="cat")
    gap_id = b.add("GlobalAvgPool", cat, name="gap")
    fc = b.add("Linear", gap_id, name="fc", out_features=10)
    b.add("ClassificationOutput", fc, name="output")
    model = load_model(design)
    x = torch.randn(1, 8, 8)
    with torch.no_grad():
        ya, yc = model.module.a(x[None]), model.module.c(x[None])
    assert np.allclose(activation_maps(model, s, x).maps, (ya + yc)[0].numpy())
    assert np.allclose(activation_maps(model, cat, x).maps, torch.cat([ya + yc, ya], 1)[0].numpy())
    gap = activation_maps(
        model, gap_id, x
    ).maps  # GlobalAvgPool's module keeps 1 x 1: reshaped to C
    assert gap.shape == (4, 1, 1)
    assert np.allclose(
        gap[:, 0, 0], torch.cat([ya + yc, ya], 1).mean(dim=(2, 3))[0].numpy(), atol=1e-6
    )


def test_confusion_matrix_matches_scikit_learn():
    model = load_model(conv_design(1))
    x = torch.randn(300, 1, 10, 10)
    y = torch.randint(0, 10, (300,))
    y[y == 7] = 3  # class 7 has no samples in this split
    conf = confusion_matrix(model.module, x, y, [f"c{i}" for i in range(10)], batch_size=64)
    with torch.no_grad():
        pred = model.module(x).argmax(1)
    assert np.array_equal(conf.matrix, sk_confusion(y.numpy(), pred.numpy(), labels=range(10)))
    assert conf.accuracy == pytest.approx(float((pred == y).float().mean()))
    acc = conf.per_class_accuracy
    assert np.isnan(acc[7])
    for k in (0, 3):
        assert acc[k] == pytest.approx(float((pred[y == k] == k).float().mean()))
    assert model.module.training is False


def test_confusion_needs_matching_labels():
    model = load_model(conv_design(1))
    with pytest.raises(VizError, match="3 inputs but 2 labels"):
        confusion_matrix(
            model.module,
            torch.randn(3, 1, 10, 10),
            torch.zeros(2, dtype=torch.long),
            [str(i) for i in range(10)],
        )
