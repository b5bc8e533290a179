"""Helpers for comparing designs with torchvision: randomized reference models and designs run
through their exported standalone code."""

from __future__ import annotations

import importlib.util
import itertools

import torch
from torch import nn

from designer.codegen import generate

_COUNTER = itertools.count()


def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every tensor a value that matters: BatchNorm scales, shifts and running statistics,
    LayerNorm scales, ConvNeXt's layer scales and all biases random (torchvision initializes
    many of them to constants; a layer scale of 1e-6 would hide its branch)."""
    g = torch.Generator().manual_seed(seed)

    def rand(t, low, high):
        return torch.rand(t.shape, generator=g) * (high - low) + low

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(rand(m.weight, 0.3, 0.8))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(rand(m.running_var, 0.5, 1.5))
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
            elif getattr(m, "bias", None) is not None and isinstance(m.bias, nn.Parameter):
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)
            if isinstance(m, nn.LayerNorm) and m.weight is not None:
                m.weight.copy_(rand(m.weight, 0.3, 0.8))
            if isinstance(getattr(m, "layer_scale", None), nn.Parameter):
                m.layer_scale.copy_(rand(m.layer_scale, 0.5, 1.0))
    return model


def exported_module(design, folder):
    """Write the design's standalone code to a file and import it as users would."""
    path = folder / f"exported_{next(_COUNTER)}.py"
    path.write_text(generate(design).source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_with(module, state: dict) -> nn.Module:
    """module.build_model() holding `state` (strict: every key, every shape), in eval mode.
    Built on the meta device and filled by assignment, so big networks cost no init time."""
    with torch.device("meta"):
        model = module.build_model()
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference relative to the largest reference value."""
    return float((a - b).abs().max() / b.abs().max())
