"""Receptive fields through a design's graph: which input pixels can affect one output unit.

Per axis the classic recurrence, from the input forward: a unit of the input covers one pixel
(r = 1, jump j = 1, start u = 0); a window of size k, stride s, padding p, dilation d gives
r' = r + (k-1)·d·j, j' = j·s, u' = u - p·j. A field is kept as a few `Span`s per axis (unit i
covers pixels lo + i·j .. hi + i·j), so merges take the union exactly: spans with the same jump
fold into one, and branches with different jumps (after an upsampling) stay side by side.
Upsampling and transposed convolutions give fractional jumps; their spans are widened to cover
every input unit the rounding may pick, and boxes round outwards, so a field never misses a pixel.

Layers without a spatial extent (activations, normalizations, dropout, shift/scale) pass the
field through. Normalizations whose statistics span the whole map (LayerNorm, GroupNorm,
InstanceNorm) count as pointwise too: the statistics touch every pixel, but only through one
mean and variance, and counting them would make every patch the whole image. After Flatten,
GlobalAvgPool, Linear, Reshape or a spatial Softmax a unit sees the whole image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from designer.core.analysis import Analysis, analyze, analyze_graph
from designer.core.design import Design, Graph
from designer.core.params import pair
from designer.core.registry import get_spec

# Categories whose layers act on each pixel (or each pixel's channels) alone.
POINTWISE_CATEGORIES = frozenset(
    {"Activation", "Normalization", "Regularization", "Shift / scale", "Input / output"}
)
WHOLE_IMAGE_TYPES = frozenset({"Flatten", "GlobalAvgPool", "Linear", "Reshape"})


@dataclass(frozen=True)
class Span:
    """Unit i of a layer covers input pixels lo + i·step .. hi + i·step (inclusive, one axis)."""

    lo: Fraction
    hi: Fraction
    step: Fraction

    def window(self, k: int, s: int, p: int | Fraction, d: int) -> Span:
        """After a window of k taps, stride s, padding p (before the first unit), dilation d:
        the recurrence u' = u - p·j, r' = r + (k-1)·d·j, j' = j·s with u = lo, r = hi - lo + 1."""
        return Span(self.lo - p * self.step, self.hi + ((k - 1) * d - p) * self.step, self.step * s)

    def resample(self, first: Fraction, last: Fraction, factor: Fraction) -> Span:
        """Output unit o reads input units o/factor + first .. o/factor + last."""
        return Span(self.lo + first * self.step, self.hi + last * self.step, self.step / factor)


@dataclass(frozen=True)
class ReceptiveField:
    """The field of one layer's units: spans per axis, or the whole input (`whole`)."""

    rows: tuple[Span, ...] = ()
    cols: tuple[Span, ...] = ()
    whole: bool = False

    @staticmethod
    def identity() -> ReceptiveField:
        one = (Span(Fraction(0), Fraction(0), Fraction(1)),)
        return ReceptiveField(one, one)

    @staticmethod
    def whole_input() -> ReceptiveField:
        return ReceptiveField(whole=True)

    def map_axes(self, fn_rows, fn_cols) -> ReceptiveField:
        if self.whole:
            return self
        return ReceptiveField(
            tuple(fn_rows(s) for s in self.rows), tuple(fn_cols(s) for s in self.cols)
        )

    def box(self, y: int, x: int, image_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) in input pixels, ends exclusive, NOT clipped to the image."""
        if self.whole:
            return (0, 0, image_hw[0], image_hw[1])
        top, bottom = _extent(self.rows, y)
        left, right = _extent(self.cols, x)
        return (top, left, bottom, right)


def _extent(spans: tuple[Span, ...], i: int) -> tuple[int, int]:
    lo = min(s.lo + i * s.step for s in spans)
    hi = max(s.hi + i * s.step for s in spans)
    return math.floor(lo), math.ceil(hi) + 1


def union(fields: list[ReceptiveField]) -> ReceptiveField:
    """The field of a merge (Add, Concat): every pixel any input's unit can see."""
    if any(f.whole for f in fields):
        return ReceptiveField.whole_input()
    return ReceptiveField(
        _fold([s for f in fields for s in f.rows]), _fold([s for f in fields for s in f.cols])
    )


def _fold(spans: list[Span]) -> tuple[Span, ...]:
    by_step: dict[Fraction, Span] = {}
    for s in spans:
        old = by_step.get(s.step)
        by_step[s.step] = s if old is None else Span(min(old.lo, s.lo), max(old.hi, s.hi), s.step)
    return tuple(by_step.values())


