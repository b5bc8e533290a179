"""Generated code: standalone, readable, safe against any user text, and the same module the app
compiles; it scripts, traces, exports and converts to ONNX."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from designer.codegen import CodegenError, compile_design, generate, load_source
from designer.core.analysis import analyze
from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.summary import summarize
from designer.templates import list_templates, new_from_template
from tests.helpers import chain


def mixed_design(name="Mixed net"):
    """Branches, merges, blocks and the thesis layers in one small design."""
    d = Design(name, input_shape=(3, 16, 16), num_classes=5)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    x = b.add("Shift", x, name="shift_in", mode="channel")
    x = b.add("Scale", x, name="scale_in", mode="element")
    x = b.add("Conv2d", x, name="stem", out_channels=8, kernel_size=3, padding=1)
    x = b.add("BatchNorm", x, name="stem_bn")
    x = b.add("ReLU", x, name="stem_relu")
    left = b.add("Conv2d", x, name="left", out_channels=8, kernel_size=3, padding=1)
    x = b.add("Add", [x, left], name="residual")
    x = b.add("ResidualBasicBlock", x, name="res", out_channels=16, stride=2)
    x = b.add(
        "InceptionModule",
        x,
        name="inception",
        ch1x1=4,
        ch3x3red=4,
        ch3x3=8,
        ch5x5red=2,
        ch5x5=4,
        pool_proj=4,
    )
    x = b.add("FireModule", x, name="fire", squeeze=4, expand1x1=8, expand3x3=8)
    x = b.add("InvertedResidual", x, name="mbconv", out_channels=16, expand_ratio=2)
    x = b.add("DenseBlock", x, name="dense", num_layers=2, growth_rate=4, bn_size=2)
    x = b.add("DenseTransition", x, name="transition")
    x = b.add("GroupNorm", x, name="gn", num_groups=4)
    x = b.add("GlobalAvgPool", x, name="gap")
    x = b.add("Dropout", x, name="drop", p=0.1)
    x = b.add("Linear", x, name="classifier", out_features=5)
    b.add("ClassificationOutput", x, name="output")
    return d


DESIGNS = {
    t.name: (lambda n=t.name: new_from_template(n))
    for t in list_templates()
    if t.name in ("lenet5", "mnist_mlp", "cifar10_cnn")
}
DESIGNS["mixed"] = mixed_design


@pytest.mark.parametrize("name", list(DESIGNS))
def test_every_node_shape_matches_a_real_forward(name):
    design = DESIGNS[name]()
    res = analyze(design)
    assert res.problems == []
    code = generate(design, res)
    model = compile_design(design, code).eval()
    seen = {}

    def record(nid):
        def hook(module, inputs, output):  # returns None: a hook's return value replaces output
            seen.setdefault(nid, tuple(output.shape[1:]))

        return hook

    for nid, attr in code.module_names.items():
        getattr(model, attr).register_forward_hook(record(nid))
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        out = model(torch.randn(1, *design.input_shape))
    checked = 0
    for nid, shape in seen.items():
        if design.nodes[nid].type != "GlobalAvgPool":  # its module's output is flattened after
            assert shape == res.shape(nid), design.nodes[nid].name
            checked += 1
    assert checked >= 5
    assert tuple(out.shape[1:]) == res.shape(res.output_id)
    s = summarize(design, res)
    assert s.macs * 2 == flops.get_total_flops()
    assert s.trainable_params == sum(p.numel() for p in model.parameters())


def test_code_reads_like_torchvision():
    src = generate(new_from_template("lenet5")).source
    assert "class LeNet5(nn.Module):" in src
    assert "self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)" in src
    assert "x = torch.flatten(x, 1)" in src
    assert "# N x 16 x 5 x 5" in src
    assert "def build_model() -> LeNet5:" in src
    assert 'if __name__ == "__main__":' in src
    mixed = generate(mixed_design()).source
    assert "class ResidualBasicBlock(nn.Module):" in mixed and "class Shift(nn.Module):" in mixed
    assert "torch.cat([" in mixed


def test_invalid_design_is_not_generated():
    with pytest.raises(CodegenError, match="node fc"):
        generate(chain(("Linear", {"name": "fc"})))


def test_standalone_file_runs_with_only_torch(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(generate(mixed_design()).source)
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(2, 5)"


def test_exported_file_and_compiled_module_have_the_same_state_dict(tmp_path):
    design = mixed_design()
    compiled = compile_design(design)
    path = tmp_path / "exported.py"
    path.write_text(generate(design).source)
    namespace = {"__name__": "exported"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the exported file
    exported = namespace["build_model"]()
    assert list(exported.state_dict()) == list(compiled.state_dict())
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(exported.eval()(x), compiled.eval()(x))


def test_source_is_registered_for_inspect_and_tracebacks():
    model = compile_design(mixed_design())
    src = inspect.getsource(type(model))
    assert src.startswith("class MixedNet(nn.Module):")
    assert inspect.getsourcefile(type(model)).startswith("<netdesigner:")


def test_torchscript_trace_export_and_onnx(tmp_path):
    import onnx
    import onnxruntime as ort

    design = mixed_design()
    model = compile_design(design).eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = model(x)
        scripted = torch.jit.script(model)
        assert torch.allclose(scripted(x), expected, atol=1e-5)
        traced = torch.jit.trace(model, x)
        assert torch.allclose(traced(x), expected, atol=1e-5)
    exported = torch.export.export(model, (x,))
    assert torch.allclose(exported.module()(x), expected, atol=1e-5)
    path = tmp_path / "m.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=True, input_names=["x"])
    onnx.checker.check_model(onnx.load(str(path)))
    got = ort.InferenceSession(str(path)).run(None, {"x": x.numpy()})[0]
    assert abs(got - expected.numpy()).max() < 1e-4


text = st.text(min_size=0, max_size=40)
tricky = st.sampled_from(
    [
        '"""',
        "'''",
        "\n",
        "\\",
        "class",
        "import os",
        "self",
        "torch",
        "x",
        "out",
        "forward",
        "__init__",
        "é字🙂",
        "1abc",
        " ",
        "",
        "#",
        "nn",
        "Tensor",
        "x1",
    ]
)
names = st.one_of(text, tricky, st.lists(tricky, min_size=1, max_size=4).map("".join))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design_name=names, node_names=st.lists(names, min_size=4, max_size=4), description=names)
def test_no_user_text_becomes_code(design_name, node_names, description):
    d = Design(design_name, description=description, input_shape=(1, 6, 6), num_classes=3)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    a = b.add("Conv2d", x, out_channels=2, padding=1)
    c = b.add("Conv2d", x, out_channels=2, padding=1)
    m = b.add("Add", [a, c])
    y = b.add("Linear", b.add("Flatten", m), out_features=3)
    b.add("ClassificationOutput", y)
    for nid, name in zip([a, c, m, y], node_names):
        d.nodes[nid].name = name
    code = generate(d)
    tree = ast.parse(code.source)
    kinds = [type(n).__name__ for n in tree.body]
    assert kinds == ["Expr", "Import", "ImportFrom", "ClassDef", "FunctionDef", "If"]
    cls = tree.body[3]
    assert [type(n).__name__ for n in cls.body] == ["Expr", "FunctionDef", "FunctionDef"]
    init = cls.body[1]
    # super().__init__() and one assignment per module, nothing else
    assert all(isinstance(s, (ast.Expr, ast.Assign)) for s in init.body) and len(init.body) == 4
    model = load_source(code.source, code.class_name).build_model()
    assert model(torch.randn(1, 1, 6, 6)).shape == (1, 3)


