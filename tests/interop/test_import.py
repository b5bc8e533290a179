"""Importing PyTorch and ONNX models: the design validates, shows the original's structure as
blocks, and its exported standalone code with the imported weights computes what the original
computes (BatchNorm statistics and biases randomized first, eval mode)."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from designer.cli import main
from designer.core.analysis import analyze
from designer.core.serialization import load_design
from designer.interop.import_fx import ImportRefused, import_module
from designer.interop.weights import load_weights
from tests.templates.reference import build_with, exported_module, randomize_, rel_diff


class Residual(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)


class Handwritten(nn.Module):
    """A residual connection and a concatenation, functional calls and a view."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.block1 = Residual(8)
        self.block2 = Residual(8)
        self.side = nn.Sequential(nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4), nn.ReLU6())
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(12 * 4 * 4, 7)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        x = torch.cat([x, self.side(x)], dim=1)
        x = self.pool(x)
        return self.head(x.view(x.size(0), -1))


def round_trip(model, input_shape, tmp_path, name=None):
    """Import, validate, export the code, load the imported weights; return the design and the
    max relative difference from the original on a random input."""
    model = randomize_(model).eval()
    result = import_module(model, input_shape, name)
    assert analyze(result.design).problems == []
    ours = build_with(exported_module(result.design, tmp_path), result.tensors)
    x = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return result, rel_diff(ours(x), model(x))


def test_handwritten_module_with_residual_and_concat(tmp_path):
    result, diff = round_trip(Handwritten(), (3, 16, 16), tmp_path)
    assert diff < 1e-5
    design = result.design
    nodes = {n.name: n for n in design.nodes.values()}
    # Each child module is one node named after it; the two equal residual children share
    # one block type, which holds conv -> bn -> add -> relu.
    assert nodes["block1"].type == nodes["block2"].type == "Block"
    assert nodes["block1"].params["block"] == nodes["block2"].params["block"] == "Residual"
    inner = sorted(n.type for n in design.blocks["Residual"].nodes.values())
    assert inner == ["Add", "BatchNorm", "BlockInput", "BlockOutput", "Conv2d", "ReLU"]
    assert nodes["stem"].params["stride"] == 2 and nodes["cat"].type == "Concat"
    assert nodes["view"].type == "Flatten" and design.num_classes == 7


def test_an_unsupported_op_is_reported_and_nothing_is_written(tmp_path, capsys):
    source = tmp_path / "net.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Part(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.roll(x, 1, 2) + torch.roll(x, 2, 3)\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 3)\n"
        "        self.part = Part()\n"
        "        self.rnn = nn.LSTM(4, 4)\n"
        "        self.fc = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n"
        "        x = torch.erf(self.part(self.conv(x)))\n"
        "        return self.fc(x.mean((2, 3)))\n"
    )
    out = tmp_path / "out.json"
    code = main(["import", f"{source}:Net", str(out), "--input", "3x8x8"])
    err = capsys.readouterr().err
    assert code == 1
    assert "torch.roll (2x)" in err and "part.roll" in err and "part.roll_1" in err
    assert "torch.erf (1x)" in err  # what follows a refused block is examined too
    assert not out.exists() and not out.with_suffix(".safetensors").exists()


def test_a_module_called_with_an_unsupported_class_names_it():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.up = nn.PixelShuffle(2)

        def forward(self, x):
            return torch.flatten(self.up(self.conv(x)), 1)

    with pytest.raises(ImportRefused) as info:
        import_module(Net(), (3, 8, 8))
    assert info.value.report.found == {
        ("module torch.nn.modules.pixelshuffle.PixelShuffle", "no layer type computes it"): ["up"]
    }


def _cli_round_trip(capsys, tmp_path, source, model, input_shape, extra=()):
    out = tmp_path / "imported.json"
    code = main(["import", str(source), str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    design = load_design(out)
    assert analyze(design).problems == []
    ours = exported_module(design, tmp_path).build_model()
    load_weights(ours, out.with_suffix(".safetensors"))
    x = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        return design, rel_diff(ours.eval()(x), model(x))


def test_a_python_file_factory_through_the_cli(tmp_path, capsys):
    source = tmp_path / "mine.py"
    source.write_text(
        "from tests.interop.test_import import Handwritten\n\n"
        "def build():\n    return Handwritten()\n"
    )
    torch.manual_seed(0)
    model = Handwritten().eval()  # the factory builds the same weights from the same seed
    torch.manual_seed(0)
    design, diff = _cli_round_trip(
        capsys, tmp_path, f"{source}:build", model, (3, 16, 16), ["--input", "3x16x16"]
    )
    assert diff < 1e-5 and "block1" in {n.name for n in design.nodes.values()}


def test_an_onnx_file_made_here(tmp_path, capsys):
    model = randomize_(Handwritten()).eval()
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.randn(1, 3, 16, 16),), str(path), dynamo=False, opset_version=17
        )
    design, diff = _cli_round_trip(capsys, tmp_path, path, model, (3, 16, 16))
    assert diff < 1e-5
    assert {"Conv2d", "Concat", "MaxPool2d", "Linear"} <= {n.type for n in design.nodes.values()}
    # the ONNX node names keep the module paths: the two residual children are one block
    _shares_one_block(design, "block1", "block2", ["conv", "add", "relu"])


