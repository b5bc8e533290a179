"""The built-in blocks' classes (designer/layers/block_modules.py) are the twins of their specs'
inner graphs: a constructor of exactly the block's params, and for any params the same
state_dict (keys, order, shapes) and the same outputs and gradients as the inner graph written
out node by node. They script with TorchScript in every configuration."""

from __future__ import annotations

import ast
import re

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from designer.codegen import compile_design, generate
from designer.core.analysis import analyze
from designer.core.builder import GraphBuilder
from designer.core.design import BlockDef, Design
from designer.core.params import Bool, Choice, Float, Int, OptionalInt, Size
from designer.core.registry import get_spec, list_specs
from designer.layers import module_source
from tests.templates.reference import randomize_

BLOCKS = [s for s in list_specs() if s.composite]


def test_every_block_and_helper_has_its_class():
    """The file holds the blocks' classes and the layers' helper classes, nothing else."""
    helpers = {
        re.search(r"^class (\w+)", chunk, flags=re.MULTILINE).group(1)
        for spec in list_specs()
        if not spec.composite
        for chunk in spec.support_classes()
    }
    assert {s.type for s in BLOCKS} | helpers == set(module_source.class_names())
    assert {"Scale", "StochasticDepth", "LayerNorm2d"} <= helpers


@pytest.mark.parametrize("spec", BLOCKS, ids=lambda s: s.type)
def test_the_constructor_takes_the_block_s_params_by_name(spec):
    args = module_source.signature(spec.type)
    assert [a.name for a in args] == ["in_channels", *(p.name for p in spec.params)]
    for arg in args[1:]:
        if arg.has_default:  # a class default is the spec's default
            assert arg.default == spec.param(arg.name).default, f"{spec.type}.{arg.name}"


def _values(param):
    """A few valid values of a param, small enough to keep the networks tiny."""
    if isinstance(param, Bool):
        return [True, False]
    if isinstance(param, Choice):
        return list(param.options)
    if isinstance(param, Float):
        return [v for v in (param.default, 0.25, 1.0, 1e-3) if param.check(v) is None]
    if isinstance(param, Size):
        return [1, 2, 3, [1, 3], [3, 1]]
    if isinstance(param, Int):
        values = [v for v in (0, 1, 2, 3, 4, 6) if param.check(v) is None]
        return values + [None] if isinstance(param, OptionalInt) else values
    raise TypeError(param)


def _design(in_shape, node_type, params, block=None):
    design = Design("twin", input_shape=in_shape, task="regression")
    if block is not None:
        design.blocks[block.name] = block
    b = GraphBuilder(design)
    x = b.add(node_type, b.add("Input", name="input"), name="block", **params)
    b.add("RegressionOutput", b.add("Flatten", x, name="flatten"), name="output")
    return design


def _inner_graph_as_custom_block(spec, params, in_shape) -> BlockDef:
    inner = spec.expand(spec.resolve(params), [in_shape])
    block = BlockDef("Twin")
    for node in inner.nodes.values():
        block.add_node(node.copy())
    for edge in inner.edges:
        block.add_edge(edge)
    return block


def _constructor_args(source: str) -> dict[str, list[str]]:
    """Class name -> its __init__ arguments after self, for the block classes of a file."""
    types = {s.type for s in BLOCKS}
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in types:
            init = next(
                n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
            )
            out[node.name] = [a.arg for a in init.args.args[1:]]
    return out


def _run(model, x, train):
    model.train(train)
    torch.manual_seed(0)  # the same dropout masks for both
    out = model(x)
    out.square().sum().backward()
    return out, {n: p.grad for n, p in model.named_parameters()}


@st.composite
def block_uses(draw, spec):
    params = {p.name: draw(st.sampled_from(_values(p))) for p in spec.params}
    in_shape = (
        draw(st.sampled_from([1, 2, 3, 4, 6])),
        draw(st.integers(5, 8)),
        draw(st.integers(5, 8)),
    )
    return params, in_shape


