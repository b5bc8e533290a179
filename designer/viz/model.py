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

    def submodule(self, node_id: str) -> nn.Module | None:
        attr = self.attr(node_id)
        return getattr(self.module, attr) if attr is not None else None


def load_model(design: Design, design_path: str | Path | None = None,
               weights: str | Path | None = None, seed: int = INIT_SEED) -> LoadedModel:
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
                raise VizError(f"the design's weights file {own} does not exist; pass --weights "
                               "or train the design again")
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
