"""What the ImageNet templates share: the start of a design, training recipes and the link to
the torchvision model each one reproduces (for the weight mapping and pretrained weights).

Every ImageNet template is named like its torchvision builder (`resnet50` is
`torchvision.models.resnet50`), builds exactly that architecture, and defines
`torchvision_link(name, **options)` in its module; `link_for` finds it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from designer.core.builder import GraphBuilder
from designer.core.design import Design

# torchvision's ImageNet preprocessing (the pretrained weights expect it).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def start(title: str, input_size: int, num_classes: int, description: str):
    """A 3 x S x S design with its Input node; returns (design, builder, input id)."""
    if not isinstance(input_size, int) or input_size < 1:
        raise ValueError(f"input_size must be a positive whole number, got {input_size!r}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes!r}")
    design = Design(
        title,
        description=description,
        input_shape=(3, input_size, input_size),
        num_classes=num_classes,
    )
    b = GraphBuilder(design)
    return design, b, b.add("Input", name="input")


def stage_counts(value, n: int, what: str) -> tuple[int, ...]:
    counts = tuple(value)
    if len(counts) != n or not all(isinstance(c, int) and c >= 1 for c in counts):
        raise ValueError(f"{what} must be {n} whole numbers of at least 1, got {value!r}")
    return counts


def recipe(
    lr: float,
    *,
    epochs: int = 90,
    schedule: str = "step",
    step_size: int = 30,
    gamma: float = 0.1,
    weight_decay: float = 1e-4,
    url: str = "",
    note: str = "",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Training settings from torchvision's reference recipe (SGD with momentum on ImageNet).

    torchvision trains with RandomResizedCrop(224) and horizontal flips; the designer's
    augmentation has no random-resized crop, so it is approximated by zoom and flips."""
    settings: dict[str, Any] = {
        "dataset": "imagenet",
        "optimizer": "sgd",
        "momentum": 0.9,
        "lr": lr,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "epochs": epochs,
        "batch_size": batch_size,
        "augmentation": {"horizontal_flip": True, "zoom_range": 0.3},
        # Fixed per-channel normalization of 0..1 pixels that torchvision's weights expect.
        "preprocessing": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
    }
    if schedule == "step":
        settings.update(step_size=step_size, gamma=gamma)
    if url:
        settings["recipe"] = url
    if note:
        settings["note"] = note
    return settings


TV_RECIPES = "https://github.com/pytorch/vision/tree/main/references/classification"


@dataclass(frozen=True)
class TorchvisionLink:
    """The torchvision model a design built from a template reproduces."""

    model: str | None  # builder with pretrained weights (None: no such model)
    reference: Callable[[], Any]  # builds the torchvision nn.Module of this architecture
    ignore: tuple[str, ...] = ()  # source key prefixes without a counterpart (aux heads)
    # Tensors torchvision applies in forward() rather than keeping in its state_dict:
    # node name -> {tensor name: values}.
    fixed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Options torchvision's pretrained weights need (GoogLeNet's were trained with
    # transform_input=True); applied with --pretrained unless the user sets them.
    pretrained_options: dict[str, Any] = field(default_factory=dict)
    # Puts torchvision's state_dict (in its model's order) into the design's order and tensor
    # names where they differ (ConvNeXt keeps a block's layer scale before its layers).
    adapt: Callable[[dict], dict] | None = None


def link_for(template, options: dict[str, Any] | None = None) -> TorchvisionLink | None:
    """The torchvision counterpart of a template built with `options`, or None."""
    func = getattr(template.build, "func", template.build)
    module = importlib.import_module(func.__module__)
    link = getattr(module, "torchvision_link", None)
    return None if link is None else link(template.name, **(options or {}))