# -- one layer ---------------------------------------------------------------------------------
def _conv(f: ReceptiveField, p: dict, pooling: bool) -> ReceptiveField:
    k = pair(p["kernel_size"])
    if pooling:
        s = k if p["stride"] is None else pair(p["stride"])
        d = (1, 1)
        pad = pair(p["padding"])
    else:
        s, d = pair(p["stride"]), pair(p["dilation"])
        pad = p["padding"]
        if pad == "same":  # PyTorch puts the smaller half of the padding before the first unit
            pad = ((k[0] - 1) * d[0] // 2, (k[1] - 1) * d[1] // 2)
        elif pad == "valid":
            pad = (0, 0)
        else:
            pad = pair(pad)
    return f.map_axes(
        lambda sp: sp.window(k[0], s[0], pad[0], d[0]),
        lambda sp: sp.window(k[1], s[1], pad[1], d[1]),
    )


def _conv_transpose(f: ReceptiveField, p: dict) -> ReceptiveField:
    # Output o receives input unit t for each tap m with t·s - p + m·d = o, i.e.
    # t in [(o + p - (k-1)·d) / s, (o + p) / s].
    k, s, pad, d = (pair(p[n]) for n in ("kernel_size", "stride", "padding", "dilation"))

    def axis(i):
        return lambda sp: sp.resample(
            Fraction(pad[i] - (k[i] - 1) * d[i], s[i]), Fraction(pad[i], s[i]), Fraction(s[i])
        )

    return f.map_axes(axis(0), axis(1))


def _upsample(f: ReceptiveField, p: dict) -> ReceptiveField:
    n = Fraction(p["scale_factor"])
    if p["mode"] == "nearest":  # reads floor(o / n), in [o/n - (n-1)/n, o/n]
        first, last = -(n - 1) / n, Fraction(0)
    else:  # bilinear, align_corners=False: floor(src) and +1 around src = (o + 0.5)/n - 0.5
        first, last = Fraction(1, 2) / n - Fraction(3, 2), Fraction(1, 2) / n + Fraction(1, 2)
    return f.map_axes(
        lambda sp: sp.resample(first, last, n), lambda sp: sp.resample(first, last, n)
    )


def layer_field(spec, p: dict, in_fields: list[ReceptiveField]) -> ReceptiveField:
    """The field of a non-composite layer's output from the fields of its inputs."""
    t = spec.type
    if t in ("Add", "Concat"):
        return union(in_fields)
    f = in_fields[0]
    if t == "Conv2d":
        return _conv(f, p, pooling=False)
    if t in ("MaxPool2d", "AvgPool2d"):
        return _conv(f, p, pooling=True)
    if t == "ConvTranspose2d":
        return _conv_transpose(f, p)
    if t == "Upsample":
        return _upsample(f, p)
    if t == "Softmax":
        return f if p["dim"] == 1 else ReceptiveField.whole_input()
    if t in WHOLE_IMAGE_TYPES:
        return ReceptiveField.whole_input()
    if spec.category in POINTWISE_CATEGORIES or spec.is_output:
        return f
    return ReceptiveField.whole_input()  # a layer this module does not know: assume the worst


# -- whole graphs ------------------------------------------------------------------------------
def receptive_fields(design: Design, analysis: Analysis | None = None) -> dict[str, ReceptiveField]:
    """The receptive field of every top-level node of a valid design, by node id.

    A design whose input is a vector (N,) has no spatial layout: every field is the whole input.
    """
    res = analysis or analyze(design)
    entry = (
        ReceptiveField.identity() if len(design.input_shape) == 3 else ReceptiveField.whole_input()
    )
    return _graph_fields(design, res, [entry], design.blocks)


def _graph_fields(
    graph: Graph, res: Analysis, entries: list[ReceptiveField], blocks: dict
) -> dict[str, ReceptiveField]:
    feeds: dict[str, dict[str, str]] = {}
    for e in graph.edges:
        feeds.setdefault(e.dst, {})[e.dst_port] = e.src
    fields: dict[str, ReceptiveField] = {}
    for nid in res.order:
        if nid not in res.info:
            continue
        node = graph.nodes[nid]
        spec = get_spec(node.type)
        p = spec.resolve(node.params)
        if spec.is_input:
            index = p.get("index", 1) - 1 if spec.role == "block_input" else 0
            fields[nid] = entries[index]
            continue
        srcs = [feeds.get(nid, {}).get(port) for port in spec.ports(p, blocks)]
        if any(s not in fields for s in srcs):
            continue  # not connected; the analysis reports it
        in_fields = [fields[s] for s in srcs]
        if spec.is_custom_block:
            inner_graph = blocks[p["block"]]
        elif spec.composite:
            inner_graph = spec.expand(p, res.info[nid].in_shapes)
        else:
            fields[nid] = layer_field(spec, p, in_fields)
            continue
        inner = analyze_graph(inner_graph, res.info[nid].in_shapes, blocks)
        inner_fields = _graph_fields(inner_graph, inner, in_fields, blocks)
        fields[nid] = inner_fields[inner.output_id]
    return fields


def field_at(design: Design, analysis: Analysis, place) -> ReceptiveField:
    """The receptive field, in the design's input pixels, of a node anywhere: at the top, or at a
    designer.viz.nodes Place inside blocks (each block's inside sees its inputs' fields)."""
    if len(design.input_shape) != 3:
        return ReceptiveField.whole_input()
    fields = receptive_fields(design, analysis)
    for parent, level in zip(place.levels, place.levels[1:]):
        block = level.block
        spec = get_spec(block.type)
        p = spec.resolve(block.params)
        feeds = {e.dst_port: e.src for e in parent.graph.in_edges(block.id)}
        ports = spec.ports(p, design.blocks)
        entries = [fields.get(feeds.get(port)) for port in ports]
        if any(f is None for f in entries):
            return ReceptiveField.whole_input()
        fields = _graph_fields(level.graph, level.analysis, entries, design.blocks)
    return fields.get(place.node.id, ReceptiveField.whole_input())


def field_size(field: ReceptiveField) -> tuple[int, int] | None:
    """(height, width) in input pixels one unit sees, or None for the whole input."""
    if field.whole:
        return None
    top, left, bottom, right = field.box(0, 0, (1, 1))
    return bottom - top, right - left
