"""`netdesigner visualize`: real design and weights files, the digits data, PNG files out; bad
input gets one clear message and exit 1 (2 for bad usage), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from designer.cli import main
from designer.core.serialization import load_design, save_design
from designer.interop.weights import save_weights
from designer.templates import new_from_template
from designer.viz import load_model


@pytest.fixture
def lenet(tmp_path) -> Path:
    design = new_from_template("lenet5")
    design.set_setting("input_shape", (1, 16, 16))
    path = tmp_path / "lenet.json"
    save_design(design, path)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["visualize", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def picture(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def test_all_four_pictures_with_fresh_weights(lenet, tmp_path, capsys):
    outs = {k: tmp_path / f"{k}.png" for k in ("filters", "patches", "maps", "confusion")}
    code, out, err = run(
        capsys,
        lenet,
        "--data",
        "digits",
        "--filters",
        outs["filters"],
        "--top-patches",
        outs["patches"],
        "--k",
        4,
        "--channels",
        3,
        "--activations",
        outs["maps"],
        "--confusion",
        outs["confusion"],
    )
    assert code == 0, err
    assert "freshly initialized weights (seed 0)" in out
    assert "6 filters of conv1" in out  # filters: the first convolution
    assert "top 4 patches of conv2 for 3 of 16 channels" in out  # patches: the last one
    assert "6 activation map(s) of conv1 for image 0 of the test split of digits" in out
    assert "accuracy" in out and "  9: " in out  # per-class accuracy, class 9
    for path in outs.values():
        assert picture(path).min() < 50  # ink: tiles and labels were drawn
    # One row of 4 tiles per channel: three channels make a taller picture than one.
    run(
        capsys,
        lenet,
        "--data",
        "digits",
        "--top-patches",
        tmp_path / "one.png",
        "--k",
        4,
        "--channels",
        1,
    )
    assert picture(outs["patches"]).shape[0] > picture(tmp_path / "one.png").shape[0]


def test_weights_from_a_file_or_beside_the_design(lenet, tmp_path, capsys):
    design = load_design(lenet)
    model = load_model(design)
    with torch.no_grad():
        model.module.conv1.weight.copy_(torch.linspace(-1, 1, 150).reshape(6, 1, 5, 5))
    save_weights(model.module, tmp_path / "w.safetensors")

    code, out, _ = run(
        capsys, lenet, "--weights", tmp_path / "w.safetensors", "--filters", tmp_path / "given.png"
    )
    assert code == 0 and f"weights from {tmp_path / 'w.safetensors'}" in out
    run(capsys, lenet, "--filters", tmp_path / "fresh.png")
    assert not np.array_equal(picture(tmp_path / "given.png"), picture(tmp_path / "fresh.png"))

    design.metadata["weights"] = "w.safetensors"  # kept beside the design
    save_design(design, lenet)
    code, out, _ = run(capsys, lenet, "--filters", tmp_path / "own.png")
    assert code == 0 and "w.safetensors" in out and "freshly" not in out
    assert np.array_equal(picture(tmp_path / "own.png"), picture(tmp_path / "given.png"))


def test_weights_that_do_not_fit_are_refused(lenet, tmp_path, capsys):
    other = new_from_template("lenet5")  # 28 x 28 input: fc1 takes 400 features, not 64
    save_weights(load_model(other).module, tmp_path / "other.safetensors")
    code, _, err = run(
        capsys, lenet, "--weights", tmp_path / "other.safetensors", "--filters", tmp_path / "f.png"
    )
    assert code == 1
    assert "fc1.weight" in err and "(120, 400)" in err and "(120, 64)" in err
    assert not (tmp_path / "f.png").exists()


def test_unknown_and_wrong_nodes_list_the_candidates(lenet, tmp_path, capsys):
    code, _, err = run(capsys, lenet, "--node", "conv9", "--filters", tmp_path / "f.png")
    assert code == 1 and "no node named 'conv9'" in err and "conv1, conv2" in err
    code, _, err = run(capsys, lenet, "--node", "pool1", "--filters", tmp_path / "f.png")
    assert code == 1 and "'pool1' is a MaxPool2d" in err and "candidates: conv1, conv2" in err
    code, _, err = run(
        capsys, lenet, "--data", "digits", "--node", "input", "--top-patches", tmp_path / "t.png"
    )
    assert code == 1 and "'input' is a Input" in err and "conv1" in err


def test_bad_usage_exits_2(lenet, tmp_path, capsys):
    code, _, err = run(capsys, lenet)
    assert code == 2 and "--activations, --gradcam, --saliency or --confusion" in err
    code, _, err = run(capsys, lenet, "--filters", tmp_path / "f.png", "--k", 3)
    assert code == 2 and "--k goes with --top-patches" in err
    code, _, err = run(capsys, lenet, "--top-patches", tmp_path / "t.png", "--k", 0)
    assert code == 2 and "--k must be at least 1" in err
    code, out, _ = run(capsys, lenet, "--confusion", tmp_path / "c.png")
    assert code == 0 and "test split of digits" in out  # the template's training dataset
    design = load_design(lenet)
    design.metadata = {}
    save_design(design, lenet)
    code, _, err = run(capsys, lenet, "--confusion", tmp_path / "c.png")
    assert code == 2 and "--data SOURCE" in err


def test_activations_of_an_image_file(lenet, tmp_path, capsys):
    img = np.zeros((20, 24, 3), dtype=np.uint8)
    img[5:15, 8:16] = 255
    Image.fromarray(img).save(tmp_path / "digit.png")
    code, out, err = run(
        capsys,
        lenet,
        "--data",
        "digits",
        "--node",
        "pool1",
        "--activations",
        tmp_path / "maps.png",
        "--image",
        tmp_path / "digit.png",
    )
    assert code == 0, err
    assert f"6 activation map(s) of pool1 for {tmp_path / 'digit.png'}" in out
    (tmp_path / "notes.png").write_text("not an image")
    code, _, err = run(
        capsys,
        lenet,
        "--data",
        "digits",
        "--activations",
        tmp_path / "m.png",
        "--image",
        tmp_path / "notes.png",
    )
    assert code == 1 and "notes.png: cannot be read as an image" in err


def test_confusion_needs_a_classifier(tmp_path, capsys):
    design = new_from_template("lenet5")
    design.set_setting("task", "regression")
    head = next(n for n in design.nodes.values() if n.type == "ClassificationOutput")
    design.set_node_attr(head.id, "type", "RegressionOutput")  # the head suits the task
    path = tmp_path / "reg.json"
    save_design(design, path)
    code, _, err = run(capsys, path, "--data", "digits", "--confusion", tmp_path / "c.png")
    assert code == 1 and "regression design" in err


def test_subprocess_exit_codes_and_no_traceback(lenet, tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    cmd = [sys.executable, "-m", "designer", "visualize", str(lenet)]
    ok = subprocess.run(
        cmd + ["--data", "digits", "--confusion", str(tmp_path / "c.png")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "accuracy" in ok.stdout and picture(tmp_path / "c.png").size
    bad = subprocess.run(
        cmd + ["--node", "fc9", "--filters", str(tmp_path / "f.png")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert "netdesigner: error: the design has no node named 'fc9'" in bad.stderr
    assert "Traceback" not in bad.stderr
