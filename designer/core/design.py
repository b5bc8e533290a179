"""The design model: a directed acyclic graph of layer nodes connected port to port.

Plain evented objects (psygnal): views subscribe to the signals and never mutate the model
themselves; edits go through `designer.core.commands` so each one can be undone. A graph refuses
a connection it cannot hold (`Graph.check_connect`), as orange-canvas-core's Scheme refuses a
link; reading a file puts back what the file holds, and the analysis reports what is wrong.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
from psygnal import Signal

from designer.core.errors import ConnectionRefused
from designer.core.names import unique_name
from designer.core.registry import get_spec, has_spec

OUT = "out"  # every node has exactly one output port


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    trainable: bool = True
    lr_mult: float = 1.0

    def copy(self) -> Node:
        return replace(self, params=_deep_copy(self.params))


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    dst_port: str = "in"
    src_port: str = OUT


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


class Graph:
    """Nodes and edges; the part shared by a design and a custom block definition."""

    node_added = Signal(object)  # Node
    node_removed = Signal(object)  # Node
    node_changed = Signal(object, str)  # Node, what: "params" | "name" | "position" | ...
    edge_added = Signal(object)  # Edge
    edge_removed = Signal(object)  # Edge
    changed = Signal()  # anything that may change shapes or problems

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.revision = 0
        self._ids = itertools.count(1)
        self._library: dict[str, BlockDef] = {}

    @property
    def library(self) -> dict[str, BlockDef]:
        """The custom block definitions this graph's Block nodes refer to (their ports)."""
        return self._library

    @library.setter
    def library(self, blocks: dict[str, BlockDef]) -> None:
        self._library = blocks

    # -- queries -----------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def find(self, name: str) -> Node | None:
        """The node with this user-visible name (or id)."""
        for n in self.nodes.values():
            if n.name == name:
                return n
        return self.nodes.get(name)

    def in_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def nx_graph(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.src, e.dst) for e in self.edges)
        return g

    def new_id(self) -> str:
        while True:
            nid = f"n{next(self._ids)}"
            if nid not in self.nodes:
                return nid

    def unique_name(self, base: str) -> str:
        return unique_name(base, {n.name for n in self.nodes.values()})

    def input_ports(self, node_id: str) -> tuple[str, ...]:
        """A node's input ports: its layer type decides them from its params, a custom block's
        from its definition."""
        node = self.nodes[node_id]
        if not has_spec(node.type):
            return ()
        spec = get_spec(node.type)
        return spec.ports(spec.resolve(node.params), self.library)

    # -- primitive mutations (use designer.core.commands for undoable edits) -------------------
    def _touch(self) -> None:
        self.revision += 1
        self.changed.emit()

    def add_node(self, node: Node, index: int | None = None) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate node id {node.id!r}")
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node
        else:  # undo puts a node back where it was: order decides how code is written out
            items = list(self.nodes.items())
            items.insert(index, (node.id, node))
            self.nodes = dict(items)
        self.node_added.emit(node)
        self._touch()
        return node

    def remove_node(self, node_id: str) -> Node:
        if any(e.src == node_id or e.dst == node_id for e in self.edges):
            raise ValueError("disconnect a node before removing it")
        node = self.nodes.pop(node_id)
        self.node_removed.emit(node)
        self._touch()
        return node

    def add_edge(self, edge: Edge, index: int | None = None, *, checked: bool = True) -> Edge:
        """Add a connection, refusing (ConnectionRefused) one that `check_connect` refuses.
        `checked=False` is for putting back what a graph already held, problems and all:
        reading a file (analysis reports its problems), undo, and moving connections between a
        design and a block."""
        if checked:
            self.check_connect(edge)
        self.edges.insert(len(self.edges) if index is None else index, edge)
        self.edge_added.emit(edge)
        self._touch()
        return edge

    def remove_edge(self, edge: Edge) -> int:
        index = self.edges.index(edge)
        del self.edges[index]
        self.edge_removed.emit(edge)
        self._touch()
        return index

    def set_node_attr(self, node_id: str, attr: str, value: Any) -> None:
        node = self.nodes[node_id]
        if attr == "params":
            node.params = _deep_copy(value)
        else:
            setattr(node, attr, value)
        self.node_changed.emit(node, attr)
        if attr != "position":  # moving a node changes nothing a check looks at
            self._touch()

    def feeding(self, node_id: str, port: str) -> Edge | None:
        """The connection into input `port` of a node, if any."""
        return next((e for e in self.edges if e.dst == node_id and e.dst_port == port), None)

    def check_connect(self, edge: Edge, replacing: Edge | None = None) -> None:
        """Raise ConnectionRefused (with the reason to show) unless `edge` can be added (once
        `replacing`, which it would take the place of, is gone)."""
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            raise ConnectionRefused("both ends of a connection must be nodes of this graph")
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        if has_spec(src.type) and get_spec(src.type).is_output:
            raise ConnectionRefused(f"{src.name} is an output; nothing can follow it")
        if edge.src == edge.dst:
            raise ConnectionRefused("a node cannot feed itself")
        ports = self.input_ports(edge.dst)
        if edge.dst_port not in ports:
            if not ports:
                raise ConnectionRefused(f"{dst.name} has no inputs")
            raise ConnectionRefused(
                f"{dst.name} has no input port {edge.dst_port!r} (ports: {', '.join(ports)})"
            )
        for e in self.edges:
            if e.dst == edge.dst and e.dst_port == edge.dst_port and e != replacing:
                raise ConnectionRefused(
                    f"input {edge.dst_port!r} of {dst.name} is already fed by "
                    f"{self.nodes[e.src].name}; disconnect it first"
                )
        if self._reaches(edge.dst, edge.src, replacing):
            raise ConnectionRefused(f"connecting {src.name} to {dst.name} would make a cycle")

    def _reaches(self, start: str, goal: str, skipping: Edge | None) -> bool:
        """Is there a path of connections from `start` to `goal` (without `skipping`)?"""
        after: dict[str, list[str]] = {}
        for e in self.edges:
            if e != skipping:
                after.setdefault(e.src, []).append(e.dst)
        seen, todo = {start}, [start]
        while todo:
            for nxt in after.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False