def test_a_model_too_big_for_one_protobuf_message_converts_through_a_file(tmp_path):
    # What regnet_y_128gf (2.6 GB of weights) needs; here with the size limit set to 0.
    import onnx
    from onnx2torch import convert

    from designer.interop.import_sources import _convert

    model = randomize_(Handwritten()).eval()
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.randn(1, 3, 16, 16),), str(path), dynamo=False, opset_version=17
        )
    converted = _convert(onnx.load(str(path)), convert, limit=0)
    x = torch.randn(1, 3, 16, 16)  # the batch the file was exported with
    with torch.no_grad():
        assert rel_diff(model(x), converted(x)) < 1e-5


def _shares_one_block(design, first, second, layers):
    nodes = {n.name: n for n in design.nodes.values()}
    block = nodes[first].params["block"]
    assert nodes[first].type == "Block" and nodes[second].params["block"] == block
    inner = [n.name for n in design.blocks[block].nodes.values()]
    assert [n for n in inner if n not in ("input", "output")] == layers


def _all_types(design, graph=None) -> list[str]:
    """The layer types of a design with its custom blocks expanded, once per use."""
    types = []
    for node in (graph or design).nodes.values():
        if node.type == "Block":
            types += _all_types(design, design.blocks[node.params["block"]])
        else:
            types.append(node.type)
    return types


def test_a_torch_export_program(tmp_path, capsys):
    model = randomize_(Handwritten()).eval()
    path = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(1, 3, 16, 16),)), str(path))
    design, diff = _cli_round_trip(capsys, tmp_path, path, model, (3, 16, 16))
    assert diff < 1e-5 and design.input_shape == (3, 16, 16)
    # the program's nn_module_stack keeps the modules: the residual children are one block,
    # named after their class
    _shares_one_block(design, "block1", "block2", ["conv", "bn", "add", "relu"])
    assert design.find("block1").params["block"] == "Residual"


def test_bad_sources_are_usage_errors(tmp_path, capsys):
    out = str(tmp_path / "x.json")
    assert main(["import", "torchvision:resnet19", out]) == 2
    assert "resnet18" in capsys.readouterr().err  # the close names
    assert main(["import", "model.h5", out]) == 2
    assert main(["import", f"{tmp_path}/a.py:f", out]) == 2  # no --input
    capsys.readouterr()


# -- torchvision, one model per family ---------------------------------------------------------

FAMILIES = {  # model -> (input size, the block type its children become: "Block" is custom)
    "resnet18": (64, "ResidualBasicBlock"),
    "mobilenet_v2": (64, "InvertedResidual"),
    "squeezenet1_1": (64, "FireModule"),
    "densenet121": (64, "DenseBlock"),
    "googlenet": (64, "InceptionModule"),
    "alexnet": (64, None),
    "vgg11_bn": (64, None),
    "resnext50_32x4d": (64, "ResidualBottleneck"),
    "mnasnet0_5": (64, "MBConv"),
    "mobilenet_v3_small": (64, "MBConv"),
    "efficientnet_b0": (64, "MBConv"),
    "regnet_y_400mf": (64, "RegNetBottleneck"),
    "shufflenet_v2_x0_5": (64, "ShuffleUnit"),
    "convnext_tiny": (64, "ConvNeXtBlock"),
    "inception_v3": (80, "InceptionC"),  # its smallest input is 75 x 75
}


# MBConv holds MobileNetV3's and EfficientNet's SqueezeExcitation and Conv2dNormActivation
# units, RegNetBottleneck RegNet's; ConvNeXt's stem (a convolution and LayerNorm2d) is its only
# custom block.
CUSTOM_BLOCKS = {
    "mobilenet_v3_small": [],
    "efficientnet_b0": [],
    "regnet_y_400mf": [],  # its stages (Sequential subclasses) are plain containers
    "shufflenet_v2_x0_5": [],
    "inception_v3": [],
    "mnasnet0_5": [],
    "convnext_tiny": ["Conv2dNormActivation"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAMILIES))
