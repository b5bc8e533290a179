"""Keeping the head in step with the design's task and number of classes: the edits the editor
offers after Task or Classes changed (GoogLeNet's fc stays at 1000 outputs otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from designer.core.analysis import HEAD_OF_TASK, Analysis, analyze
from designer.core.design import Design, Node
from designer.core.registry import get_spec, has_spec


@dataclass(frozen=True)
class HeadFix:
    node_id: str
    field_name: str  # a SetNodeAttr field: "type" or "params.out_features" / "params.out_channels"
    value: Any
    text: str  # what it does, for the question ("set fc's out_features to 10")


def head_node(design: Design) -> Node | None:
    for n in design.nodes.values():
        if has_spec(n.type) and get_spec(n.type).role == "output":
            return n
    return None


def scores_node(design: Design, analysis: Analysis, head: Node) -> Node | None:
    """The Linear or Conv2d computing the class scores, reached from the head through
    parameter-free layers; None when another kind of layer is in between."""
    nid = head.id
    while True:
        feeds = design.in_edges(nid)
        if len(feeds) != 1 or feeds[0].src not in design.nodes:
            return None
        src = design.nodes[feeds[0].src]
        if src.type in ("Linear", "Conv2d"):
            return src
        info = analysis.info.get(src.id)
        if info is None or info.trainable_params or info.buffer_params or not info.in_shapes:
            return None
        nid = src.id


def head_fixes(design: Design, analysis: Analysis | None = None) -> list[HeadFix]:
    """What makes the head match the task and the number of classes (empty when it does or when
    there is no clear single change to offer)."""
    res = analysis or analyze(design)
    head = head_node(design)
    if head is None:
        return []
    fixes = []
    wanted = HEAD_OF_TASK.get(design.task)
    if wanted is not None and head.type != wanted:
        fixes.append(
            HeadFix(head.id, "type", wanted, f"make {head.name} a {get_spec(wanted).title.lower()}")
        )
    if design.task != "classification":
        return fixes
    scores = scores_node(design, res, head)
    if scores is None:
        return fixes
    key = "out_features" if scores.type == "Linear" else "out_channels"
    spec = get_spec(scores.type)
    current = spec.resolve(scores.params).get(key)
    if current != design.num_classes:
        fixes.append(
            HeadFix(
                scores.id,
                f"params.{key}",
                design.num_classes,
                f"set {scores.name}'s {key} to {design.num_classes}",
            )
        )
    return fixes
