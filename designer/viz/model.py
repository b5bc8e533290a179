"""A design compiled for looking inside: the module in eval mode, its node -> submodule map,
and where its weights came from (a file, or a seeded fresh initialization)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from designer.codegen import CodegenError, GeneratedCode, compile_design, generate
from designer.core.analysis import Analysis, analyze
from designer.core.design import Design
from designer.interop.weights import WeightsError, design_weights_path, load_weights
from designer.viz.errors import VizError
from designer.viz.nodes import Level, Place, locate

INIT_SEED = 0


@dataclass
class LoadedModel:
    design: Design
    analysis: Analysis
    code: GeneratedCode
    module: nn.Module
    weights_note: str  # for the user: "weights from FILE" or "freshly initialized (seed 0) ..."
    fresh: bool = False  # freshly initialized weights: pictures of no trained network

    def attr(self, node_id: str) -> str | None:
        """The compiled module's attribute for a top-level node (None for Flatten, Add, ...)."""
        return self.code.module_names.get(node_id)

    def place(self, key: str) -> Place:
        """Where the node with this key is (a top-level id, or ids down the blocks)."""
        return locate(self.design, self.analysis, key)

    def container(self, place: Place) -> nn.Module:
        """The module that runs the graph holding `place`: the model, or its block's module."""
        return self._walk(place)[0]

    def attrs(self, place: Place) -> dict[str, str]:
        """Node id -> attribute of the modules of the graph holding `place` (in its container)."""
        return self._walk(place)[1]

    def submodule(self, key: str) -> nn.Module | None:
        """The module of the node with this key (None for Flatten, Add, ... which have none)."""
        place = self.place(key)
        container, attrs = self._walk(place)
        attr = attrs.get(place.node.id)
        module = getattr(container, attr, None) if attr is not None else None
        return module if isinstance(module, nn.Module) else None

    def module_name(self, key: str) -> str | None:
        """The node's module as a qualified name of the model ("res1.conv1"), as state_dict keys
        and the per-epoch filters file name it; None when it has no module."""
        place = self.place(key)
        names, container, attrs = [], self.module, self.code.module_names
        for level, block in zip(place.levels[1:], place.blocks):
            names.append(attrs[block.id])
            container = getattr(container, attrs[block.id])
            attrs = self._inner_attrs(level, block, container)
        attr = attrs.get(place.node.id)
        if attr is None or not isinstance(getattr(container, attr, None), nn.Module):
            return None
        return ".".join([*names, attr])

    def _walk(self, place: Place) -> tuple[nn.Module, dict[str, str]]:
        container, attrs = self.module, self.code.module_names
        for level, block in zip(place.levels[1:], place.blocks):
            attr = attrs.get(block.id)
            if attr is None:
                raise VizError(f"block '{block.name}' has no module in the compiled model")
            container = getattr(container, attr)
            attrs = self._inner_attrs(level, block, container)
        return container, attrs

    def _inner_attrs(self, level: Level, block, container: nn.Module) -> dict[str, str]:
        """A custom block's class names its submodules as the code generator chose; a built-in
        block's class names them after the inner nodes (designer/layers/block_modules.py)."""
        if block.type == "Block":
            return self.code.block_module_names.get(block.params.get("block"), {})
        return {
            nid: n.name
            for nid, n in level.graph.nodes.items()
            if isinstance(getattr(container, n.name, None), nn.Module)
        }


def load_model(
    design: Design,
    design_path: str | Path | None = None,
    weights: str | Path | None = None,
    seed: int = INIT_SEED,
) -> LoadedModel:
    """Compile the design and load its weights: `weights` if given, else the design's own
    weights file (kept beside the design), else a fresh initialization seeded with `seed`."""
    res = analyze(design)
    try:
        code = generate(design, res)
    except CodegenError as exc:
        raise VizError(str(exc)) from None
    if weights is None:
        own = design_weights_path(design, design_path)
        if own is not None:
            if not own.is_file():
                raise VizError(
                    f"the design's weights file {own} does not exist; pass --weights "
                    "or train the design again"
                )
            weights = own
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = compile_design(design, code)
    if weights is None:
        note = f"freshly initialized weights (seed {seed}): the design has no weights file"
    else:
        try:
            load_weights(module, weights)
        except WeightsError as exc:
            raise VizError(str(exc)) from None
        note = f"weights from {weights}"
    module.eval()
    return LoadedModel(design, res, code, module, note, fresh=weights is None)