@pytest.mark.parametrize("spec", BLOCKS, ids=lambda s: s.type)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_the_class_is_the_inner_graph(spec, data):
    params, in_shape = data.draw(block_uses(spec))
    design = _design(in_shape, spec.type, params)
    assume(not analyze(design).problems)
    code = generate(design)
    for name, args in _constructor_args(code.source).items():  # DenseBlock brings DenseLayer
        assert set(args) <= {"in_channels"} | {p.name for p in get_spec(name).params}, name

    block = _inner_graph_as_custom_block(spec, params, in_shape)
    twin_design = _design(in_shape, "Block", {"block": "Twin"}, block)
    ours = randomize_(compile_design(design, code), seed=1)
    twin = compile_design(twin_design)
    shapes = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert shapes == [(k, tuple(v.shape)) for k, v in twin.state_dict().items()]
    twin.load_state_dict(ours.state_dict(), strict=True)

    x = torch.randn(2, *in_shape, generator=torch.Generator().manual_seed(2))
    for train in (False, True):
        for model in (ours, twin):
            model.zero_grad()
        (got, got_grads), (want, want_grads) = _run(ours, x, train), _run(twin, x, train)
        assert torch.allclose(got, want, atol=1e-5, rtol=1e-4)
        for name, grad in want_grads.items():
            assert torch.allclose(got_grads[name], grad, atol=1e-4, rtol=1e-3), name


# Configurations that leave optional submodules out (no shortcut projection, no expansion, no
# activation, no dropout, no BatchNorm), which TorchScript must compile away.
SCRIPTED = [
    ("ResidualBasicBlock", {"out_channels": 4}),
    ("ResidualBasicBlock", {"out_channels": 8}),
    ("ResidualBottleneck", {"width": 1}),
    ("ResidualBottleneck", {"width": 2, "stride": 2}),
    ("InvertedResidual", {"out_channels": 4, "expand_ratio": 1}),
    ("InvertedResidual", {"out_channels": 6, "stride": 2}),
    ("ConvBNAct", {"out_channels": 4, "activation": "none"}),
    ("ConvBNAct", {"out_channels": 4}),
    ("ConvBNAct", {"out_channels": 4, "kernel_size": [1, 3]}),
    ("DenseBlock", {"num_layers": 2, "growth_rate": 2, "drop_rate": 0.2}),
    ("DenseLayer", {"growth_rate": 2}),
    ("DenseTransition", {}),
    (
        "InceptionModule",
        {
            "ch1x1": 1,
            "ch3x3red": 1,
            "ch3x3": 2,
            "ch5x5red": 1,
            "ch5x5": 2,
            "pool_proj": 1,
            "batch_norm": False,
        },
    ),
    ("FireModule", {"squeeze": 2, "expand1x1": 2, "expand3x3": 2}),
    ("ConvNeXtBlock", {"stochastic_depth_prob": 0.1}),
    ("SqueezeExcitation", {"squeeze_channels": 2, "gate": "Hardsigmoid"}),
    ("MBConv", {"out_channels": 4}),
    ("MBConv", {"out_channels": 6, "expanded_channels": 8, "se_channels": 2, "stride": 2}),
    ("DepthwiseSeparableConv", {"out_channels": 6, "pointwise_activation": False}),
    ("FusedMBConv", {"out_channels": 4}),
    ("FusedMBConv", {"out_channels": 6, "expanded_channels": 8, "stride": 2}),
    ("ShuffleUnit", {"out_channels": 4, "stride": 1}),
    ("ShuffleUnit", {"out_channels": 6}),
    ("RegNetBottleneck", {"out_channels": 4, "group_width": 2}),
    ("RegNetBottleneck", {"out_channels": 8, "stride": 2, "group_width": 4, "se_channels": 2}),
]


@pytest.mark.parametrize(
    "node_type,params", SCRIPTED, ids=[f"{t}-{'-'.join(map(str, p.values()))}" for t, p in SCRIPTED]
)
def test_the_class_scripts_in_every_configuration(node_type, params):
    design = _design((4, 6, 6), node_type, params)
    assert analyze(design).problems == []
    model = compile_design(design).eval()
    x = torch.randn(2, 4, 6, 6)
    with torch.no_grad():
        assert torch.allclose(torch.jit.script(model)(x), model(x), atol=1e-6)
