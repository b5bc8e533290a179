"""Structural edits between a design and its blocks: group a selection into a custom block,
ungroup a block node (custom or built-in) into its layers, extract a block definition.

Each function changes the design it is given in place; the editor runs them through a
`commands.Snapshot`, which undoes them exactly by restoring the design as it was. They move
connections the design already has, so they add edges unchecked (`Graph.add_edge`)."""

from __future__ import annotations

from collections.abc import Iterable

from designer.core.analysis import analyze
from designer.core.design import BlockDef, Design, Edge, Graph, Node
from designer.core.errors import ConnectionRefused
from designer.core.layout import apply_layout, layered_positions
from designer.core.names import unique_name
from designer.core.registry import get_spec
from designer.core.serialization import clone


def group_nodes(design: Design, node_ids: Iterable[str], block_name: str) -> str:
    """Replace the selected top-level nodes by one custom block node; return its id.

    External inputs become the block's input ports (one per distinct source, in the order they
    are first used); the selection must have exactly one node feeding the rest of the design."""
    ids = [n for n in design.nodes if n in set(node_ids)]
    if not ids:
        raise ConnectionRefused("select the nodes to group first")
    if block_name in design.blocks:
        raise ConnectionRefused(f"a block named {block_name!r} exists already; pick another name")
    for nid in ids:
        if get_spec(design.nodes[nid].type).role in ("input", "output"):
            raise ConnectionRefused(
                f"{design.nodes[nid].name} (an input or head) cannot be grouped"
            )
    inside = set(ids)
    incoming = [e for e in design.edges if e.dst in inside and e.src not in inside]
    outgoing = [e for e in design.edges if e.src in inside and e.dst not in inside]
    internal = [e for e in design.edges if e.src in inside and e.dst in inside]
    out_srcs = sorted({e.src for e in outgoing}, key=ids.index)
    if len(out_srcs) > 1:
        names = ", ".join(design.nodes[n].name for n in out_srcs)
        raise ConnectionRefused(f"a block has one output, but the selection feeds on from {names}")
    block = BlockDef(block_name, library=design.blocks)
    sources: list[str] = []
    for e in incoming:
        if e.src not in sources:
            sources.append(e.src)
    for i, src in enumerate(sources, start=1):
        block.add_node(
            Node(
                f"input{i}",
                "BlockInput",
                f"input{i}" if len(sources) > 1 else "input",
                {"index": i},
            )
        )
    for nid in ids:
        block.add_node(design.nodes[nid].copy())
    for e in internal:
        block.add_edge(e, checked=False)
    for e in incoming:
        block.add_edge(Edge(f"input{sources.index(e.src) + 1}", e.dst, e.dst_port), checked=False)
    if out_srcs:
        block.add_node(Node("output", "BlockOutput", "output"))
        block.add_edge(Edge(out_srcs[0], "output"), checked=False)
    xs = [design.nodes[n].position for n in ids]
    centre = (sum(p[0] for p in xs) / len(xs), sum(p[1] for p in xs) / len(xs))
    for e in incoming + outgoing + internal:
        if e in design.edges:
            design.remove_edge(e)
    for nid in ids:
        design.remove_node(nid)
    design.set_block(block_name, block)
    node = Node(
        design.new_id(), "Block", design.unique_name(block_name), {"block": block_name}, centre
    )
    design.add_node(node)
    for i, src in enumerate(sources, start=1):
        design.add_edge(Edge(src, node.id, f"in{i}"), checked=False)
    for e in outgoing:
        design.add_edge(Edge(node.id, e.dst, e.dst_port), checked=False)
    return node.id


def group_and_lay_out(design: Design, node_ids: list[str], name: str) -> str:
    """Group nodes into a custom block whose interior is laid out afresh (its boundary nodes
    would otherwise all sit at the origin)."""
    node_id = group_nodes(design, node_ids, name)
    apply_layout(design.blocks[name])
    return node_id


def extract_block(design: Design, node_ids: list[str], name: str) -> BlockDef:
    """The block definition grouping `node_ids` would create, leaving the design as it is."""
    scratch = clone(design)
    group_and_lay_out(scratch, node_ids, name)
    return scratch.blocks[name]


def ungroup_node(design: Design, node_id: str) -> list[str]:
    """Replace a block node (custom or built-in) by its inner layers; return the new node ids."""
    node = design.nodes[node_id]
    spec = get_spec(node.type)
    p = spec.resolve(node.params)
    if spec.is_custom_block:
        inner: Graph = design.blocks[p["block"]]
    elif spec.composite:
        info = analyze(design).info.get(node_id)
        if info is None:
            raise ConnectionRefused(f"{node.name} has a problem to fix before it can be ungrouped")
        inner = spec.expand(p, info.in_shapes)
    else:
        raise ConnectionRefused(f"{node.name} is a single layer, not a block")
    feeds = {e.dst_port: e.src for e in design.in_edges(node_id)}
    outs = design.out_edges(node_id)
    # Inner node id -> the design node id that now produces its value.
    mapped: dict[str, str | None] = {}
    added: list[Node] = []
    taken = {n.name for n in design.nodes.values()}
    ox, oy = node.position
    for n in inner.nodes.values():
        role = get_spec(n.type).role
        if role == "block_input":
            port = f"in{n.params.get('index', 1)}"
            # Custom blocks name their ports in1, in2...; built-in blocks have the one port "in".
            mapped[n.id] = feeds.get(port, feeds.get("in") if port == "in1" else None)
        elif role != "block_output":
            new = n.copy()
            new.id = f"tmp{len(added)}"
            new.name = unique_name(f"{node.name}_{n.name}", taken)
            taken.add(new.name)
            new.position = (ox + n.position[0], oy + n.position[1])
            added.append(new)
            mapped[n.id] = new.id
    for e in design.in_edges(node_id) + outs:
        design.remove_edge(e)
    design.remove_node(node_id)
    final = {}
    for new in added:
        tmp_id, new.id = new.id, design.new_id()
        final[tmp_id] = new.id
        design.add_node(new)
    mapped = {k: final.get(v, v) for k, v in mapped.items()}
    out_src = None
    for e in inner.edges:
        if get_spec(inner.nodes[e.dst].type).role == "block_output":
            out_src = mapped.get(e.src)
            continue
        src, dst = mapped.get(e.src), mapped.get(e.dst)
        if src is not None and dst is not None:
            design.add_edge(Edge(src, dst, e.dst_port), checked=False)
    if out_src is not None:
        for e in outs:
            design.add_edge(Edge(out_src, e.dst, e.dst_port), checked=False)
    return [n.id for n in added]


def ungroup_in_place(design: Design, node_id: str) -> list[str]:
    """Ungroup a block node and lay its layers out where it was, moving what is below down."""
    ox, oy = design.nodes[node_id].position
    new_ids = ungroup_node(design, node_id)
    inside = set(new_ids)
    part = Graph()
    part.nodes = {nid: design.nodes[nid] for nid in new_ids}
    part.edges = [e for e in design.edges if e.src in inside and e.dst in inside]
    pos = layered_positions(part)
    extra = max((y for _, y in pos.values()), default=0.0)
    for n in list(design.nodes.values()):
        if n.id not in inside and n.position[1] > oy + 1:
            design.set_node_attr(n.id, "position", (n.position[0], n.position[1] + extra))
    for nid, (x, y) in pos.items():
        design.set_node_attr(nid, "position", (ox + x, oy + y))
    return new_ids