def test_torchvision_round_trip(name, tmp_path):
    import torchvision

    size, block = FAMILIES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torchvision.models.get_model(name, weights=None)
    result, diff = round_trip(model, (3, size, size), tmp_path, name)
    assert diff < 1e-4
    if block:  # structure kept: the children are blocks, not hundreds of loose layers
        assert block in {n.type for n in result.design.nodes.values()}
        assert len(result.design.nodes) < 40
    if name in CUSTOM_BLOCKS:  # children that are our blocks exactly do not become custom ones
        assert sorted(result.design.blocks) == CUSTOM_BLOCKS[name]


@pytest.mark.slow
def test_resnet50_shows_its_bottlenecks_as_blocks(tmp_path, capsys):
    out = tmp_path / "r50.json"
    assert main(["import", "torchvision:resnet50", str(out), "--input", "3x64x64"]) == 0
    design = load_design(out)
    types = [n.type for n in design.nodes.values()]
    assert types.count("ResidualBottleneck") == 16
    assert [n.name for n in design.nodes.values()][5:8] == ["layer1_0", "layer1_1", "layer1_2"]
    assert len(design.nodes) == 8 + 16


@pytest.mark.slow
def test_torchvision_with_a_weights_file_through_the_cli(tmp_path, capsys):
    import torchvision

    model = randomize_(torchvision.models.resnet18()).eval()
    weights = tmp_path / "r18.pth"
    torch.save(model.state_dict(), weights)
    design, diff = _cli_round_trip(
        capsys,
        tmp_path,
        "torchvision:resnet18",
        model,
        (3, 64, 64),
        ["--input", "3x64x64", "--weights-file", str(weights)],
    )
    assert diff < 1e-4
    assert design.metadata["imported_from"] == "torchvision:resnet18 (r18.pth)"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["mobilenet_v3_small", "densenet121", "shufflenet_v2_x0_5", "convnext_tiny"]
)
def test_torchvision_through_onnx(name, tmp_path, capsys):
    """ONNX folds BatchNorm into the convolutions; gates (Hardsigmoid, Mul), DenseNet's long
    concatenations, ShuffleNet's Slice (x.chunk) and Reshape-Transpose-Reshape (channel
    shuffle), ConvNeXt's MatMul + Add (Linear at every pixel), its GELU spelled out with Erf
    and its layer scale (an initializer times a tensor) come through onnx2torch's modules."""
    import torchvision

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = randomize_(torchvision.models.get_model(name)).eval()
        path = tmp_path / f"{name}.onnx"
        torch.onnx.export(
            model, (torch.randn(1, 3, 64, 64),), str(path), dynamo=False, opset_version=17
        )
    design, diff = _cli_round_trip(capsys, tmp_path, path, model, (3, 64, 64))
    assert diff < 1e-4
    if name.startswith("shufflenet"):
        types = _all_types(design)
        assert types.count("ChannelShuffle") == 16 and types.count("ChannelSlice") == 26
        assert "Permute" not in types
        # each InvertedResidual is a block; equal ones (stage2.1 to stage2.3) share one
        blocks = [n.params["block"] for n in design.nodes.values() if n.type == "Block"]
        assert len(blocks) == 16 and len(set(blocks)) == 6
    if name.startswith("convnext"):
        types = _all_types(design)
        assert types.count("GELU") == types.count("Scale") == 18
        assert types.count("Linear") == 2 * 18 + 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "convnext_tiny"])
def test_torchvision_through_torch_export(name, tmp_path, capsys):
    """A saved program: exact, and the modules it ran are blocks again, shared where equal,
    named after their class (ResNet-18's BasicBlocks; ConvNeXt's CNBlocks, whose LayerNorm
    and GELU are ATen operators there and whose layer scale is a Scale)."""
    import torchvision

    model = randomize_(torchvision.models.get_model(name)).eval()
    path = tmp_path / f"{name}.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(1, 3, 64, 64),)), str(path))
    design, diff = _cli_round_trip(capsys, tmp_path, path, model, (3, 64, 64))
    assert diff < 1e-4
    blocks = {n.name: n.params["block"] for n in design.nodes.values() if n.type == "Block"}
    if name == "resnet18":
        assert len(blocks) == 8 and blocks["layer1_0"] == blocks["layer1_1"] == "BasicBlock"
        assert len(set(blocks.values())) == 7  # layerN.0 (a shortcut projection) and layerN.1
    else:
        stage1 = [blocks[f"features_1_{i}"] for i in range(3)]
        assert stage1 == ["CNBlock"] * 3
        assert _all_types(design).count("Scale") == 18
