"""The Keras-style summary: per layer name, type, output shape, params, trainable; totals and MACs.

Counted as Keras does: BatchNorm's moving mean and variance are non-trainable parameters, and so
is every parameter of a frozen node."""

from __future__ import annotations

from dataclasses import dataclass

from designer.core.analysis import Analysis, analyze
from designer.core.design import Design
from designer.core.registry import Shape, get_spec, has_spec


@dataclass
class LayerRow:
    node_id: str
    name: str
    type: str
    output_shape: Shape | None
    params: int
    trainable: bool
    macs: int | None = None  # None while the shape is unknown


@dataclass
class Summary:
    name: str
    input_shape: Shape
    output_shape: Shape | None
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    # Some shapes are unknown (the design has problems): the totals are of the layers whose
    # shapes are known, a lower bound.
    partial: bool = False

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "layers": [
                {
                    "name": r.name,
                    "type": r.type,
                    "output_shape": None if r.output_shape is None else list(r.output_shape),
                    "params": r.params,
                    "trainable": r.trainable,
                }
                for r in self.rows
            ],
        }


def summarize(design: Design, analysis: Analysis | None = None) -> Summary:
    res = analysis or analyze(design)
    rows = []
    trainable = non_trainable = macs = 0
    count_all = not res.ok
    order = res.order or list(design.nodes)
    for nid in order:
        node = design.nodes[nid]
        if has_spec(node.type) and get_spec(node.type).role == "input":
            continue
        info = res.info.get(nid)
        learned = info.trainable_params if info else 0
        buffers = info.buffer_params if info else 0
        rows.append(
            LayerRow(
                nid,
                node.name,
                node.type,
                info.shape if info else None,
                learned + buffers,
                node.trainable,
                info.macs if info else None,
            )
        )
        # A dead branch costs nothing; while there are problems the head may be unreachable,
        # so every layer whose shape is known counts.
        if info and (count_all or not res.live or nid in res.live):
            if node.trainable:
                trainable += learned
            else:
                non_trainable += learned
            non_trainable += buffers
            macs += info.macs
    out = res.shape(res.output_id) if res.output_id else None
    partial = not res.order or any(r.output_shape is None for r in rows)
    return Summary(
        design.name,
        tuple(design.input_shape),
        out,
        rows,
        trainable + non_trainable,
        trainable,
        non_trainable,
        macs,
        partial,
    )


def human(n: int) -> str:
    """1234567 -> '1.23M' for status bars."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def format_table(s: Summary) -> str:
    def shape(sh):
        return "?" if sh is None else "(None, " + ", ".join(map(str, sh)) + ")"

    header = ("Layer (type)", "Output Shape", "Param #", "Trainable")
    body = [
        (
            f"{r.name} ({r.type})",
            shape(r.output_shape),
            f"{r.params:,}",
            "yes" if r.trainable else "no",
        )
        for r in s.rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) + 2 for i in range(4)]
    rule = "=" * sum(widths)
    lines = [
        f'Model: "{s.name}"',
        rule,
        "".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
        rule,
    ]
    for row in body:
        lines.append("".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines += [
        rule,
        f"Total params: {s.total_params:,}",
        f"Trainable params: {s.trainable_params:,}",
        f"Non-trainable params: {s.non_trainable_params:,}",
        f"MACs per sample: {s.macs:,} ({human(s.macs)})",
        rule,
    ]
    return "\n".join(lines)
