"""Activation maps: a node's output for one input, one map per channel; and a node's outputs for
many inputs (its features, e.g. to store for training a classifier elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from designer.viz.model import LoadedModel
from designer.viz.probe import NodeProbe


@dataclass
class ActivationMaps:
    node_name: str
    maps: np.ndarray  # C x H x W; a flat output of N features is N maps of 1 x 1

    @property
    def value_range(self) -> tuple[float, float]:
        """One range for all channels, so weak and dead channels look weak and dead."""
        return float(self.maps.min()), float(self.maps.max())


def activation_maps(model: LoadedModel, node_id: str, x: torch.Tensor) -> ActivationMaps:
    """The node's output for one input `x` (the input shape, without a batch dimension);
    `node_id` is a node key (designer.viz.nodes: inside blocks too)."""
    probe = NodeProbe(model, node_id)
    out = probe(x.unsqueeze(0))[0].float()
    if out.dim() == 1:
        out = out[:, None, None]
    elif out.dim() == 2:
        out = out[None]
    return ActivationMaps(probe.place.label, out.numpy())


def node_outputs(
    model: LoadedModel, node_id: str, x: torch.Tensor, batch_size: int = 256
) -> torch.Tensor:
    """The node's outputs for every input in `x` (N x the input shape), in batches, as one
    float N x (the node's shape) tensor on the CPU."""
    probe = NodeProbe(model, node_id)
    chunks = [probe(x[lo : lo + batch_size]).float().cpu() for lo in range(0, len(x), batch_size)]
    return torch.cat(chunks) if chunks else torch.empty(0, *probe.shape)
