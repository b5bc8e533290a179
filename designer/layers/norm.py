"""Normalization: BatchNorm (1-D or 2-D from the input), LayerNorm (over the whole sample or its
last dimension), LayerNorm2d (over an image's channels), GroupNorm, InstanceNorm, LRN."""

from __future__ import annotations

import math

from designer.core.errors import ShapeError
from designer.core.params import Bool, Choice, Float, Int
from designer.core.registry import LayerSpec, register_layer, shape_str
from designer.layers import module_source
from designer.layers._util import call, need_image

_EPS = Float(
    "eps", 1e-5, "Added to the variance for numerical stability.", min=0.0, min_exclusive=True
)


def _eps_kw(p):
    return None if p["eps"] == 1e-5 else repr(float(p["eps"]))


class _Norm(LayerSpec):
    fresh_output = True

    def summary_text(self, p):
        return ""  # eps and momentum are rarely what a label should show


@register_layer
class BatchNorm(_Norm):
    type = "BatchNorm"
    title = "Batch normalization"
    category = "Normalization"
    help = (
        "Normalizes each channel with the batch's mean and variance while training and with "
        "running averages at test time (BatchNorm2d for images, BatchNorm1d for vectors)."
    )
    params = (
        _EPS,
        Float(
            "momentum", 0.1, "Weight of the newest batch in the running averages.", min=0.0, max=1.0
        ),
        Bool("affine", True, "Learn a scale and shift per channel."),
    )

    def infer_shape(self, p, in_shapes):
        if len(in_shapes[0]) not in (1, 3):
            raise ShapeError(
                f"BatchNorm needs C x H x W or N features, not {shape_str(in_shapes[0])}"
            )
        return in_shapes[0]

    def count_params(self, p, in_shapes):
        c = in_shapes[0][0]
        return (2 * c if p["affine"] else 0), 2 * c  # running mean and var are non-trainable

    def emit_module(self, p, in_shapes):
        ctor = "nn.BatchNorm2d" if len(in_shapes[0]) == 3 else "nn.BatchNorm1d"
        return call(
            ctor,
            in_shapes[0][0],
            eps=_eps_kw(p),
            momentum=None if p["momentum"] == 0.1 else repr(float(p["momentum"])),
            affine=None if p["affine"] else "False",
        )


@register_layer
class LayerNorm(_Norm):
    type = "LayerNorm"
    title = "Layer normalization"
    category = "Normalization"
    help = (
        "Normalizes each sample over all its features (C x H x W), or over its last dimension "
        "only (each pixel's channels after a channels-last Permute); independent of the batch."
    )
    params = (
        _EPS,
        Bool("elementwise_affine", True, "Learn a scale and shift per element."),
        Choice(
            "over",
            "all",
            "all: the whole sample; last: its last dimension, at every position (nn.LayerNorm of "
            "the last size, as ConvNeXt and transformers use it).",
            options=("all", "last"),
        ),
    )

    def _normalized(self, p, shape):
        return list(shape) if p["over"] == "all" else [shape[-1]]

    def count_params(self, p, in_shapes):
        n = math.prod(self._normalized(p, in_shapes[0]))
        return (2 * n if p["elementwise_affine"] else 0), 0

    def emit_module(self, p, in_shapes):
        shape = self._normalized(p, in_shapes[0])
        return call(
            "nn.LayerNorm",
            shape if p["over"] == "all" else shape[0],
            eps=_eps_kw(p),
            elementwise_affine=None if p["elementwise_affine"] else "False",
        )


@register_layer
class LayerNorm2d(_Norm):
    type = "LayerNorm2d"
    title = "Layer normalization over channels"
    category = "Normalization"
    help = (
        "Normalizes the channels of each pixel of an image (C values), with a learned scale and "
        "shift per channel; independent of the batch (ConvNeXt's stem and downsampling)."
    )
    params = (_EPS, Bool("elementwise_affine", True, "Learn a scale and shift per channel."))

    def infer_shape(self, p, in_shapes):
        return need_image(self.title, in_shapes[0])

    def count_params(self, p, in_shapes):
        return (2 * in_shapes[0][0] if p["elementwise_affine"] else 0), 0

    def support_classes(self):
        return module_source.class_sources(self.type)

    def emit_module(self, p, in_shapes):
        return call(
            "LayerNorm2d",
            in_shapes[0][0],
            eps=_eps_kw(p),
            elementwise_affine=None if p["elementwise_affine"] else "False",
        )


@register_layer
class GroupNorm(LayerSpec):
    type = "GroupNorm"
    fresh_output = True
    title = "Group normalization"
    category = "Normalization"
    help = "Normalizes groups of channels per sample; works with small batches."
    params = (
        Int("num_groups", 2, "Number of channel groups (must divide the channels).", min=1),
        _EPS,
        Bool("affine", True, "Learn a scale and shift per channel."),
    )

    def infer_shape(self, p, in_shapes):
        c = in_shapes[0][0]
        if len(in_shapes[0]) < 2:
            raise ShapeError("GroupNorm needs a C x H x W input; use LayerNorm for vectors")
        if c % p["num_groups"]:
            raise ShapeError(
                f"{c} channels are not divisible by num_groups {p['num_groups']}", "num_groups"
            )
        return in_shapes[0]

    def count_params(self, p, in_shapes):
        return (2 * in_shapes[0][0] if p["affine"] else 0), 0

    def summary_text(self, p):
        return f"{p['num_groups']} groups"

    def emit_module(self, p, in_shapes):
        return call(
            "nn.GroupNorm",
            p["num_groups"],
            in_shapes[0][0],
            eps=_eps_kw(p),
            affine=None if p["affine"] else "False",
        )


@register_layer
class InstanceNorm(_Norm):
    type = "InstanceNorm"
    title = "Instance normalization"
    category = "Normalization"
    help = "Normalizes each channel of each sample over its H x W (style transfer)."
    params = (_EPS, Bool("affine", False, "Learn a scale and shift per channel."))

    def infer_shape(self, p, in_shapes):
        return need_image(self.title, in_shapes[0])

    def count_params(self, p, in_shapes):
        return (2 * in_shapes[0][0] if p["affine"] else 0), 0

    def emit_module(self, p, in_shapes):
        return call(
            "nn.InstanceNorm2d",
            in_shapes[0][0],
            eps=_eps_kw(p),
            affine="True" if p["affine"] else None,
        )


@register_layer
class LocalResponseNorm(LayerSpec):
    type = "LocalResponseNorm"
    title = "Local response normalization"
    category = "Normalization"
    help = "AlexNet's NORM: divides by the activity of neighbouring channels."
    params = (
        Int("size", 5, "Number of neighbouring channels.", min=1),
        Float("alpha", 1e-4, "Scale.", min=0.0),
        Float("beta", 0.75, "Exponent.", min=0.0),
        Float("k", 2.0, "Additive constant.", min=0.0),
    )

    def infer_shape(self, p, in_shapes):
        return need_image(self.title, in_shapes[0])

    def emit_module(self, p, in_shapes):
        return call(
            "nn.LocalResponseNorm",
            p["size"],
            alpha=repr(float(p["alpha"])),
            beta=repr(float(p["beta"])),
            k=repr(float(p["k"])),
        )
