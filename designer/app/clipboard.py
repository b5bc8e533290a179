"""Copy and paste of nodes. The clipboard holds a small design file (the copied nodes, the edges
between them and the custom blocks they use), so it also pastes into another window."""

from __future__ import annotations

from dataclasses import dataclass

from designer.core.design import BlockDef, Design, Edge, Graph, Node
from designer.core.errors import DesignFileError
from designer.core.names import copy_name, unique_name
from designer.core.serialization import dumps, loads


def _used_blocks(design: Design, nodes: list[Node]) -> dict[str, BlockDef]:
    """The custom blocks the nodes use, and the blocks those use, recursively."""
    found: dict[str, BlockDef] = {}
    todo = list(nodes)
    while todo:
        n = todo.pop()
        name = n.params.get("block") if n.type == "Block" else None
        if name and name not in found and name in design.blocks:
            found[name] = design.blocks[name]
            todo.extend(found[name].nodes.values())
    return found


def copy_text(design: Design, graph: Graph, node_ids: list[str]) -> str:
    part = Design(
        f"{len(node_ids)} copied nodes",
        input_shape=design.input_shape,
        task=design.task,
        num_classes=design.num_classes,
    )
    ids = set(node_ids)
    for nid in node_ids:
        part.nodes[nid] = graph.nodes[nid].copy()
    part.edges = [e for e in graph.edges if e.src in ids and e.dst in ids]
    part.blocks = _used_blocks(design, list(part.nodes.values()))
    return dumps(part)


@dataclass
class PastePlan:
    nodes: list[Node]
    edges: list[Edge]
    blocks: dict[str, BlockDef]  # block definitions the target design lacks


def plan_paste(
    design: Design, graph: Graph, text: str, offset: tuple[float, float], copies: bool = False
) -> PastePlan:
    """New ids and unique names for the copied nodes, shifted by `offset`; raises ValueError
    when the text is not copied nodes. With `copies` (Duplicate) a taken name becomes
    `<name>_copy`: layer1_0's duplicate must not look like another member of its stage."""
    try:
        part = loads(text, "the clipboard")
    except DesignFileError as exc:
        raise ValueError(str(exc)) from None
    if not part.nodes:
        raise ValueError("the clipboard holds no layers")
    taken_ids = set(graph.nodes)
    taken_names = {n.name for n in graph.nodes.values()}
    id_map: dict[str, str] = {}
    nodes = []
    for old in part.nodes.values():
        new_id = graph.new_id()
        while new_id in taken_ids:
            new_id = graph.new_id()
        taken_ids.add(new_id)
        id_map[old.id] = new_id
        node = old.copy()
        node.id = new_id
        node.name = (copy_name if copies else unique_name)(old.name, taken_names)
        taken_names.add(node.name)
        node.position = (old.position[0] + offset[0], old.position[1] + offset[1])
        nodes.append(node)
    edges = [Edge(id_map[e.src], id_map[e.dst], e.dst_port) for e in part.edges]
    missing = {k: b for k, b in part.blocks.items() if k not in design.blocks}
    return PastePlan(nodes, edges, missing)
