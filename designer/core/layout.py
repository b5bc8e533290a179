"""Automatic layered layout: top to bottom by depth, branches side by side.

Edges that skip rows get a placeholder in every row they cross (as in Sugiyama's method), so
the rows make room for them and a residual shortcut runs beside the layers it skips, not
behind them."""

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

    # Placeholders: a long edge u -> v becomes u -> p1 -> ... -> v with one p per crossed row.
    preds: dict[object, list] = {nid: [] for nid in graph.nodes}
    rows: dict[int, list] = {}
    order = {nid: i for i, nid in enumerate(graph.nodes)}
    for nid in graph.nodes:
        rows.setdefault(depth[nid], []).append(nid)
    for u, v in g.edges:
        prev = u
        for d in range(depth[u] + 1, depth[v]):
            dummy = ("edge", u, v, d)
            preds[dummy] = [prev]
            order[dummy] = order[v] + 0.5
            rows.setdefault(d, []).append(dummy)
            prev = dummy
        preds[v].append(prev)

    column: dict[object, float] = {}
    for d in sorted(rows):
        def key(item):
            placed = [column[p] for p in preds[item] if p in column]
            return (sum(placed) / len(placed) if placed else 0.0, order[item])

        members = sorted(rows[d], key=key)
        for i, item in enumerate(members):
            column[item] = i - (len(members) - 1) / 2
    return {nid: (column[nid] * COLUMN, depth[nid] * ROW) for nid in graph.nodes}


def apply_layout(graph: Graph) -> None:
    for nid, p in layered_positions(graph).items():
        graph.nodes[nid].position = p
