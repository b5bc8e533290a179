"""The output of one node for a batch, taken from the compiled model with forward hooks; the node
may be at the top or inside blocks (designer.viz.nodes keys).

A node with a submodule is read from its hook, and the forward pass stops right there: the
layers after it would be computed for nothing. A node without one (Flatten, Add, Concat,
Reshape, a head) is computed from its inputs' outputs with the same forward expression the
code generator writes, so it is exactly what the model computes. Inside a block, the block's
inputs are read by a pre-hook on the block's module. Captured outputs are cloned: a later
in-place ReLU would otherwise change them.
"""

from __future__ import annotations

import torch

from designer.core.registry import get_spec
from designer.viz.model import LoadedModel


class _Enough(Exception):
    """Raised from a hook once every needed output is captured, to end the forward pass."""


class NodeProbe:
    def __init__(self, model: LoadedModel, node_id: str) -> None:
        self.model = model
        self.node_id = node_id
        self.place = model.place(node_id)
        self.shape = self.place.shape
        self.container = model.container(self.place)
        self.attrs = model.attrs(self.place)
        self.graph = self.place.graph
        self._feeds: dict[str, list[str]] = {}
        self._taps: list[str] = []  # nodes with a submodule whose outputs are needed
        self._entries: dict[str, int] = {}  # input nodes -> which input of the graph they are
        self._plan(self.place.node.id)

    def _module(self, nid: str):
        attr = self.attrs.get(nid)
        module = getattr(self.container, attr, None) if attr is not None else None
        return module if isinstance(module, torch.nn.Module) else None

    def _plan(self, nid: str) -> None:
        node = self.graph.nodes[nid]
        spec = get_spec(node.type)
        if spec.is_input:
            p = spec.resolve(node.params)
            self._entries[nid] = p.get("index", 1) - 1 if spec.role == "block_input" else 0
        elif self._module(nid) is not None:
            if nid not in self._taps:
                self._taps.append(nid)
        elif nid not in self._feeds:
            p = spec.resolve(node.params)
            by_port = {e.dst_port: e.src for e in self.graph.in_edges(nid)}
            blocks = self.model.design.blocks
            self._feeds[nid] = [by_port[port] for port in spec.ports(p, blocks)]
            for src in self._feeds[nid]:
                self._plan(src)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The node's output for the batch x, shaped N x (the node's analysed shape)."""
        with torch.inference_mode():
            return self.run(x)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Like calling the probe, but under the caller's autograd mode (for gradients)."""
        got: dict[str, torch.Tensor] = {}
        entries: list[torch.Tensor] = []
        nested = self.place.nested
        if not nested and self._entries:
            entries.append(x)

        def done() -> bool:
            return all(t in got for t in self._taps) and (not self._entries or entries)

        def hook_for(nid: str):
            def hook(module, inputs, output):
                got[nid] = output.clone()
                if done():
                    raise _Enough

            return hook

        def entry_hook(module, inputs):
            entries.extend(t.clone() for t in inputs)
            if done():
                raise _Enough

        handles = [self._module(t).register_forward_hook(hook_for(t)) for t in self._taps]
        if nested and self._entries:
            handles.append(self.container.register_forward_pre_hook(entry_hook))
        try:
            if handles:
                self.model.module(x)
        except _Enough:
            pass
        finally:
            for h in handles:
                h.remove()
        for nid, index in self._entries.items():
            got[nid] = entries[index]
        out = self._value(self.place.node.id, got)
        return out.reshape(len(x), *self.shape)  # GlobalAvgPool's module gives N x C x 1 x 1

    def _value(self, nid: str, got: dict[str, torch.Tensor]) -> torch.Tensor:
        if nid in got:
            return got[nid]
        node = self.graph.nodes[nid]
        spec = get_spec(node.type)
        p = spec.resolve(node.params)
        args = {f"a{i}": self._value(src, got) for i, src in enumerate(self._feeds[nid])}
        in_shapes = self.place.analysis.info[nid].in_shapes
        expr = spec.emit_forward(p, "None", list(args), in_shapes)
        got[nid] = eval(expr, {"torch": torch}, args)  # the code generator's own expression
        return got[nid]
