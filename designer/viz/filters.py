"""A convolution's learned filters as tiles: one RGB tile per filter when it reads 3 channels,
else one tile per input channel (or their mean), each normalized to 0..1 on its own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from designer.viz.errors import VizError
from designer.viz.model import LoadedModel
from designer.viz.nodes import CONV_TYPES

MODES = ("auto", "rgb", "channels", "mean")
MAX_CHANNEL_TILES = 16  # "auto" shows each input channel up to this many, else their mean


@dataclass
class FilterTiles:
    node_name: str
    weights: np.ndarray  # filters x in-channels-per-group x kh x kw, as the filters see them
    tiles: np.ndarray    # filters x tiles-per-filter x kh x kw (x 3 for "rgb"), in 0..1
    mode: str            # "rgb", "channels" or "mean"


def normalize_tiles(t: np.ndarray, tile_axes: int) -> np.ndarray:
    """Min-max normalize over the last `tile_axes` axes; a constant tile becomes mid-gray."""
    axes = tuple(range(t.ndim - tile_axes, t.ndim))
    lo = t.min(axis=axes, keepdims=True)
    span = t.max(axis=axes, keepdims=True) - lo
    return np.where(span > 0, (t - lo) / np.where(span > 0, span, 1), 0.5).astype(np.float32)


def filter_weights(module: torch.nn.Module) -> torch.Tensor:
    """Filters x in-channels-per-group x kh x kw; ConvTranspose2d stores in x out, so reorder."""
    w = module.weight.detach().float().cpu()
    if isinstance(module, torch.nn.ConvTranspose2d):
        g = module.groups
        cin, cout_g, kh, kw = w.shape
        w = w.reshape(g, cin // g, cout_g, kh, kw).transpose(1, 2).reshape(g * cout_g, cin // g, kh, kw)
    return w


def filter_tiles(model: LoadedModel, node_id: str, mode: str = "auto") -> FilterTiles:
    node = model.design.nodes[node_id]
    if node.type not in CONV_TYPES:
        raise VizError(f"node '{node.name}' is a {node.type}; filters need a convolution")
    if mode not in MODES:
        raise VizError(f"unknown filter mode '{mode}'; use one of {', '.join(MODES)}")
    w = filter_weights(model.submodule(node_id)).numpy()
    per_filter = w.shape[1]
    if mode == "auto":
        mode = "rgb" if per_filter == 3 else "channels" if per_filter <= MAX_CHANNEL_TILES else "mean"
    if mode == "rgb":
        if per_filter != 3:
            raise VizError(f"node '{node.name}' filters read {per_filter} channel(s); RGB tiles "
                           "need 3")
        tiles = normalize_tiles(w.transpose(0, 2, 3, 1)[:, None], 3)  # F x 1 x kh x kw x 3
    elif mode == "channels":
        tiles = normalize_tiles(w, 2)
    else:
        tiles = normalize_tiles(w.mean(axis=1, keepdims=True), 2)
    return FilterTiles(node.name, w, tiles, mode)
