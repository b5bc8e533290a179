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
    tiles: np.ndarray  # filters x tiles-per-filter x kh x kw (x 3 for "rgb"), in 0..1
    mode: str  # "rgb", "channels" or "mean"
    shared: bool = False  # one scale for all tiles (below) instead of each tile's own range
    scale: tuple[float, float] = (0.0, 0.0)  # the weight values shown as 0 and 1 when shared

    @property
    def value_range(self) -> tuple[float, float]:
        return float(self.weights.min()), float(self.weights.max())


def normalize_tiles(t: np.ndarray, tile_axes: int) -> np.ndarray:
    """Min-max normalize over the last `tile_axes` axes; a constant tile becomes mid-gray."""
    axes = tuple(range(t.ndim - tile_axes, t.ndim))
    lo = t.min(axis=axes, keepdims=True)
    span = t.max(axis=axes, keepdims=True) - lo
    return np.where(span > 0, (t - lo) / np.where(span > 0, span, 1), 0.5).astype(np.float32)


def filter_weights(module: torch.nn.Module, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Filters x in-channels-per-group x kh x kw of the module's weight (or `weight`, of the same
    shape); ConvTranspose2d stores in x out, so reorder."""
    w = (module.weight if weight is None else weight).detach().float().cpu()
    if isinstance(module, torch.nn.ConvTranspose2d):
        g = module.groups
        cin, cout_g, kh, kw = w.shape
        w = (
            w.reshape(g, cin // g, cout_g, kh, kw)
            .transpose(1, 2)
            .reshape(g * cout_g, cin // g, kh, kw)
        )
    return w


def filter_tiles(
    model: LoadedModel,
    node_id: str,
    mode: str = "auto",
    weights: torch.Tensor | None = None,
    shared: bool = False,
) -> FilterTiles:
    """The filters of the convolution with this node key (inside blocks too); `weights` shows
    other weights of the same shape (a run's filters at some epoch) instead of the model's."""
    place = model.place(node_id)
    node = place.node
    if node.type not in CONV_TYPES:
        raise VizError(f"node '{place.label}' is a {node.type}; filters need a convolution")
    if mode not in MODES:
        raise VizError(f"unknown filter mode '{mode}'; use one of {', '.join(MODES)}")
    module = model.submodule(node_id)
    if weights is not None and tuple(weights.shape) != tuple(module.weight.shape):
        raise VizError(
            f"weights of shape {tuple(weights.shape)} do not fit node "
            f"'{place.label}', whose weights are {tuple(module.weight.shape)}"
        )
    return tiles_of(place.label, filter_weights(module, weights).numpy(), mode, shared)


def shared_tiles(t: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """One scale symmetric around zero for all tiles: a zero weight is mid-gray everywhere, so
    strong and weak filters look strong and weak."""
    m = float(np.abs(t).max()) or 1.0
    return ((t + m) / (2 * m)).astype(np.float32), (-m, m)


def tiles_of(name: str, w: np.ndarray, mode: str = "auto", shared: bool = False) -> FilterTiles:
    """Tiles of filters x in-channels-per-group x kh x kw weights, each normalized on its own
    or (`shared`) all on one scale."""
    node_name = name
    per_filter = w.shape[1]
    if mode == "auto":
        mode = (
            "rgb" if per_filter == 3 else "channels" if per_filter <= MAX_CHANNEL_TILES else "mean"
        )
    if mode == "rgb":
        if per_filter != 3:
            raise VizError(
                f"node '{node_name}' filters read {per_filter} channel(s); RGB tiles need 3"
            )
        raw, axes = w.transpose(0, 2, 3, 1)[:, None], 3  # F x 1 x kh x kw x 3
    elif mode == "channels":
        raw, axes = w, 2
    else:
        raw, axes = w.mean(axis=1, keepdims=True), 2
    if shared:
        tiles, scale = shared_tiles(raw)
        return FilterTiles(node_name, w, tiles, mode, True, scale)
    return FilterTiles(node_name, w, normalize_tiles(raw, axes), mode)
