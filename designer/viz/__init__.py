"""Looking inside a design: filters, top-k activating patches, activation maps, confusion matrix,
Grad-CAM and saliency (designer.viz.attribution, with captum) and gradient checks
(designer.viz.gradients), of top-level nodes and of nodes inside blocks (designer.viz.nodes).

Qt-free: everything computes numpy arrays (for the editor's panels) and `designer.viz.render`
draws them as PNG pictures with Pillow.
"""

from designer.viz.activations import ActivationMaps, activation_maps, node_outputs
from designer.viz.confusion import Confusion, confusion_matrix, predict
from designer.viz.errors import VizError
from designer.viz.filters import FilterTiles, filter_tiles
from designer.viz.model import LoadedModel, load_model
from designer.viz.nodes import Place, candidates, locate, pick_node, walk
from designer.viz.probe import NodeProbe
from designer.viz.receptive_field import ReceptiveField, Span, field_at, receptive_fields
from designer.viz.top_patches import RunningTopK, TopPatches, top_patches

__all__ = [
    "ActivationMaps",
    "Confusion",
    "FilterTiles",
    "LoadedModel",
    "NodeProbe",
    "Place",
    "ReceptiveField",
    "RunningTopK",
    "Span",
    "TopPatches",
    "VizError",
    "activation_maps",
    "candidates",
    "confusion_matrix",
    "field_at",
    "filter_tiles",
    "load_model",
    "locate",
    "node_outputs",
    "pick_node",
    "predict",
    "receptive_fields",
    "top_patches",
    "walk",
]
