"""Choosing the node to look at: by name, with defaults, and refusing nodes of the wrong kind."""

from __future__ import annotations

from collections.abc import Callable

from designer.core.analysis import Analysis
from designer.core.design import Design, Node
from designer.core.registry import get_spec
from designer.viz.errors import VizError

CONV_TYPES = ("Conv2d", "ConvTranspose2d")


def is_convolution(node: Node, analysis: Analysis) -> bool:
    return node.type in CONV_TYPES


def has_units(node: Node, analysis: Analysis) -> bool:
    """A layer whose output units can be ranked (anything but the input)."""
    return get_spec(node.type).role != "input" and node.id in analysis.info


def has_output(node: Node, analysis: Analysis) -> bool:
    return node.id in analysis.info


KINDS: dict[str, tuple[Callable[[Node, Analysis], bool], str]] = {
    "filters": (is_convolution, "a convolution (Conv2d or ConvTranspose2d)"),
    "top patches": (has_units, "a layer (not the input)"),
    "activations": (has_output, "a node with an output"),
}


def candidates(design: Design, analysis: Analysis, purpose: str) -> list[Node]:
    accept, _ = KINDS[purpose]
    return [design.nodes[n] for n in analysis.order
            if n in design.nodes and n in analysis.live and accept(design.nodes[n], analysis)]


def _names(nodes: list[Node]) -> str:
    return ", ".join(n.name for n in nodes) if nodes else "(none)"


def pick_node(design: Design, analysis: Analysis, purpose: str, name: str | None,
              default: str = "first") -> Node:
    """The node called `name`, or the first/last suitable node; VizError naming the candidates."""
    accept, what = KINDS[purpose]
    found = candidates(design, analysis, purpose)
    if not found:
        raise VizError(f"the design has no node that can show {purpose}: {purpose} need {what}")
    if name is None:
        convs = [n for n in found if n.type in CONV_TYPES]
        if not convs:
            raise VizError(f"the design has no convolution to show {purpose} of; choose a node "
                           f"with --node (candidates: {_names(found)})")
        return convs[0] if default == "first" else convs[-1]
    node = design.find(name)
    if node is None:
        raise VizError(f"the design has no node named '{name}'; nodes that can show {purpose}: "
                       f"{_names(found)}")
    if node.id not in analysis.live:
        raise VizError(f"node '{node.name}' is not connected to the output, so the model does not "
                       f"compute it; nodes that can show {purpose}: {_names(found)}")
    if not accept(node, analysis):
        raise VizError(f"node '{node.name}' is a {node.type}, but {purpose} need {what}; "
                       f"candidates: {_names(found)}")
    return node
