"""Carry a design's weights across a transfer-learning edit (designer.core.transfer).

Weights follow the nodes, by node id: a node the edit kept gets its tensors back under its (new)
module name; a node the edit made fresh (a new head, an added block) starts from the compiled
module's initialization; the layers fed by the input get their weights adapted when the input's
channels change (3 -> 1: summed over the colour channels, which equals feeding the gray image
three times; 1 -> 3: copied and divided by 3). Anything else that no longer fits is refused,
naming the node and the tensor; nothing is half-carried.
"""

from __future__ import annotations

from designer.core.transfer import TransferEdit
from designer.interop.weights import WeightsError


def _adapt_channels(t, want: tuple[int, ...], channels: tuple[int, int]):
    old_c, new_c = channels
    if (
        t.dim() != 4
        or t.shape[1] != old_c
        or len(want) != 4
        or want[1] != new_c
        or tuple(t.shape[:1]) + tuple(t.shape[2:]) != want[:1] + want[2:]
    ):
        return None
    return t.sum(1, keepdim=True) if new_c == 1 else t.repeat(1, new_c, 1, 1) / new_c


def carry_weights(old_design, old_tensors: dict, new_design, edit: TransferEdit) -> dict:
    """A complete state_dict for `new_design` (the edited copy of `old_design`)."""
    from designer.codegen import compile_design, generate

    old_code, new_code = generate(old_design), generate(new_design)
    fresh_module = compile_design(new_design, new_code)
    node_of = {attr: nid for nid, attr in new_code.module_names.items()}
    carried = {}
    for key, value in fresh_module.state_dict().items():
        attr, _, rest = key.partition(".")
        nid = node_of[attr]
        old_node = old_design.nodes.get(nid)
        if (
            nid in edit.fresh
            or old_node is None
            or nid not in old_code.module_names
            or old_node.type != new_design.nodes[nid].type
        ):
            carried[key] = value
            continue
        name = new_design.nodes[nid].name
        old_key = f"{old_code.module_names[nid]}.{rest}"
        if old_key not in old_tensors:
            raise WeightsError(f"the weights have no tensor '{old_key}' for {name}")
        t = old_tensors[old_key]
        if tuple(t.shape) != tuple(value.shape):
            adapted = None
            if nid in edit.input_nodes and edit.input_channels:
                adapted = _adapt_channels(t, tuple(value.shape), edit.input_channels)
            if adapted is None:
                raise WeightsError(
                    f"{name}: its tensor '{old_key}' has shape {tuple(t.shape)} but after the "
                    f"change it needs {tuple(value.shape)}; cut the design before {name} or "
                    "replace that layer"
                )
            t = adapted
        carried[key] = t.detach().clone().to(value.dtype)
    return carried


def write_carried_weights(old_design, source, new_design, edit: TransferEdit, target) -> None:
    """Read ``old_design``'s weights file ``source``, carry them across ``edit`` and write
    ``new_design``'s weights to ``target`` (checked to load with strict=True; atomic). Raises
    WeightsError or OSError. `netdesigner transfer` and the app's transfer actions come here."""
    from pathlib import Path

    from designer.interop.torchvision_weights import load_design_weights, save_design_weights

    old_tensors = load_design_weights(old_design, source)
    tensors = carry_weights(old_design, old_tensors, new_design, edit)
    save_design_weights(new_design, tensors, target, metadata={"source": Path(source).name})