class BlockDef(Graph):
    """A user's custom block: an inner graph whose BlockInput nodes are its input ports."""

    def __init__(
        self, name: str, description: str = "", library: dict[str, BlockDef] | None = None
    ) -> None:
        super().__init__()
        self.name = name
        self.description = description
        if library is not None:  # the design's blocks, which its own Block nodes refer to
            self.library = library

    def input_nodes(self) -> list[Node]:
        inputs = [n for n in self.nodes.values() if n.type == "BlockInput"]
        return sorted(inputs, key=lambda n: n.params.get("index", 0))

    def port_names(self) -> list[str]:
        return block_ports(len(self.input_nodes()))


def block_ports(count: int) -> list[str]:
    """The input ports of a custom block with `count` inputs: in1, in2, ..."""
    return [f"in{i + 1}" for i in range(count)]


class Design(Graph):
    """A whole network: the graph plus its input, task and custom block definitions."""

    TASKS = ("classification", "regression")

    def __init__(
        self,
        name: str = "Untitled",
        *,
        description: str = "",
        input_shape: tuple[int, ...] = (1, 28, 28),
        task: str = "classification",
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.name = name
        self.description = description
        self.input_shape = tuple(input_shape)
        self.task = task
        self.num_classes = num_classes
        self.blocks: dict[str, BlockDef] = {}
        self.metadata: dict[str, Any] = {}  # free-form (template info, training defaults)

    @property
    def library(self) -> dict[str, BlockDef]:
        return self.blocks

    def set_setting(self, attr: str, value: Any) -> None:
        if attr == "input_shape":
            value = tuple(value)
        setattr(self, attr, value)
        self._touch()

    def set_block(self, name: str, block: BlockDef | None) -> None:
        if block is None:
            self.blocks.pop(name, None)
        else:
            block.library = self.blocks
            self.blocks[name] = block
        self._touch()

    def graph_of(self, path: Iterable[str] = ()) -> Graph:
        """The graph at a breadcrumb path of custom-block names ('' = the design itself)."""
        graph: Graph = self
        for name in path:
            graph = self.blocks[name]
        return graph
