"""Merging branches: Add (residual connections), Concat (Inception, DenseNet) and Multiply
(squeeze-and-excitation's channel gates)."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.params import Int
from designer.core.registry import LayerSpec, register_layer, shape_str

_NUM = Int("num_inputs", 2, "Number of input ports.", min=2, max=16)


class _Merge(LayerSpec):
    category = "Merge"
    fresh_output = True  # x + y and torch.cat keep nothing for the backward pass
    params = (_NUM,)

    def input_ports(self, p):
        return tuple(f"in{i + 1}" for i in range(p["num_inputs"]))

    def summary_text(self, p):
        return f"{p['num_inputs']} inputs"


@register_layer
class Add(_Merge):
    type = "Add"
    title = "Add"
    help = "Adds its inputs element by element; they must have the same shape (residual shortcut)."

    def infer_shape(self, p, in_shapes):
        for i, s in enumerate(in_shapes[1:], start=2):
            if s != in_shapes[0]:
                raise ShapeError(
                    f"Add needs inputs of the same shape but gets {shape_str(in_shapes[0])} (in1) "
                    f"and {shape_str(s)} (in{i}); match the channels and strides of the branches"
                )
        return in_shapes[0]

    def emit_forward(self, p, module, args, in_shapes):
        return " + ".join(args)


@register_layer
class Concat(_Merge):
    type = "Concat"
    title = "Concatenate"
    help = (
        "Stacks its inputs along the channels; heights and widths must match (Inception, DenseNet)."
    )

    def infer_shape(self, p, in_shapes):
        first = in_shapes[0]
        for i, s in enumerate(in_shapes[1:], start=2):
            if len(s) != len(first):
                raise ShapeError(
                    f"Concat cannot join {shape_str(first)} (in1) with {shape_str(s)} (in{i}); "
                    "both must be images or both flat"
                )
            if s[1:] != first[1:]:
                raise ShapeError(
                    f"Concat needs the same height and width on every input but gets "
                    f"{shape_str(first[1:])} (in1) and {shape_str(s[1:])} (in{i})"
                )
        return (sum(s[0] for s in in_shapes),) + tuple(first[1:])

    def emit_forward(self, p, module, args, in_shapes):
        return f"torch.cat([{', '.join(args)}], 1)"


@register_layer
class Multiply(LayerSpec):
    type = "Multiply"
    title = "Multiply"
    category = "Merge"
    fresh_output = True
    help = (
        "Multiplies its first input element by element by its second, which has the same shape "
        "or one value per channel (C x 1 x 1): squeeze-and-excitation's channel gates."
    )

    def input_ports(self, p):
        return ("in1", "in2")

    def infer_shape(self, p, in_shapes):
        x, g = in_shapes
        per_channel = len(g) == len(x) == 3 and g == (x[0], 1, 1)
        if g != x and not per_channel:
            raise ShapeError(
                f"Multiply needs a second input of shape {shape_str(x)} or {x[0]} x 1 x 1 (one "
                f"gate per channel) but gets {shape_str(g)}"
            )
        return x

    def emit_forward(self, p, module, args, in_shapes):
        return f"{args[0]} * {args[1]}"

    def summary_text(self, p):
        return ""
