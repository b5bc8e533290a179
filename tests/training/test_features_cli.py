"""`netdesigner features`: a node's outputs for every sample of a split, with the labels, in a
.safetensors file; nodes inside blocks too; a bad node is refused by name."""

from __future__ import annotations

import json

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from designer.cli import main
from designer.codegen import compile_design
from designer.core.serialization import load_design, save_design
from designer.interop.weights import save_weights
from designer.training.evaluation import from_design, from_run, split_data
from tests.viz.designs import design_with, residual


def run(capsys, *argv):
    code = main(["features", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def residual_files(tmp_path):
    design = design_with((1, 8, 8), residual)
    path = tmp_path / "res.json"
    save_design(design, path)
    torch.manual_seed(3)
    model = compile_design(design)
    weights = tmp_path / "res.safetensors"
    save_weights(model, weights)
    return design, path, weights, model.eval()


def test_features_of_a_node_inside_a_block(tmp_path, capsys):
    design, path, weights, model = residual_files(tmp_path)
    out = tmp_path / "f.safetensors"
    code, text, err = run(
        capsys, path, "--weights", weights, "--node", "res2/conv1", "--split", "val", "-o", out
    )
    assert code == 0, err
    assert "res2/conv1" in text and "val split of digits" in text

    stored = load_file(out)
    _, x, y = split_data(from_design(design, weights), "val")
    assert stored["features"].shape == (len(x), 6, 4, 4)  # res1's stride 2 halves 8x8
    assert torch.equal(stored["labels"], y)
    captured = []
    hook = model.res2.conv1.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        model(x[:5])
    hook.remove()
    assert torch.allclose(stored["features"][:5], captured[0], atol=1e-6)
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
    assert meta["node"] == "res2/conv1" and meta["split"] == "val" and meta["dataset"] == "digits"
    assert json.loads(meta["classes"]) == [str(i) for i in range(10)]
    assert str(weights) in meta["weights"]


def test_features_of_a_run_use_its_weights_and_its_training_split(finished_run, tmp_path, capsys):
    design = load_design(finished_run / "design.json")
    conv = next(n.name for n in design.nodes.values() if n.type == "Conv2d")
    out = tmp_path / "train.safetensors"
    code, text, err = run(capsys, "--run", finished_run, "--node", conv, "-o", out)
    assert code == 0, err
    assert f"the best weights of the run {finished_run}" in text
    stored = load_file(out)
    _, x, y = split_data(from_run(finished_run), "train")
    assert stored["features"].shape == (len(x), 4, 8, 8) and torch.equal(stored["labels"], y)


def test_a_bad_node_is_refused_by_name(tmp_path, capsys):
    _, path, weights, _ = residual_files(tmp_path)
    out = tmp_path / "f.safetensors"
    code, _, err = run(capsys, path, "--weights", weights, "--node", "res2/nope", "-o", out)
    assert code == 1 and "'res2/nope'" in err and "res1/conv1" in err  # the candidates
    assert "Traceback" not in err and not out.exists()
    code, _, err = run(
        capsys, path, "--weights", weights, "--node", "res2/conv1", "-o", tmp_path / "f.npy"
    )
    assert code == 2 and ".safetensors" in err
