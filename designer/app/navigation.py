"""Where the canvas is: the design itself or, down a breadcrumb, the inner graph of a block.

A custom block's interior is its BlockDef in `design.blocks` (editable; commands address it by
the path of block names). A built-in block's interior is `spec.expand(params, in_shapes)`, a
read-only view. Each level is analysed with the shapes that enter it from its parent."""

from __future__ import annotations

from dataclasses import dataclass

from designer.core.analysis import Analysis, analyze, analyze_graph
from designer.core.design import Design, Graph, Node
from designer.core.errors import Problem
from designer.core.layout import apply_layout
from designer.core.nesting import block_cycle
from designer.core.params import freeze
from designer.core.registry import LayerSpec, get_spec, has_spec


@dataclass(frozen=True)
class Frame:
    node_id: str  # the block node in the parent level's graph
    title: str  # its name, for the breadcrumb
    block: str | None  # custom block name, or None for a built-in block (read-only)


@dataclass
class Level:
    graph: Graph
    analysis: Analysis
    editable: bool
    title: str


class BlockNotOpenable(Exception):
    """Why a node cannot be opened (shown to the user)."""


def opens(node: Node) -> bool:
    if not has_spec(node.type):
        return False
    return get_spec(node.type).opens


def entry_shapes(graph: Graph, analysis: Analysis, node: Node, spec: LayerSpec, blocks) -> list:
    """Per input port of `node`, the shape its source produces (None where unknown)."""
    p = spec.resolve(node.params)
    feeds = {e.dst_port: e.src for e in graph.edges if e.dst == node.id}
    return [
        analysis.shape(feeds[port]) if port in feeds else None for port in spec.ports(p, blocks)
    ]


_EXPANSIONS: dict[tuple, Graph] = {}


def _expansion(spec: LayerSpec, p: dict, shapes: list) -> Graph:
    key = (spec.type, freeze(p), tuple(shapes))
    graph = _EXPANSIONS.get(key)
    if graph is None:
        graph = spec.expand(p, shapes)
        apply_layout(graph)
        if len(_EXPANSIONS) > 64:
            _EXPANSIONS.clear()
        _EXPANSIONS[key] = graph
    return graph


def enter(design: Design, parent: Level, node: Node) -> Level:
    """The level inside block node `node` of `parent`; raises BlockNotOpenable with the reason."""
    if not opens(node):
        raise BlockNotOpenable(f"{node.name} is a single layer, not a block")
    if block_cycle(design):
        raise BlockNotOpenable("custom blocks of this design contain each other; fix that first")
    spec = get_spec(node.type)
    p = spec.resolve(node.params)
    shapes = entry_shapes(parent.graph, parent.analysis, node, spec, design.blocks)
    if spec.is_custom_block:
        block = design.blocks.get(p.get("block"))
        if block is None:
            raise BlockNotOpenable(f"{node.name}: block definition {p.get('block')!r} is missing")
        known = all(s is not None for s in shapes)
        analysis = analyze_graph(block, shapes if known else [], design.blocks)
        if not known:
            analysis.problems = [_unknown_entry(pr) for pr in analysis.problems]
        return Level(block, analysis, parent.editable, node.name)
    if not shapes or any(s is None for s in shapes):
        raise BlockNotOpenable(
            f"{node.name}: its input shape is unknown; fix the layers that feed it to see inside"
        )
    graph = _expansion(spec, p, shapes)
    return Level(graph, analyze_graph(graph, shapes, design.blocks), False, node.name)


def _unknown_entry(problem: Problem) -> Problem:
    if problem.message == "has no matching input of the block":
        return Problem(
            "the block's input shape is unknown until the layers feeding it are fixed",
            problem.node_id,
            problem.node_name,
            problem.param,
            problem.severity,
        )
    return problem


def resolve(design: Design, frames: list[Frame]) -> tuple[list[Frame], list[Level]]:
    """Analyse each level down the breadcrumb; frames whose block is gone (deleted, undone)
    are dropped, so the canvas falls back to the deepest level that still exists."""
    levels = [Level(design, analyze(design), True, design.name)]
    kept: list[Frame] = []
    for frame in frames:
        parent = levels[-1]
        node = parent.graph.nodes.get(frame.node_id)
        if node is None or not opens(node):
            break
        block = node.params.get("block") if get_spec(node.type).is_custom_block else None
        if block != frame.block:
            break
        try:
            levels.append(enter(design, parent, node))
        except BlockNotOpenable:
            break
        kept.append(Frame(frame.node_id, node.name, block))
    return kept, levels
