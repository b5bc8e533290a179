"""The design model: graph, params, validation, shapes, summary, files, undoable commands.

Qt-free and torch-free at import time, so it can re-check a whole design on every edit.
"""

from designer.core.design import BlockDef, Design, Edge, Graph, Node
from designer.core.errors import DesignFileError, Problem, ShapeError
from designer.core.registry import LayerSpec, get_spec, list_specs, register_layer

__all__ = [
    "BlockDef",
    "Design",
    "DesignFileError",
    "Edge",
    "Graph",
    "LayerSpec",
    "Node",
    "Problem",
    "ShapeError",
    "get_spec",
    "list_specs",
    "register_layer",
]
