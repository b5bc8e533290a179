"""The preview engine on LeNet-5: a thumbnail for every node, incremental recomputation after
an edit (counted), weights taken from a file (and again when the file changes), and a reason on
a node that cannot be computed."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from designer.interop.weights import save_weights
from designer.templates import new_from_template
from designer.viz import load_model
from designer.viz.previews import PreviewEngine, Sample

CLASSES = tuple(str(i) for i in range(10))


@pytest.fixture
def lenet():
    return new_from_template("lenet5")


def engine_for(design) -> PreviewEngine:
    engine = PreviewEngine()
    x = torch.rand(*design.input_shape)
    picture = x.permute(1, 2, 0).numpy()
    engine.set_sample(Sample(x, picture, CLASSES, "test image 0", label="3"))
    return engine


def by_name(design, previews):
    return {design.nodes[nid].name: p for nid, p in previews.items()}


def test_every_lenet_node_gets_a_preview(lenet):
    engine = engine_for(lenet)
    previews = by_name(lenet, engine.update(lenet))
    assert set(previews) == {n.name for n in lenet.nodes.values()}
    assert all(p.kind != "none" for p in previews.values()), previews
    assert previews["input"].kind == "image" and previews["input"].pixels.shape == (28, 28, 3)
    conv1 = previews["conv1"]
    assert conv1.kind == "maps" and conv1.caption == "6 maps 28x28"
    assert conv1.pixels.shape == (57, 57, 3)  # 2 x 2 maps of 28 x 28 and a line between
    assert previews["fc1"].kind == "bars" and len(previews["fc1"].values) == 32
    head = previews["output"]
    assert head.kind == "classes" and len(head.values) == 10
    assert head.values.sum() == pytest.approx(1.0, abs=1e-5)
    assert head.caption.startswith(CLASSES[head.predicted] + " · ")
    assert engine.recomputed == len(lenet.nodes)
    engine.update(lenet)
    assert engine.recomputed == len(lenet.nodes)  # nothing changed: all from the cache


def test_a_kernel_size_edit_recomputes_that_node_and_downstream_only(lenet):
    engine = engine_for(lenet)
    before = by_name(lenet, engine.update(lenet))
    conv2 = lenet.find("conv2")
    conv2.params = {**conv2.params, "kernel_size": 3}
    counted = engine.recomputed
    after = by_name(lenet, engine.update(lenet))
    downstream = ["conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2"]
    downstream += ["relu4", "fc3", "output"]
    assert engine.recomputed - counted == len(downstream)
    for name in ("input", "conv1", "relu1", "pool1"):
        assert after[name] is before[name]  # the cached preview itself
    assert after["conv2"].caption == "16 maps 12x12" != before["conv2"].caption
    assert not np.array_equal(after["output"].values, before["output"].values)


def test_previews_follow_a_weights_file_and_its_next_version(lenet, tmp_path):
    engine = engine_for(lenet)
    engine.update(lenet)
    path = tmp_path / "w.safetensors"
    trained = load_model(lenet, seed=7).module
    save_weights(trained, path)
    engine.use_weights(path)
    counted = engine.recomputed
    head = by_name(lenet, engine.update(lenet))["output"]
    assert engine.recomputed - counted == len(lenet.nodes) - 1  # all but the input
    with torch.no_grad():
        expected = torch.softmax(trained(engine.sample.x[None]), dim=1)[0].numpy()
    np.testing.assert_allclose(head.values, expected, rtol=1e-4, atol=1e-6)
    assert engine.weights_note == f"weights from {path}"

    # The run writes the file again after its next epoch: previews follow it.
    with torch.no_grad():
        lenet_fc3 = load_model(lenet, seed=8).module
    save_weights(lenet_fc3, path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    counted = engine.recomputed
    head = by_name(lenet, engine.update(lenet))["output"]
    assert engine.recomputed - counted == len(lenet.nodes) - 1
    with torch.no_grad():
        expected = torch.softmax(lenet_fc3(engine.sample.x[None]), dim=1)[0].numpy()
    np.testing.assert_allclose(head.values, expected, rtol=1e-4, atol=1e-6)


def test_a_node_that_cannot_be_computed_says_why(lenet):
    engine = engine_for(lenet)
    conv2 = lenet.find("conv2")
    conv2.params = {**conv2.params, "kernel_size": 40}  # larger than its 14 x 14 input
    previews = by_name(lenet, engine.update(lenet))
    for name in ("input", "conv1", "relu1", "pool1"):
        assert previews[name].kind != "none"
    bad = previews["conv2"]
    assert bad.kind == "none" and "kernel" in bad.reason.lower(), bad.reason
    assert previews["output"].kind == "none" and previews["output"].reason
    conv2.params = {**conv2.params, "kernel_size": 5}
    assert by_name(lenet, engine.update(lenet))["output"].kind == "classes"


def test_an_edit_keeps_the_weights_that_still_fit(lenet):
    engine = engine_for(lenet)
    engine.update(lenet)
    conv1, fc2 = lenet.find("conv1"), lenet.find("fc2")
    weight = engine.module(conv1.id).weight.clone()
    fc2_module = engine.module(fc2.id)
    conv1.params = {**conv1.params, "padding": 0}  # 28 -> 24: shapes change downstream
    engine.update(lenet)
    assert torch.equal(engine.module(conv1.id).weight, weight)  # not initialized again
    assert engine.module(fc2.id) is fc2_module  # what builds it did not change
    assert engine.module(lenet.find("fc1").id).in_features == 16 * 4 * 4  # a new one


def test_a_stride_edit_of_a_residual_block_keeps_its_convolutions():
    from tests.viz.designs import design_with, residual

    design = design_with((1, 16, 16), residual)
    engine = engine_for(design)
    engine.update(design)
    res2 = design.find("res2")
    weight = engine.module(res2.id).conv1.weight.clone()
    res2.params = {**res2.params, "stride": 2}  # now with a projection shortcut
    counted = engine.recomputed
    previews = by_name(design, engine.update(design))
    assert engine.recomputed - counted == 5  # res2, res3, flatten, fc and the head
    assert torch.equal(engine.module(res2.id).conv1.weight, weight)
    assert not any(t.is_meta for t in engine.module(res2.id).state_dict().values())
    assert previews["output"].kind == "classes"


def test_without_a_sample_no_node_keeps_an_old_preview(lenet):
    engine = engine_for(lenet)
    engine.update(lenet)
    engine.set_sample(None)
    previews = by_name(lenet, engine.update(lenet))
    assert previews["input"].reason == "no sample to preview yet"
    assert not previews["input"].blocked
    others = [p for name, p in previews.items() if name != "input"]
    assert all(p.kind == "none" and p.blocked for p in others)
