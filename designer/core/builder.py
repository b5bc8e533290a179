"""Build graphs in code: templates and composite blocks write `x = b.add("Conv2d", x, ...)`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from designer.core.design import Edge, Graph, Node, block_ports
from designer.core.registry import get_spec


class GraphBuilder:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def add(
        self,
        type_name: str,
        inputs: str | Iterable[str] = (),
        name: str | None = None,
        **params: Any,
    ) -> str:
        """Add a node fed by `inputs` (node ids, in port order); return its id."""
        spec = get_spec(type_name)
        full = spec.resolve(params)
        srcs = [inputs] if isinstance(inputs, str) else list(inputs)
        if "num_inputs" in full and "num_inputs" not in params:  # merges size to their inputs
            full["num_inputs"] = len(srcs)
        node = Node(
            self.graph.new_id(), type_name, self.graph.unique_name(name or type_name.lower()), full
        )
        self.graph.add_node(node)
        ports = spec.ports(full, self.graph.library)
        if spec.is_custom_block and full.get("block") not in self.graph.library:
            ports = tuple(block_ports(len(srcs)))  # a definition added later, as a file may
        if len(srcs) > len(ports):
            raise ValueError(f"{type_name} takes {len(ports)} inputs, got {len(srcs)}")
        for src, port in zip(srcs, ports):
            # A new node's inputs from nodes built before it: no cycle, no port fed twice, and
            # checking each edge against the whole graph would make a 700-node build quadratic.
            self.graph.add_edge(Edge(src, node.id, port), checked=False)
        return node.id
