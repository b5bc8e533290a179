"""Model exports, checked by loading each file back with its own runtime and comparing outputs
with the design's compiled model: state_dict into the exported code, TorchScript, ONNX in
onnxruntime (after onnx.checker), and torch.export .pt2; plus the export verb."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from designer.cli import main
from designer.codegen import compile_design, generate
from designer.core.serialization import save_design
from designer.interop import exports
from designer.interop.weights import save_weights
from tests.helpers import chain

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


def rich_design():
    """Branches (residual, inception, fire), BatchNorm, shift, pooling, LRN, dropout: the
    constructs the exporters have to get right."""
    return chain(
        ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        "BatchNorm",
        "ReLU",
        ("ResidualBasicBlock", {"out_channels": 8}),
        (
            "InceptionModule",
            {"ch1x1": 4, "ch3x3red": 4, "ch3x3": 4, "ch5x5red": 2, "ch5x5": 4, "pool_proj": 4},
        ),
        ("Shift", {"mode": "channel"}),
        ("MaxPool2d", {"kernel_size": 2}),
        "LocalResponseNorm",
        ("FireModule", {"squeeze": 4, "expand1x1": 4, "expand3x3": 4}),
        "GlobalAvgPool",
        "Flatten",
        ("Dropout", {"p": 0.3}),
        ("Linear", {"out_features": 10}),
        input_shape=(3, 16, 16),
        name="Rich",
    )


@pytest.fixture(scope="module")
def trained():
    """The rich design with non-trivial weights and BatchNorm statistics, in eval mode."""
    design = rich_design()
    torch.manual_seed(0)
    model = compile_design(design)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        model.train()
        model(torch.randn(16, *design.input_shape))  # moves the BatchNorm statistics
    return design, model.eval()


def inputs(design, n):
    return torch.randn(n, *design.input_shape, generator=torch.Generator().manual_seed(n))


def load_exported_code(design, tmp_path):
    path = tmp_path / "model.py"
    path.write_text(generate(design).source)
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_state_dict_loads_strictly_into_the_exported_code(trained, tmp_path):
    design, model = trained
    exports.export_state_dict(model, tmp_path / "w.safetensors")
    fresh = load_exported_code(design, tmp_path).build_model()
    fresh.load_state_dict(load_file(tmp_path / "w.safetensors"), strict=True)
    x = inputs(design, 3)
    assert torch.equal(fresh.eval()(x), model(x))


def test_torchscript(trained, tmp_path):
    design, model = trained
    how = exports.export_torchscript(
        model, tmp_path / "m.pt", exports.example_input(design.input_shape)
    )
    assert how == "script"
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    x = inputs(design, 3)
    assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_onnx_runs_in_onnxruntime_like_torch(trained, tmp_path):
    import onnx
    import onnxruntime as ort

    design, model = trained
    how = exports.export_onnx(model, tmp_path / "m.onnx", exports.example_input(design.input_shape))
    assert how == "dynamo"
    onnx.checker.check_model(str(tmp_path / "m.onnx"), full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    for n in (1, 5):  # the batch dimension is free
        x = inputs(design, n)
        (out,) = session.run(None, {"input": x.numpy()})
        np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_pt2_program(trained, tmp_path):
    design, model = trained
    exports.export_pt2(model, tmp_path / "m.pt2", exports.example_input(design.input_shape))
    program = torch.export.load(str(tmp_path / "m.pt2"))
    for n in (1, 4):
        x = inputs(design, n)
        assert torch.allclose(program.module()(x), model(x), atol=1e-6)


def test_a_failed_export_leaves_no_file(trained, tmp_path):
    _design, model = trained
    with pytest.raises(exports.ExportError, match="torch.export"):
        exports.export_pt2(model, tmp_path / "m.pt2", torch.randn(2, 1, 5, 5))  # wrong input
    assert list(tmp_path.iterdir()) == []


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_verb_with_weights(capsys, tmp_path, trained):
    design, model = trained
    save_design(design, tmp_path / "d.json")
    save_weights(model, tmp_path / "w.safetensors")
    out_dir = tmp_path / "out"
    code, _out, err = run(
        capsys,
        "export",
        tmp_path / "d.json",
        "--weights",
        tmp_path / "w.safetensors",
        "--code",
        out_dir / "m.py",
        "--state-dict",
        out_dir / "m.safetensors",
        "--torchscript",
        out_dir / "m.pt",
        "--pt2",
        out_dir / "m.pt2",
    )
    assert code == 0, err
    assert {p.name for p in out_dir.iterdir()} == {"m.py", "m.safetensors", "m.pt", "m.pt2"}
    x = inputs(design, 2)
    assert torch.allclose(torch.jit.load(str(out_dir / "m.pt"))(x), model(x), atol=1e-6)
    exported = load_file(out_dir / "m.safetensors")
    assert all(torch.equal(exported[k], v) for k, v in model.state_dict().items())


def test_export_verb_weight_sources(capsys, tmp_path, trained):
    design, model = trained
    save_design(design, tmp_path / "fresh.json")
    code, out, _ = run(
        capsys, "export", tmp_path / "fresh.json", "--state-dict", tmp_path / "a.safetensors"
    )
    assert code == 0 and "fresh (untrained) weights" in out

    design.metadata["weights"] = "own.safetensors"
    save_design(design, tmp_path / "own.json")
    save_weights(model, tmp_path / "own.safetensors")
    code, out, _ = run(
        capsys, "export", tmp_path / "own.json", "--state-dict", tmp_path / "b.safetensors"
    )
    assert code == 0 and "own.safetensors" in out
    assert all(
        torch.equal(load_file(tmp_path / "b.safetensors")[k], v)
        for k, v in model.state_dict().items()
    )

    save_weights(
        compile_design(chain(("Linear", {"out_features": 10}), input_shape=(4,))),
        tmp_path / "other.safetensors",
    )
    refused = run(
        capsys,
        "export",
        tmp_path / "fresh.json",
        "--weights",
        tmp_path / "other.safetensors",
        "--onnx",
        tmp_path / "c.onnx",
    )
    message = (
        f"netdesigner: error: {tmp_path / 'other.safetensors'}: the tensor 'conv2d.weight' "
        "is missing (and 61 more)\n"
    )
    assert refused == (1, "", message)
    assert not (tmp_path / "c.onnx").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "say what to export"),
        (["--weights", "w.safetensors", "--code", "m.py"], "--weights is for the model exports"),
    ],
)
def test_export_verb_usage_errors(capsys, tmp_path, argv, message):
    save_design(rich_design(), tmp_path / "d.json")
    code, _, err = run(capsys, "export", tmp_path / "d.json", *argv)
    assert code == 2 and message in err
