"""From a design and its training settings to a model ready to train: compiled from the generated
code (the same code users export), initialized, on its device, with frozen nodes and per-node
learning-rate multipliers turned into parameter groups."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from designer.codegen import CodegenError, GeneratedCode, compile_design, generate
from designer.core.analysis import analyze
from designer.core.design import Design
from designer.core.serialization import clone
from designer.training.recipe import start_model

DROPOUT_TYPES = ("Dropout", "Dropout2d")


class TrainingError(Exception):
    """A run that cannot start as asked; the message says what is wrong and where."""


def pick_device(name: str) -> torch.device:
    """ "auto": CUDA, then Apple's MPS, then the CPU; otherwise the named device, if present."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(
            f"the device '{name}' was asked for, but PyTorch finds no CUDA GPU here"
        )
    if name == "mps" and not torch.backends.mps.is_available():
        raise TrainingError(
            "the device 'mps' was asked for, but this machine has no Apple GPU for PyTorch"
        )
    return torch.device(name)


def has_dropout(design: Design) -> bool:
    graphs = [design, *design.blocks.values()]
    return any(n.type in DROPOUT_TYPES for g in graphs for n in g.nodes.values())


def with_dropout(design: Design, rate: float | None) -> Design:
    """The design itself, or a copy whose dropout layers (also inside its blocks) use ``rate``."""
    if rate is None or not has_dropout(design):
        return design
    copy = clone(design)
    for graph in (copy, *copy.blocks.values()):
        for node in graph.nodes.values():
            if node.type in DROPOUT_TYPES:
                node.params = {**node.params, "p": float(rate)}
    return copy


def head_features(design: Design) -> int:
    """How many values the design's head gives per sample; a training loss needs a vector."""
    res = analyze(design)
    if res.problems:
        lines = "\n  ".join(str(p) for p in res.problems)
        raise TrainingError(
            f"the design '{design.name}' has {len(res.problems)} problem(s):\n  {lines}"
        )
    shape = res.info[res.output_id].shape
    if shape is None or len(shape) != 1:
        raise TrainingError(
            f"the design's head gives outputs of shape {shape}; training on labelled images needs "
            f"one value per class (a vector), so flatten or pool before the head"
        )
    return shape[0]


def node_settings(
    design: Design, code: GeneratedCode, only_changed: bool = False
) -> dict[str, dict]:
    """Submodule attribute -> {"trainable", "lr_mult"} for the design's top-level nodes."""
    out = {}
    for node_id, attr in code.module_names.items():
        node = design.nodes[node_id]
        if only_changed and node.trainable and node.lr_mult == 1.0:
            continue
        out[attr] = {"trainable": bool(node.trainable), "lr_mult": float(node.lr_mult)}
    return out


@dataclass
class TrainableModel:
    model: nn.Module
    code: GeneratedCode
    frozen: list[
        nn.Module
    ]  # kept in eval mode while training (frozen BatchNorm keeps its statistics)
    optimizer: torch.optim.Optimizer
    trainable_params: int

    def train_mode(self) -> None:
        self.model.train()
        for module in self.frozen:
            module.eval()


def build_trainable(
    design: Design, settings: dict, device: torch.device, seed: int, weights_loader=None
) -> TrainableModel:
    """Compile, initialize (or load weights with ``weights_loader(model)``), move and group
    (recipe.start_model, as the exported training script does)."""
    code = generate(design)
    try:
        model, frozen, optimizer = start_model(
            lambda: compile_design(design, code),
            {**settings, "seed": seed},
            node_settings(design, code),
            device,
            weights_loader,
        )
    except CodegenError:
        raise
    except ValueError as exc:  # e.g. every layer with parameters is frozen
        raise TrainingError(f"the design '{design.name}' cannot be trained: {exc}") from None
    trainable = sum(p.numel() for g in optimizer.param_groups for p in g["params"])
    return TrainableModel(model, code, frozen, optimizer, trainable)
