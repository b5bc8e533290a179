"""Which pixels a class score depends on: Grad-CAM on a convolution and plain input-gradient
saliency, both computed by captum (PyTorch's interpretability library), for one image and one
class (default: the predicted one). Heat maps come back at the input's resolution, in 0..1.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from designer.viz.errors import VizError
from designer.viz.model import LoadedModel
from designer.viz.nodes import CONV_TYPES

METHODS = ("grad-cam", "saliency")


@dataclass
class Attribution:
    method: str  # "grad-cam" or "saliency"
    node_name: str | None  # the convolution Grad-CAM looked at (None for saliency)
    target: int  # the class explained
    predicted: int  # the class the model predicts for the image
    scores: np.ndarray  # the model's outputs for the image
    heat: np.ndarray  # H x W in 0..1, at the input's resolution
    peak: float  # the largest raw attribution (0: the class score is flat here)

    @property
    def title(self) -> str:
        what = f"Grad-CAM of {self.node_name}" if self.method == "grad-cam" else "saliency"
        pred = "" if self.target == self.predicted else f" (the model predicts {self.predicted})"
        return f"{what} for class {self.target}{pred}"


@contextmanager
def not_in_place(module: nn.Module):
    """In-place activations (ReLU(inplace=True)) overwrite the outputs that gradients need;
    turn them off for the duration, as captum's hooks require."""
    changed = [m for m in module.modules() if getattr(m, "inplace", False) is True]
    for m in changed:
        m.inplace = False
    try:
        yield
    finally:
        for m in changed:
            m.inplace = True


def _prepare(model: LoadedModel, x: torch.Tensor, target: int | None):
    if len(model.design.input_shape) != 3:
        raise VizError(
            "heat maps need an image input (channels x height x width); this "
            f"design takes {'x'.join(map(str, model.design.input_shape))}"
        )
    if tuple(x.shape) != tuple(model.design.input_shape):
        raise VizError(
            f"the image is {tuple(x.shape)} but the design's input is "
            f"{tuple(model.design.input_shape)}"
        )
    with torch.no_grad():
        scores = model.module(x[None].float())[0]
    if scores.dim() != 1:
        raise VizError("heat maps explain one class score; the design's output is not a vector")
    predicted = int(scores.argmax())
    target = predicted if target is None else int(target)
    if not 0 <= target < len(scores):
        raise VizError(
            f"there is no class {target}: the model gives {len(scores)} scores "
            f"(classes 0..{len(scores) - 1})"
        )
    return x[None].float().clone().requires_grad_(True), target, predicted, scores.numpy()


def _normalized(heat: torch.Tensor) -> tuple[np.ndarray, float]:
    heat = heat.detach().float()
    peak = float(heat.max())
    return (heat / peak if peak > 0 else torch.zeros_like(heat)).numpy(), peak


def grad_cam(
    model: LoadedModel, node_id: str, x: torch.Tensor, target: int | None = None
) -> Attribution:
    """Grad-CAM (Selvaraju et al.) of the convolution with this node key for input `x`: its
    feature maps weighted by the class score's mean gradient, ReLU'd, upsampled to the input."""
    from captum.attr import LayerAttribution, LayerGradCam

    place = model.place(node_id)
    if place.node.type not in CONV_TYPES:
        raise VizError(
            f"node '{place.label}' is a {place.node.type}; Grad-CAM needs a "
            "convolution (Conv2d or ConvTranspose2d)"
        )
    layer = model.submodule(node_id)
    inputs, target, predicted, scores = _prepare(model, x, target)
    module = model.module.eval()
    with not_in_place(module), torch.enable_grad():
        cam = LayerGradCam(module, layer).attribute(inputs, target=target, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam, tuple(x.shape[1:]), interpolate_mode="bilinear")
    heat, peak = _normalized(cam[0, 0].clamp(min=0))
    return Attribution("grad-cam", place.label, target, predicted, scores, heat, peak)


def saliency(model: LoadedModel, x: torch.Tensor, target: int | None = None) -> Attribution:
    """The absolute gradient of the class score with respect to each input pixel (Simonyan et
    al.), the largest over the channels."""
    from captum.attr import Saliency

    inputs, target, predicted, scores = _prepare(model, x, target)
    module = model.module.eval()
    with not_in_place(module), torch.enable_grad():
        grads = Saliency(module).attribute(inputs, target=target, abs=True)
    heat, peak = _normalized(grads[0].amax(dim=0))
    return Attribution("saliency", None, target, predicted, scores, heat, peak)
