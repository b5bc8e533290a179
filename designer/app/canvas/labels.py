"""What the canvas shows for each node and edge, derived from the model and the latest analysis."""

from __future__ import annotations

from designer.app.canvas.items import NodeView
from designer.core.analysis import Analysis, learns
from designer.core.design import Graph
from designer.core.registry import get_spec, has_spec, shape_str


def _problems_by_node(analysis: Analysis) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in analysis.problems:
        if p.node_id is not None:
            out.setdefault(p.node_id, []).append(p.message)
    return out


def node_views(
    graph: Graph,
    analysis: Analysis,
    blocks: dict,
    weighted: frozenset[str] | set[str] = frozenset(),
    memo: dict | None = None,
) -> dict[str, NodeView]:
    """One NodeView per node; linear in nodes + edges so relabelling big designs stays fast.
    ``weighted``: the nodes whose weights come from the design's weights file. ``memo`` (kept by
    the scene between calls) reuses the view of a node whose inputs to it are unchanged, so a
    param edit rebuilds the views of the nodes it changed, not all 700."""
    problems = _problems_by_node(analysis)
    feeds: dict[tuple[str, str], str] = {}
    into: dict[str, list] = {}
    for e in graph.edges:
        feeds[(e.dst, e.dst_port)] = e.src
        into.setdefault(e.dst, []).append(e.src)
    views = {}
    for node in graph.nodes.values():
        issues = tuple(problems.get(node.id, ()))
        if not has_spec(node.type):
            views[node.id] = NodeView(
                node.name, f"unknown type {node.type}", "?", "Other", (), (), None, issues
            )
            continue
        spec = get_spec(node.type)
        key = None
        if memo is not None and not spec.is_custom_block:  # a block's ports: its definition
            info = analysis.info.get(node.id)
            key = (
                node.type,
                repr(node.params),
                node.name,
                node.trainable,
                issues,
                node.id in weighted,
                None if info is None else (info.shape, info.trainable_params),
                tuple(analysis.shape(src) for src in into.get(node.id, ())),
            )
            known = memo.get(node.id)
            if known is not None and known[0] == key:
                views[node.id] = known[1]
                continue
        p = spec.resolve(node.params)
        ports = spec.ports(p, blocks)
        in_shapes = tuple(
            analysis.shape(feeds[(node.id, port)]) if (node.id, port) in feeds else None
            for port in ports
        )
        try:
            summary = spec.summary_text(p)
        except (KeyError, TypeError, ValueError, IndexError):  # a bad param: the badge says which
            summary = ""
        subtitle = f"{spec.type} · {summary}" if summary else spec.type
        out_shape = analysis.shape(node.id)
        views[node.id] = NodeView(
            name=node.name,
            subtitle=subtitle,
            shape=shape_str(out_shape),
            category=spec.category,
            in_ports=ports,
            in_shapes=in_shapes,
            out_shape=out_shape,
            problems=issues,
            frozen=not node.trainable and learns(spec, analysis.info.get(node.id)),
            trained=node.id in weighted,
            opens=spec.opens,
            has_output=not spec.is_output,
        )
        if key is not None:
            memo[node.id] = (key, views[node.id])
    return views


def edge_label(analysis: Analysis, src_id: str) -> tuple[tuple | None, str]:
    shape = analysis.shape(src_id)
    return shape, shape_str(shape)
