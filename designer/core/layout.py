"""Automatic layered layout (Sugiyama's method), top to bottom:

1. ranking: each node one row below its deepest input (networkx's topological order);
2. dummy nodes: an edge that skips rows gets a placeholder in every row it crosses, so the rows
   make room for it and a residual shortcut runs beside the layers it skips, not behind them;
3. crossing reduction: barycentre sweeps down and up, keeping the order with fewest crossings;
4. coordinates: each row placed as near its inputs as the spacing allows (weighted isotonic
   regression, so a long edge's placeholders stay in one straight lane the canvas draws it in);
5. wrapping: a design too tall for a screen (ResNet-152) is cut into columns side by side where
   the fewest edges cross, like a wrapped paragraph.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx

from designer.core.design import Graph

ROW = 90.0
COLUMN = 210.0
DUMMY = 0.4 * COLUMN  # the width a long edge's lane takes in a row
DUMMY_WEIGHT = 1e4  # lanes stay straight; boxes step aside for them
SWEEPS = 6
WRAP_MIN_ROWS = 15  # shorter designs (LeNet-5: 14 rows) stay in one column unless asked
WINDOW_ASPECT = 1.5  # the canvas of a usual window, width / height
COLUMN_GAP = 1.2 * COLUMN


Item = object  # a node id, or ("edge", src, dst, row) for a placeholder


def _ranks(g: nx.DiGraph) -> dict[str, int]:
    depth: dict[str, int] = {}
    for nid in nx.topological_sort(g):
        depth[nid] = max((depth[p] + 1 for p in g.predecessors(nid)), default=0)
    return depth


def _crossings(upper: list, lower: list, preds: dict) -> int:
    pos = {item: i for i, item in enumerate(upper)}
    ends = [(pos[p], j) for j, item in enumerate(lower) for p in preds[item] if p in pos]
    ends.sort()
    count = 0
    for a in range(len(ends)):  # inversions of the lower ends (rows are small)
        for b in range(a + 1, len(ends)):
            if ends[b][1] < ends[a][1] and ends[b][0] != ends[a][0]:
                count += 1
    return count


def _order(rows: dict[int, list], preds: dict, succs: dict, order: dict) -> dict[int, list]:
    """Barycentre sweeps down and up; the best ordering seen (fewest crossings) wins."""
    depths = sorted(rows)

    def total(state) -> int:
        return sum(_crossings(state[a], state[b], preds) for a, b in itertools.pairwise(depths))

    def sweep(state, down: bool):
        new = dict(state)
        seq = depths[1:] if down else list(reversed(depths[:-1]))
        for d in seq:
            ref = new[d - 1] if down else new[d + 1]
            pos = {item: i for i, item in enumerate(ref)}
            links = preds if down else succs
            here = {item: i for i, item in enumerate(new[d])}

            def key(item, pos=pos, links=links, here=here):
                placed = [pos[p] for p in links[item] if p in pos]
                return (sum(placed) / len(placed) if placed else here[item], order[item])

            new[d] = sorted(new[d], key=key)
        return new

    state = {d: sorted(rows[d], key=lambda item: order[item]) for d in depths}
    state = sweep(state, True)
    best, best_count = state, total(state)
    for i in range(SWEEPS):
        if best_count == 0:
            break
        state = sweep(state, i % 2 == 1)
        count = total(state)
        if count < best_count:
            best, best_count = state, count
    return best


def _isotonic(desired: list[float], gaps: list[float], weights: list[float]) -> list[float]:
    """x nearest to `desired` (weighted least squares) with x[i+1] - x[i] >= gaps[i]: pool
    adjacent violators on x minus the cumulative gaps."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [weighted mean, weight, count]
    for d, w, off in zip(desired, weights, offsets):
        blocks.append([d - off, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out = []
    for mean, _, n in blocks:
        out.extend([mean] * n)
    return [y + off for y, off in zip(out, offsets)]


def _wanted(item, preds: dict, x: dict, fallback: float) -> float:
    """Where an item would sit: under its inputs' median; a merge of a long edge and a branch
    (a residual Add, a dense Concat) under the long edge, the trunk, so that chains of blocks
    do not drift sideways."""
    placed = sorted(x[p] for p in preds[item] if p in x)
    if not placed:
        return fallback
    lanes = [x[p] for p in preds[item] if isinstance(p, tuple) and p in x]
    if len(placed) == 2 and len(lanes) == 1:
        return lanes[0]
    m = len(placed)
    return (placed[(m - 1) // 2] + placed[m // 2]) / 2


def _coordinates(rows: dict[int, list], preds: dict, succs: dict) -> dict:
    width = {}
    x: dict = {}
    for d in sorted(rows):
        members = rows[d]
        for item in members:
            width[item] = DUMMY if isinstance(item, tuple) else COLUMN
        gaps = [(width[a] + width[b]) / 2 for a, b in itertools.pairwise(members)]
        start = -sum(gaps) / 2
        seq = [start]
        for gap in gaps:
            seq.append(seq[-1] + gap)
        desired = [_wanted(item, preds, x, seq[i]) for i, item in enumerate(members)]
        weights = [DUMMY_WEIGHT if isinstance(item, tuple) else 1.0 for item in members]
        for item, value in zip(members, _isotonic(desired, gaps, weights)):
            x[item] = value
    # Sources below the top row (a second input, a constant) sit above what they feed.
    for d in sorted(rows, reverse=True):
        members = rows[d]
        if d == min(rows) or all(preds[item] for item in members):
            continue
        gaps = [(width[a] + width[b]) / 2 for a, b in itertools.pairwise(members)]
        desired = []
        for item in members:
            below = [x[s] for s in succs[item] if s in x]
            desired.append(sum(below) / len(below) if not preds[item] and below else x[item])
        weights = [1.0 if not preds[item] else 100.0 for item in members]
        for item, value in zip(members, _isotonic(desired, gaps, weights)):
            x[item] = value
    return x


def wrap_columns(rows: int, width: float, force: bool = False) -> int:
    """How many side-by-side columns make a layout `rows` tall and `width` wide (centre to
    centre) closest to a window's shape; 1 for a design short or wide enough already."""
    if rows < WRAP_MIN_ROWS and not force:
        return 1

    def misfit(k: int) -> float:
        w = k * (width + COLUMN) + (k - 1) * COLUMN_GAP
        h = math.ceil(rows / k) * ROW
        return abs(math.log(w / h / WINDOW_ASPECT))

    best = min(range(1, max(2, rows // 5) + 1), key=misfit)
    if force:
        best = max(best, 2)
    return best if best == 1 or misfit(best) < misfit(1) - 0.3 or force else 1


def _wrap(
    depth: dict[str, int], pos: dict[str, tuple[float, float]], edges, rows: int, columns: int
) -> dict[str, tuple[float, float]]:
    """Cut a tall layout into side-by-side columns at the rows fewest edges cross."""
    per = rows / columns
    crossing = [0] * (rows + 1)  # edges crossing the boundary above row r
    for u, v in edges:
        for r in range(depth[u] + 1, depth[v] + 1):
            crossing[r] += 1
    cuts = [0]
    for k in range(1, columns):
        target = round(k * per)
        reach = max(1, round(per / 4))
        window = range(max(cuts[-1] + 2, target - reach), min(rows - 1, target + reach + 1))
        if not window:
            continue
        cuts.append(min(window, key=lambda r: (crossing[r], abs(r - target))))
    xs = [p[0] for p in pos.values()]
    span = max(xs) - min(xs) + COLUMN + COLUMN_GAP
    out = {}
    for nid, (x, y) in pos.items():
        k = max(i for i, c in enumerate(cuts) if depth[nid] >= c)
        out[nid] = (x + k * span, y - cuts[k] * ROW)
    return out


def layered_positions(graph: Graph, wrap: bool | None = None) -> dict[str, tuple[float, float]]:
    """Positions for every node (see the module's steps). `wrap`: None wraps a design much
    taller than wide into columns, True wraps any design of 6 rows or more, False never."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(
        (e.src, e.dst) for e in graph.edges if e.src in graph.nodes and e.dst in graph.nodes
    )
    if not nx.is_directed_acyclic_graph(g):
        return {nid: (0.0, i * ROW) for i, nid in enumerate(graph.nodes)}
    depth = _ranks(g)
    preds: dict = {nid: [] for nid in graph.nodes}
    succs: dict = {nid: [] for nid in graph.nodes}
    rows: dict[int, list] = {}
    order = {nid: i for i, nid in enumerate(graph.nodes)}
    for nid in graph.nodes:
        rows.setdefault(depth[nid], []).append(nid)
    for u, v in g.edges:
        prev = u
        for d in range(depth[u] + 1, depth[v]):
            dummy = ("edge", u, v, d)
            preds[dummy], succs[dummy] = [prev], []
            succs[prev].append(dummy)
            order[dummy] = order[v] + 0.5
            rows.setdefault(d, []).append(dummy)
            prev = dummy
        preds[v].append(prev)
        succs[prev].append(v)
    rows = _order(rows, preds, succs, order)
    x = _coordinates(rows, preds, succs)
    pos = {nid: (round(x[nid], 1), depth[nid] * ROW) for nid in graph.nodes}
    height = max(depth.values(), default=0) + 1
    if wrap is not False and height >= 2 * 3:
        xs = [p[0] for p in pos.values()]
        columns = wrap_columns(height, max(xs) - min(xs), force=bool(wrap))
        if columns > 1:
            pos = _wrap(depth, pos, list(g.edges), height, columns)
    return pos


def apply_layout(graph: Graph, wrap: bool | None = None) -> None:
    for nid, p in layered_positions(graph, wrap).items():
        graph.nodes[nid].position = p
