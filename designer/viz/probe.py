"""The output of one top-level node for a batch, taken from the compiled model with forward hooks.

A node with a submodule is read from its hook, and the forward pass stops right there: the
layers after it would be computed for nothing. A node without one (Flatten, Add, Concat,
Reshape, a head) is computed from its inputs' outputs with the same forward expression the
code generator writes, so it is exactly what the model computes.
"""

from __future__ import annotations

import torch

from designer.core.analysis import input_ports
from designer.core.registry import get_spec
from designer.viz.model import LoadedModel


class _Enough(Exception):
    """Raised from a hook once every needed output is captured, to end the forward pass."""


class NodeProbe:
    def __init__(self, model: LoadedModel, node_id: str) -> None:
        self.model = model
        self.node_id = node_id
        self.shape = model.analysis.info[node_id].shape
        self._feeds: dict[str, list[str]] = {}
        self._taps: list[str] = []  # nodes with a submodule whose outputs are needed
        self._needs_input = False
        self._plan(node_id)

    def _plan(self, nid: str) -> None:
        design = self.model.design
        node = design.nodes[nid]
        spec = get_spec(node.type)
        if spec.role == "input":
            self._needs_input = True
        elif self.model.attr(nid) is not None:
            if nid not in self._taps:
                self._taps.append(nid)
        elif nid not in self._feeds:
            p = spec.resolve(node.params)
            by_port = {e.dst_port: e.src for e in design.in_edges(nid)}
            self._feeds[nid] = [by_port[port] for port in input_ports(node, spec, p, design.blocks)]
            for src in self._feeds[nid]:
                self._plan(src)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The node's output for the batch x, shaped N x (the node's analysed shape)."""
        with torch.inference_mode():
            return self.run(x)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Like calling the probe, but under the caller's autograd mode (for gradients)."""
        got: dict[str, torch.Tensor] = {}
        if self._needs_input:
            got[self.model.analysis.input_id] = x

        def hook_for(nid: str):
            def hook(module, inputs, output):
                got[nid] = output
                if all(t in got for t in self._taps):
                    raise _Enough
            return hook

        handles = [self.model.submodule(t).register_forward_hook(hook_for(t)) for t in self._taps]
        try:
            if self._taps:
                self.model.module(x)
        except _Enough:
            pass
        finally:
            for h in handles:
                h.remove()
        out = self._value(self.node_id, got)
        return out.reshape(len(x), *self.shape)  # GlobalAvgPool's module gives N x C x 1 x 1

    def _value(self, nid: str, got: dict[str, torch.Tensor]) -> torch.Tensor:
        if nid in got:
            return got[nid]
        node = self.model.design.nodes[nid]
        spec = get_spec(node.type)
        p = spec.resolve(node.params)
        args = {f"a{i}": self._value(src, got) for i, src in enumerate(self._feeds[nid])}
        in_shapes = self.model.analysis.info[nid].in_shapes
        expr = spec.emit_forward(p, "None", list(args), in_shapes)
        got[nid] = eval(expr, {"torch": torch}, args)  # the code generator's own expression
        return got[nid]