def test_a_custom_block_is_reused_and_generates_one_class():
    from designer.core.design import Node
    from designer.core.grouping import group_nodes

    d = chain(
        ("Conv2d", {"name": "c1", "out_channels": 3, "padding": 1}),
        ("ReLU", {"name": "r1"}),
        ("Conv2d", {"name": "c2", "out_channels": 3, "padding": 1}),
        ("ReLU", {"name": "r2"}),
        "Flatten",
        ("Linear", {"out_features": 10}),
        input_shape=(3, 8, 8),
    )
    group_nodes(d, [d.find("c1").id, d.find("r1").id], "ConvRelu")
    # Replace c2 -> r2 by a second use of the same block.
    c2, r2 = d.find("c2").id, d.find("r2").id
    src = d.in_edges(c2)[0].src
    dst_edge = d.out_edges(r2)[0]
    for e in d.in_edges(c2) + d.out_edges(c2) + d.out_edges(r2):
        d.remove_edge(e)
    d.remove_node(c2)
    d.remove_node(r2)
    second = d.add_node(Node("again", "Block", "again", {"block": "ConvRelu"}))
    from designer.core.design import Edge

    d.add_edge(Edge(src, second.id, "in1"))
    d.add_edge(Edge(second.id, dst_edge.dst, dst_edge.dst_port))
    assert analyze(d).problems == []
    code = generate(d)
    assert code.source.count("class ConvRelu(nn.Module):") == 1
    model = compile_design(d, code)
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    assert summarize(d).total_params == 2 * (3 * 3 * 9 + 3) + 192 * 10 + 10


def test_googlenet_reads_like_torchvision():
    """One class per block type, built from its params: torchvision's
    `Inception(192, 64, 96, 128, 16, 32, 32)`."""
    design = new_from_template("googlenet", input_size=64)
    code = generate(design)
    assert code.source.count("class InceptionModule(nn.Module):") == 1
    assert code.source.count("class ConvBNAct(nn.Module):") == 1
    call = "InceptionModule(192, 64, 96, 128, 16, 32, 32, branch3_kernel=3)"
    assert f"self.inception3a = {call}" in code.source
    assert "self.conv1 = ConvBNAct(3, 64, kernel_size=7, stride=2, eps=0.001)" in code.source
    model = compile_design(design, code).eval()
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
