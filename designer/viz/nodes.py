"""Choosing the node to look at: by name or by its place inside blocks, with defaults, and
refusing nodes of the wrong kind.

A node inside a block (a conv of a residual block, a layer of a custom block) is addressed by
its *key*: the node ids from the design down through the blocks, joined by "/" ("n5/n2"), the
path the canvas's breadcrumb walks. Users name it by the node names the same way: "res1/conv1".
A built-in block's inside is its `spec.expand(...)`, whose ids are the same every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from designer.core.analysis import Analysis, analyze_graph
from designer.core.design import Design, Graph, Node
from designer.core.params import freeze
from designer.core.registry import get_spec, has_spec
from designer.viz.errors import VizError

CONV_TYPES = ("Conv2d", "ConvTranspose2d")
SEP = "/"


@dataclass(frozen=True)
class Level:
    """One graph on the way down: the design, or the inside of `block` (a node of the level
    above), analysed with the shapes that enter it."""

    graph: Graph
    analysis: Analysis
    block: Node | None = None


@dataclass(frozen=True)
class Place:
    """Where a node is: its key, the node, and the levels from the design down to its graph."""

    key: str
    node: Node
    levels: tuple[Level, ...]

    @property
    def graph(self) -> Graph:
        return self.levels[-1].graph

    @property
    def analysis(self) -> Analysis:
        return self.levels[-1].analysis

    @property
    def nested(self) -> bool:
        return len(self.levels) > 1

    @property
    def blocks(self) -> list[Node]:
        """The block nodes that contain the node, outermost first."""
        return [lv.block for lv in self.levels[1:]]

    @property
    def label(self) -> str:
        """Names down the blocks: "res1/conv1" (just "conv1" at the top)."""
        return SEP.join([*(b.name for b in self.blocks), self.node.name])

    @property
    def shape(self):
        return self.analysis.info[self.node.id].shape

    @property
    def in_shapes(self) -> list:
        return self.analysis.info[self.node.id].in_shapes


def opens(node: Node) -> bool:
    """A block with an inside: a built-in composite or a custom block."""
    return has_spec(node.type) and get_spec(node.type).opens


_EXPANSIONS: dict[tuple, Graph] = {}


def inner_level(design: Design, level: Level, block: Node) -> Level | None:
    """The inside of `block` (a node of `level`), or None when it has none or no known input."""
    info = level.analysis.info.get(block.id)
    if info is None or not opens(block):
        return None
    spec = get_spec(block.type)
    p = spec.resolve(block.params)
    if spec.is_custom_block:
        graph = design.blocks.get(p["block"])
        if graph is None:
            return None
    else:
        cache_key = (spec.type, freeze(p), tuple(info.in_shapes))
        graph = _EXPANSIONS.get(cache_key)
        if graph is None:
            if len(_EXPANSIONS) > 64:
                _EXPANSIONS.clear()
            graph = _EXPANSIONS[cache_key] = spec.expand(p, info.in_shapes)
    return Level(graph, analyze_graph(graph, info.in_shapes, design.blocks), block)


def locate(design: Design, analysis: Analysis, key: str) -> Place:
    """The place of the node with this key; VizError when there is no such node."""
    levels = [Level(design, analysis)]
    ids = key.split(SEP)
    for depth, nid in enumerate(ids):
        graph = levels[-1].graph
        node = graph.nodes.get(nid)
        if node is None:
            where = "the design" if depth == 0 else f"block {levels[-1].block.name}"
            raise VizError(f"{where} has no node {nid!r}")
        if depth == len(ids) - 1:
            return Place(key, node, tuple(levels))
        inner = inner_level(design, levels[-1], node)
        if inner is None:
            raise VizError(f"node '{node.name}' is not a block with layers inside")
        levels.append(inner)
    raise VizError("an empty node key")


def walk(design: Design, analysis: Analysis) -> Iterator[Place]:
    """Every live node with a known shape, depth first: each block followed by its inside."""

    def visit(levels: tuple[Level, ...], prefix: str) -> Iterator[Place]:
        level = levels[-1]
        for nid in level.analysis.order:
            if nid not in level.analysis.live or nid not in level.analysis.info:
                continue
            node = level.graph.nodes[nid]
            key = f"{prefix}{nid}"
            yield Place(key, node, levels)
            inner = inner_level(design, level, node)
            if inner is not None:
                yield from visit((*levels, inner), key + SEP)

    yield from visit((Level(design, analysis),), "")


def is_convolution(node: Node, analysis: Analysis) -> bool:
    return node.type in CONV_TYPES


def has_units(node: Node, analysis: Analysis) -> bool:
    """A layer whose output units can be ranked (anything but an input)."""
    return not get_spec(node.type).is_input and node.id in analysis.info


def has_output(node: Node, analysis: Analysis) -> bool:
    return node.id in analysis.info


KINDS: dict[str, tuple[Callable[[Node, Analysis], bool], str]] = {
    "filters": (is_convolution, "a convolution (Conv2d or ConvTranspose2d)"),
    "top patches": (has_units, "a layer (not the input)"),
    "activations": (has_output, "a node with an output"),
    "features": (has_output, "a node with an output"),
    "grad-cam": (is_convolution, "a convolution (Conv2d or ConvTranspose2d)"),
    "gradients": (has_units, "a layer (not the input)"),
}


def candidates(
    design: Design, analysis: Analysis, purpose: str, nested: bool = True
) -> list[Place]:
    """The places (inside blocks too, unless `nested` is False) that can show `purpose`."""
    accept, _ = KINDS[purpose]
    found = [p for p in walk(design, analysis) if accept(p.node, p.analysis)]
    return found if nested else [p for p in found if not p.nested]


def _names(places: list[Place], limit: int = 12) -> str:
    if not places:
        return "(none)"
    shown = ", ".join(p.label for p in places[:limit])
    return shown + (f" and {len(places) - limit} more" if len(places) > limit else "")


def find_place(design: Design, analysis: Analysis, name: str) -> Place | None:
    """The node called `name`: a top-level name or id, a path of names down the blocks
    ("res1/conv1"), or a name found exactly once inside the blocks. VizError when a bare name
    is in several blocks (the message lists their paths)."""
    top = design.find(name)
    if top is not None:
        return locate(design, analysis, top.id)
    everywhere = list(walk(design, analysis))
    by_label = [p for p in everywhere if p.label == name]
    if by_label:
        return by_label[0]
    if SEP in name:
        return None
    same = [p for p in everywhere if p.node.name == name]
    if len(same) > 1:
        raise VizError(
            f"several blocks have a node named '{name}': {_names(same)}; name one by its path"
        )
    return same[0] if same else None


def pick_node(
    design: Design, analysis: Analysis, purpose: str, name: str | None, default: str = "first"
) -> Place:
    """The node called `name`, or the first/last suitable convolution (top-level ones first);
    VizError naming the candidates."""
    accept, what = KINDS[purpose]
    found = candidates(design, analysis, purpose)
    if not found:
        raise VizError(f"the design has no node that can show {purpose}: {purpose} need {what}")
    if name is None:
        convs = [p for p in found if p.node.type in CONV_TYPES]
        top = [p for p in convs if not p.nested] or convs
        if not top:
            raise VizError(
                f"the design has no convolution to show {purpose} of; choose a node "
                f"with --node (candidates: {_names(found)})"
            )
        return top[0] if default == "first" else top[-1]
    place = find_place(design, analysis, name)
    if place is None:
        raise VizError(
            f"the design has no node named '{name}'; nodes that can show {purpose}: {_names(found)}"
        )
    node = place.node
    if node.id not in place.analysis.live:
        raise VizError(
            f"node '{place.label}' is not connected to the output, so the model does "
            f"not compute it; nodes that can show {purpose}: {_names(found)}"
        )
    if not accept(node, place.analysis):
        raise VizError(
            f"node '{place.label}' is a {node.type}, but {purpose} need {what}; "
            f"candidates: {_names(found)}"
        )
    return place
