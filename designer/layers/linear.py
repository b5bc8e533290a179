"""Fully connected layers and reshaping: Linear, Flatten, Reshape, Permute."""

from __future__ import annotations

import math

from designer.core.errors import ShapeError
from designer.core.params import Bool, Int, IntList
from designer.core.registry import LayerSpec, register_layer, shape_str
from designer.layers._util import call


@register_layer
class Linear(LayerSpec):
    type = "Linear"
    title = "Linear (fully connected)"
    category = "Linear"
    fresh_output = True
    help = "Every output is a learned weighted sum of all inputs (Keras: Dense)."
    params = (
        Int("out_features", 10, "Number of outputs.", min=1),
        Bool("bias", True, "Learn a bias per output."),
        Bool(
            "last_dim",
            False,
            "Act on the last dimension of a bigger input, at every position (each pixel's "
            "channels after a channels-last Permute, as ConvNeXt does); off: the input is flat.",
        ),
    )

    def infer_shape(self, p, in_shapes):
        shape = in_shapes[0]
        if p["last_dim"]:
            return (*shape[:-1], p["out_features"])
        if len(shape) != 1:
            raise ShapeError(
                f"Linear needs a flat input (N features) but gets the {len(shape) + 1}-D tensor "
                f"N x {shape_str(shape)}; add Flatten or GlobalAvgPool before it"
            )
        return (p["out_features"],)

    def count_params(self, p, in_shapes):
        n = in_shapes[0][-1]
        return n * p["out_features"] + (p["out_features"] if p["bias"] else 0), 0

    def macs(self, p, in_shapes, out_shape):
        return math.prod(in_shapes[0]) * p["out_features"]

    def emit_module(self, p, in_shapes):
        return call(
            "nn.Linear", in_shapes[0][-1], p["out_features"], bias=None if p["bias"] else False
        )

    def summary_text(self, p):
        return str(p["out_features"])


@register_layer
class Flatten(LayerSpec):
    type = "Flatten"
    title = "Flatten"
    category = "Linear"
    help = "Turns C x H x W into one vector of C*H*W features, for Linear layers."

    def infer_shape(self, p, in_shapes):
        return (math.prod(in_shapes[0]),)

    def emit_forward(self, p, module, args, in_shapes):
        return f"torch.flatten({args[0]}, 1)"


@register_layer
class Reshape(LayerSpec):
    type = "Reshape"
    title = "Reshape"
    category = "Linear"
    help = "Gives the same values a new shape (per sample); one size may be -1 to be inferred."
    params = (
        IntList(
            "shape", [-1], "Target shape without the batch size, e.g. [16, 7, 7]; -1 = inferred."
        ),
    )

    def infer_shape(self, p, in_shapes):
        total = math.prod(in_shapes[0])
        target = list(p["shape"])
        known = math.prod(v for v in target if v != -1)
        if -1 in target:
            if total % known:
                raise ShapeError(f"cannot reshape {total} values into {target}", "shape")
            target[target.index(-1)] = total // known
        elif known != total:
            raise ShapeError(
                f"cannot reshape {shape_str(in_shapes[0])} ({total} values) into "
                f"{shape_str(target)} ({known} values)",
                "shape",
            )
        return tuple(target)

    def emit_forward(self, p, module, args, in_shapes):
        dims = ", ".join(map(str, self.infer_shape(p, in_shapes)))
        return f"{args[0]}.reshape({args[0]}.size(0), {dims})"


@register_layer
class Permute(LayerSpec):
    type = "Permute"
    title = "Permute"
    category = "Linear"
    help = (
        "Reorders the dimensions of each sample, e.g. C x H x W into H x W x C (channels-last, "
        "so LayerNorm and Linear act on each pixel's channels; ConvNeXt) and back."
    )
    params = (
        IntList(
            "dims",
            [2, 3, 1],
            "The input's dimensions in their new order, numbered as PyTorch does with the batch "
            "as 0, which stays first: [2, 3, 1] makes C x H x W into H x W x C, [3, 1, 2] "
            "undoes it.",
            allow_minus_one=False,
        ),
    )

    def infer_shape(self, p, in_shapes):
        shape, dims = in_shapes[0], list(p["dims"])
        if sorted(dims) != list(range(1, len(shape) + 1)):
            raise ShapeError(
                f"dims {dims} must order the {len(shape)} dimensions of {shape_str(shape)}, "
                f"each of 1..{len(shape)} once",
                "dims",
            )
        return tuple(shape[d - 1] for d in dims)

    def emit_forward(self, p, module, args, in_shapes):
        return f"{args[0]}.permute(0, {', '.join(map(str, p['dims']))})"

    def summary_text(self, p):
        return ", ".join(map(str, p["dims"]))
