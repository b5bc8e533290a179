"""Automatic layered layout: top to bottom by depth, branches side by side."""

from __future__ import annotations

import networkx as nx

from designer.core.design import Graph

ROW = 90.0
COLUMN = 210.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """Positions for every node: one row per longest-path depth, ordered within a row by the
    mean column of its inputs (a barycentre pass keeps branch edges from crossing)."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges)
    if not nx.is_directed_acyclic_graph(g):
        return {nid: (0.0, i * ROW) for i, nid in enumerate(graph.nodes)}
    depth: dict[str, int] = {}
    for nid in nx.topological_sort(g):
        depth[nid] = max((depth[p] + 1 for p in g.predecessors(nid)), default=0)
    rows: dict[int, list[str]] = {}
    index = {nid: i for i, nid in enumerate(graph.nodes)}
    for nid in graph.nodes:
        rows.setdefault(depth[nid], []).append(nid)
    column: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    for d in sorted(rows):
        def key(nid):
            preds = [column[p] for p in g.predecessors(nid) if p in column]
            return (sum(preds) / len(preds) if preds else 0.0, index[nid])

        members = sorted(rows[d], key=key)
        for i, nid in enumerate(members):
            column[nid] = i - (len(members) - 1) / 2
            pos[nid] = (column[nid] * COLUMN, d * ROW)
    return pos


def apply_layout(graph: Graph) -> None:
    for nid, p in layered_positions(graph).items():
        graph.nodes[nid].position = p
