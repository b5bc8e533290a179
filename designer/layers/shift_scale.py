"""The thesis' shift and scale layers (seed 001): learned constants added to or multiplying the
input, one per element, per channel or for the whole layer; initialized to the identity."""

from __future__ import annotations

import math

from designer.core.params import Choice, Float
from designer.core.registry import LayerSpec, register_layer
from designer.layers import module_source

_MODE = Choice(
    "mode",
    "layer",
    "element: one constant per input element; channel: one per channel; "
    "layer: one for the whole layer.",
    options=("element", "channel", "layer"),
)


def _param_shape(mode: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    if mode == "element":
        return tuple(shape)
    if mode == "channel":
        return (shape[0],) + (1,) * (len(shape) - 1)
    return (1,)


class _ShiftScale(LayerSpec):
    category = "Shift / scale"
    params = (_MODE,)
    ctor = ""

    def count_params(self, p, in_shapes):
        return math.prod(_param_shape(p["mode"], in_shapes[0])), 0

    def emit_module(self, p, in_shapes):
        return f"{self.ctor}({_param_shape(p['mode'], in_shapes[0])!r})"

    def summary_text(self, p):
        return f"{p['mode']}-wise"

    def support_classes(self):
        return module_source.class_sources(self.ctor)


@register_layer
class Shift(_ShiftScale):
    type = "Shift"
    title = "Shift"
    help = (
        "Adds learned constants: per element, per channel or one for the layer (thesis, seed 001)."
    )
    ctor = "Shift"


@register_layer
class Scale(_ShiftScale):
    type = "Scale"
    title = "Scale"
    help = (
        "Multiplies by learned constants: per element, per channel or one for the layer "
        "(per channel from a small init, ConvNeXt's layer scale)."
    )
    params = (
        _MODE,
        Float(
            "init",
            1.0,
            "The constants' first value (1 = the identity; ConvNeXt's layer scale uses 1e-6).",
        ),
    )
    ctor = "Scale"

    def emit_module(self, p, in_shapes):
        shape = _param_shape(p["mode"], in_shapes[0])
        init = "" if p["init"] == 1.0 else f", init={float(p['init'])!r}"
        return f"{self.ctor}({shape!r}{init})"
