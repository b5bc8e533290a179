"""One test per registered layer type: defaults validate; the analytic shape, parameter count and
MACs equal those of the real built module; the JSON round-trips; the generated code runs."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from designer.codegen import compile_design, generate
from designer.core.analysis import analyze
from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.registry import list_specs
from designer.core.serialization import dumps, loads

STRUCTURAL = {"input", "output", "block_input", "block_output", "custom_block"}
LAYERS = [s for s in list_specs() if s.role not in STRUCTURAL]


def single_layer_design(spec):
    """Input -> layer -> probe -> Flatten -> regression head, on an image input if the layer takes
    one. The probe is a Dropout (the identity in eval mode): a module whose input is the layer's
    output, whatever the layer's own forward expression is."""
    for shape in ((4, 12, 12), (16,)):
        design = Design(f"one {spec.type}", input_shape=shape, task="regression")
        b = GraphBuilder(design)
        x = b.add("Input", name="input")
        n_in = len(spec.input_ports(spec.defaults()))
        layer = b.add(spec.type, [x] * n_in, name="layer")
        probe = b.add("Dropout", layer, name="probe")
        b.add("RegressionOutput", b.add("Flatten", probe, name="flatten"), name="output")
        res = analyze(design)
        if not res.problems:
            return design, layer, res
    return design, layer, res


def test_the_library_has_every_type_the_issue_names():
    names = {s.type for s in list_specs()}
    for required in [
        "Conv2d",
        "ConvTranspose2d",
        "Linear",
        "Flatten",
        "Reshape",
        "MaxPool2d",
        "AvgPool2d",
        "GlobalAvgPool",
        "Upsample",
        "Dropout",
        "Dropout2d",
        "BatchNorm",
        "LayerNorm",
        "GroupNorm",
        "InstanceNorm",
        "LocalResponseNorm",
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "RReLU",
        "ELU",
        "SELU",
        "GELU",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "Add",
        "Concat",
        "Shift",
        "Scale",
        "InceptionModule",
        "ResidualBasicBlock",
        "ResidualBottleneck",
        "DenseBlock",
        "DenseTransition",
        "FireModule",
        "InvertedResidual",
        "Input",
        "ClassificationOutput",
        "RegressionOutput",
    ]:
        assert required in names


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type)
def test_layer_matches_its_module(spec):
    design, layer_id, res = single_layer_design(spec)
    assert res.problems == [], f"defaults of {spec.type} do not validate: {res.problems}"
    info = res.info[layer_id]

    code = generate(design)
    model = compile_design(design, code).eval()
    x = torch.randn(2, *design.input_shape)
    seen = []
    probe = getattr(model, code.module_names[design.find("probe").id])
    probe.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0]))
    with FlopCounterMode(display=False) as flops:
        out = model(x)
    assert [tuple(t.shape) for t in seen] == [(2, *info.shape)]  # the layer's output, as analysed
    assert out.shape == (2, math.prod(info.shape))

    params = sum(p.numel() for p in model.parameters())
    buffers = sum(
        b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
    )
    assert info.trainable_params == params
    assert info.buffer_params == buffers
    assert info.macs * 2 == flops.get_total_flops() // 2  # batch of 2: FLOPs = 2 x MACs x batch

    again = loads(dumps(design))
    assert dumps(again) == dumps(design)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type)
def test_every_param_has_help_and_a_valid_default(spec):
    for p in spec.params:
        assert p.help, f"{spec.type}.{p.name} has no help text"
        assert p.check(p.default) is None, f"{spec.type}.{p.name} default {p.default!r} is invalid"
    assert spec.help and spec.title and spec.category


def test_channels_last_layers_are_torchvision_s_convnext_branch():
    """The options beyond the defaults that ConvNeXt needs: Permute to channels-last, LayerNorm
    over the last dimension, Linear at every position, Permute back, a per-channel Scale from
    1e-6, LayerNorm2d; shapes, parameters and MACs as analysed, outputs bit-equal to
    torchvision's CNBlock branch and LayerNorm2d with the same weights."""
    from torchvision.models.convnext import CNBlock, LayerNorm2d

    design = Design("channels last", input_shape=(8, 5, 6), task="regression")
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    chain = [
        ("Permute", {"dims": [2, 3, 1]}),
        ("LayerNorm", {"over": "last", "eps": 1e-6}),
        ("Linear", {"out_features": 32, "last_dim": True}),
        ("GELU", {}),
        ("Linear", {"out_features": 8, "last_dim": True}),
        ("Permute", {"dims": [3, 1, 2]}),
        ("Scale", {"mode": "channel", "init": 1e-6}),
        ("LayerNorm2d", {"eps": 1e-6}),
    ]
    for i, (type_name, params) in enumerate(chain):
        x = b.add(type_name, x, name=f"n{i}", **params)
    b.add("RegressionOutput", b.add("Flatten", x, name="flatten"), name="output")
    res = analyze(design)
    assert res.problems == []
    assert [res.info[design.find(f"n{i}").id].shape for i in (0, 2, 5)] == [
        (5, 6, 8),
        (5, 6, 32),
        (8, 5, 6),
    ]

    code = generate(design)
    model = compile_design(design, code).eval()
    assert model.state_dict()[f"{code.module_names[design.find('n6').id]}.scale"].eq(1e-6).all()
    theirs, norm = CNBlock(8, 1e-6, 0.0).eval(), LayerNorm2d(8, eps=1e-6)
    with torch.no_grad():
        for t in [*theirs.parameters(), *norm.parameters()]:
            t.copy_(torch.randn(t.shape))
    mine = [p for n, p in model.named_parameters()]
    branch = [*theirs.block[1:].parameters(), theirs.layer_scale, *norm.parameters()]
    assert [tuple(t.shape) for t in mine] == [tuple(t.shape) for t in branch]
    with torch.no_grad():
        for ours, t in zip(mine, branch):
            ours.copy_(t)
    x = torch.randn(2, 8, 5, 6)
    with FlopCounterMode(display=False) as flops, torch.no_grad():
        out = model(x)
    with torch.no_grad():
        want = norm(theirs.layer_scale * theirs.block[1:](x))
    assert torch.equal(out, want.flatten(1))
    totals = [res.info[design.find(f"n{i}").id] for i in range(len(chain))]
    assert sum(i.trainable_params for i in totals) == sum(p.numel() for p in mine)
    assert sum(i.macs for i in totals) * 2 == flops.get_total_flops() // 2
