"""Receptive fields computed through the graph agree with the gradient of a unit w.r.t. the input,
for plain chains, residual, inception, merge and custom-block designs: the pixels with a nonzero
gradient lie inside the computed field and reach each side of it that lies inside the image.

A side beyond the image border is clipped, and there the support may stop short of the border:
a dilated or strided window can skip the layer units next to the padding (the recurrence counts
the padding as part of the field, as receptive-field arithmetic does)."""

from __future__ import annotations

import pytest
import torch

from designer.templates import new_from_template
from designer.viz import NodeProbe, load_model, receptive_fields
from tests.viz.designs import (
    custom_block_design,
    design_with,
    inception,
    lopsided_merges,
    plain_chain,
    residual,
)


def gradient_box(model, node_id, y, x, batch=64):
    """Bounding box (top, left, bottom, right) of the input pixels that move unit (y, x) of the
    node, over all its channels and a batch of random inputs (so ReLUs and max pools that block
    one input's gradient are open for another)."""
    probe = NodeProbe(model, node_id)
    inp = torch.randn(batch, *model.design.input_shape, requires_grad=True)
    out = probe.run(inp)
    unit = out[:, :, y, x] if out.dim() == 4 else out
    (grad,) = torch.autograd.grad(unit.sum(), inp)
    support = grad.abs().sum(dim=(0, 1)) > 0
    rows = support.any(dim=1).nonzero().flatten()
    cols = support.any(dim=0).nonzero().flatten()
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def clipped(box, hw):
    top, left, bottom, right = box
    return max(top, 0), max(left, 0), min(bottom, hw[0]), min(right, hw[1])


def check_bounds(field, grad, hw, where):
    """Support inside the clipped field; equal on every side the image does not clip."""
    top, left, bottom, right = field
    inside = (top >= 0, left >= 0, bottom <= hw[0], right <= hw[1])
    f = clipped(field, hw)
    assert f[0] <= grad[0] and f[1] <= grad[1] and grad[2] <= f[2] and grad[3] <= f[3], (
        where,
        field,
        grad,
    )
    for side in range(4):
        if inside[side]:
            assert grad[side] == field[side], (where, "side", side, field, grad)


def units(shape):
    """Corners, an edge and the middle of a node's output."""
    _, h, w = shape
    return sorted({(0, 0), (h - 1, w - 1), (0, w - 1), (h // 2, w // 2), (h - 1, w // 3)})


CASES = [
    (
        "plain chain",
        lambda: design_with((1, 48, 48), plain_chain),
        ["conv_s2", "relu_a", "conv_dil", "maxpool", "conv_rect", "conv_same", "avgpool"],
    ),
    ("residual", lambda: design_with((1, 16, 16), residual), ["stem", "res1", "res2", "res3"]),
    ("inception", lambda: design_with((1, 16, 16), inception), ["stem", "inc1", "pool", "inc2"]),
    (
        "merges",
        lambda: design_with((1, 12, 12), lopsided_merges),
        ["tall_crop", "wide", "add", "shifted_pool", "concat"],
    ),
    ("custom block", custom_block_design, ["down1", "down2"]),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on speed
@pytest.mark.parametrize("build,names", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_field_matches_gradient_support(build, names):
    design = build()
    model = load_model(design)
    fields = receptive_fields(design, model.analysis)
    hw = design.input_shape[1:]
    interior = 0
    for name in names:
        node = design.find(name)
        shape = model.analysis.info[node.id].shape
        for y, x in units(shape):
            box = fields[node.id].box(y, x, hw)
            check_bounds(box, gradient_box(model, node.id, y, x), hw, (name, y, x))
            interior += all(
                inside for inside in (box[0] >= 0, box[1] >= 0, box[2] <= hw[0], box[3] <= hw[1])
            )
    assert interior, "no unit with a field wholly inside the image was checked"


def test_union_at_merges_is_neither_branch():
    design = design_with((1, 12, 12), lopsided_merges)
    fields = receptive_fields(design)
    box = {
        n: fields[design.find(n).id].box(5, 5, (12, 12))
        for n in ("tall_crop", "wide", "add", "shifted_pool", "concat")
    }
    assert box["tall_crop"] == (3, 5, 8, 8)  # rows -2..2, cols 0..2 around unit (5, 5)
    assert box["wide"] == (5, 4, 6, 9)  # rows 0..0, cols -1..3
    assert box["add"] == (3, 4, 8, 9)
    assert box["shifted_pool"] == (2, 5, 9, 8)
    assert box["concat"] == (2, 4, 9, 9)


def test_lenet_fields_follow_the_recurrence():
    design = new_from_template("lenet5")
    fields = receptive_fields(design)
    box = {
        n: fields[design.find(n).id].box(0, 0, (28, 28))
        for n in ("conv1", "pool1", "conv2", "pool2")
    }
    assert box == {
        "conv1": (-2, -2, 3, 3),
        "pool1": (-2, -2, 4, 4),  # r 5, then 6 (j 2)
        "conv2": (-2, -2, 12, 12),
        "pool2": (-2, -2, 14, 14),
    }  # r 14, then 16 (j 4)
    assert fields[design.find("pool2").id].box(4, 4, (28, 28)) == (14, 14, 30, 30)


def test_after_flatten_a_unit_sees_the_whole_image():
    design = design_with((1, 16, 16), residual)
    model = load_model(design)
    fc = design.find("fc")
    field = receptive_fields(design, model.analysis)[fc.id]
    assert field.whole
    assert field.box(0, 0, (16, 16)) == (0, 0, 16, 16)
    assert gradient_box(model, fc.id, 0, 0, batch=8) == (0, 0, 16, 16)


def upsampling(b, x):
    x = b.add("Conv2d", x, name="down", out_channels=3, kernel_size=3, stride=2, padding=1)
    x = b.add("Upsample", x, name="up_nearest", scale_factor=2)
    x = b.add("Conv2d", x, name="conv", out_channels=3, kernel_size=3, padding=1)
    x = b.add(
        "ConvTranspose2d", x, name="deconv", out_channels=3, kernel_size=3, stride=2, padding=1
    )
    x = b.add("Upsample", x, name="up_bilinear", scale_factor=2, mode="bilinear")
    return b.add("Conv2d", x, name="last", out_channels=2, kernel_size=3)


def test_upsampling_fields_cover_the_gradient_support_closely():
    # Fractional jumps are rounded outwards: never too small, at most a couple of pixels wide.
    design = design_with((1, 12, 12), upsampling)
    model = load_model(design)
    fields = receptive_fields(design, model.analysis)
    for name in ("up_nearest", "conv", "deconv", "up_bilinear", "last"):
        node = design.find(name)
        for y, x in units(model.analysis.info[node.id].shape):
            field = clipped(fields[node.id].box(y, x, (12, 12)), (12, 12))
            grad = gradient_box(model, node.id, y, x, batch=32)
            assert field[0] <= grad[0] and field[1] <= grad[1], (name, y, x, field, grad)
            assert field[2] >= grad[2] and field[3] >= grad[3], (name, y, x, field, grad)
            assert max(g - f for g, f in zip(grad[:2], field[:2])) <= 2, (name, y, x, field, grad)
            assert max(f - g for g, f in zip(grad[2:], field[2:])) <= 2, (name, y, x, field, grad)


def test_vector_input_designs_have_whole_image_fields():
    design = new_from_template("mnist_mlp")
    assert all(f.whole for f in receptive_fields(design).values())
