"""Grad-CAM and saliency (captum) of a trained digits LeNet, and gradient checks of every layer
type; both on real modules, headless and through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from designer.cli import main
from designer.core.registry import list_specs
from designer.core.serialization import save_design
from designer.training.evaluation import from_run, split_data
from designer.viz import VizError, load_model
from designer.viz.attribution import grad_cam, saliency
from designer.viz.display import display_images
from designer.viz.gradients import check_module, check_node
from tests.helpers import train_digits_lenet
from tests.layers.test_every_layer import STRUCTURAL, single_layer_design
from tests.viz.designs import custom_block_design, design_with, residual


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    _, run = train_digits_lenet(tmp_path_factory.mktemp("lenet") / "run")
    trained = from_run(run)
    data, x, y = split_data(trained, "test")
    shown = display_images(x, data.stats, data.image_shape)
    return load_model(trained.design, None, trained.weights), x, y, shown, run


def test_grad_cam_of_a_trained_lenet_lights_up_the_digit(trained):
    model, x, _, shown, _ = trained
    conv2 = model.design.find("conv2").id
    inside, outside = [], []
    for i in range(30):
        heat = grad_cam(model, conv2, x[i])
        assert heat.heat.shape == (28, 28) and 0.0 <= heat.heat.min() <= heat.heat.max() <= 1.0
        assert heat.target == heat.predicted  # default: the predicted class
        mask = shown[i, 0].numpy() > 0.5  # the digit's strokes (white on black)
        inside.append(heat.heat[mask].mean())
        outside.append(heat.heat[~mask].mean())
    assert np.mean(inside) > np.mean(outside) + 0.05


def test_saliency_and_another_class(trained):
    model, x, y, _, _ = trained
    heat = saliency(model, x[0], target=int(y[0]))
    assert heat.heat.shape == (28, 28) and heat.heat.max() == pytest.approx(1.0)
    other = (int(heat.predicted) + 1) % 10
    cam = grad_cam(model, model.design.find("conv2").id, x[0], target=other)
    assert cam.target == other and cam.title.endswith(f"(the model predicts {cam.predicted})")
    with pytest.raises(VizError, match="there is no class 12"):
        saliency(model, x[0], target=12)
    with pytest.raises(VizError, match="Grad-CAM needs a convolution"):
        grad_cam(model, model.design.find("pool1").id, x[0])


def test_gradcam_and_saliency_from_the_cli(trained, tmp_path, capsys):
    *_, run = trained
    code = main(
        [
            "visualize",
            "--run",
            str(run),
            "--gradcam",
            str(tmp_path / "g.png"),
            "--saliency",
            str(tmp_path / "s.png"),
            "--class",
            "3",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Grad-CAM of conv2 for class 3" in out and "saliency for class 3" in out
    assert (tmp_path / "g.png").stat().st_size > 0 and (tmp_path / "s.png").stat().st_size > 0
    code = main(
        ["visualize", "--run", str(run), "--filters", str(tmp_path / "f.png"), "--class", "3"]
    )
    assert code == 2 and "--class goes with --gradcam or --saliency" in capsys.readouterr().err


LAYERS = [s for s in list_specs() if s.role not in STRUCTURAL]


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type)
def test_gradient_check_passes_for_every_layer_type(spec):
    design, layer, _ = single_layer_design(spec)
    result = check_node(load_model(design), layer)
    assert result.passed, result.summary
    assert result.checked[0].startswith("input")


class _WrongSquare(torch.autograd.Function):
    """x² whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class _RightSquare(_WrongSquare):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


class _Squares(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.scale = torch.nn.Parameter(torch.tensor(1.5))

    def forward(self, x):
        return self.fn.apply(x) * self.scale


def test_gradient_check_fails_for_a_wrong_custom_autograd_function():
    bad = check_module(_Squares(_WrongSquare), [(2, 3, 3)], "wrong square")
    assert not bad.passed
    assert bad.worst.tensor == "input"
    assert bad.worst.numerical == pytest.approx(2 * bad.worst.autograd, rel=1e-4)
    assert "FAILED" in bad.summary and "worst mismatch at input[" in bad.summary
    good = check_module(_Squares(_RightSquare), [(2, 3, 3)], "right square")
    assert good.passed and good.checked == ["input", "scale"]


def test_check_gradients_from_the_cli_inside_blocks(tmp_path, capsys):
    path = tmp_path / "res.json"
    save_design(design_with((1, 16, 16), residual), path)
    code = main(["check", str(path), "--gradients", "--node", "res1/conv1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "res1/conv1: gradients correct" in out and "1 of 1 node(s) correct" in out
    code = main(["check", str(path), "--gradients"])
    out, _ = capsys.readouterr()
    assert code == 0 and "res3: gradients correct" in out and "stem: gradients correct" in out
    assert main(["check", str(path), "--node", "stem"]) == 2


def test_gradient_check_of_a_custom_block_node():
    design = custom_block_design()
    model = load_model(design)
    down = check_node(model, design.find("down1").id)
    assert down.passed and down.node_name == "down1"
    inner = model.place(design.find("down2").id + "/" + design.blocks["Down"].find("conv_b").id)
    assert check_node(model, inner.key).passed
