"""Pooling and resampling: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, GlobalAvgPool, Upsample."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.params import Bool, Choice, Int, OptionalInt, Size, pair
from designer.core.registry import LayerSpec, register_layer, shape_str
from designer.layers._util import call, conv_out, need_image, size_src


class _Pool2d(LayerSpec):
    category = "Pooling"
    fresh_output = True
    ctor = ""

    def _window(self, p):
        k = pair(p["kernel_size"])
        s = k if p["stride"] is None else pair(p["stride"])
        return k, s, pair(p["padding"])

    def infer_shape(self, p, in_shapes):
        c, h, w = need_image(self.title, in_shapes[0])
        k, s, pad = self._window(p)
        if pad[0] > k[0] // 2 or pad[1] > k[1] // 2:
            raise ShapeError("padding must be at most half the kernel size", "padding")
        if k[0] > h + 2 * pad[0] or k[1] > w + 2 * pad[1]:
            raise ShapeError(
                f"kernel {shape_str(k)} is larger than its input {h} x {w}; "
                "use a smaller kernel or remove a pooling layer before it",
                "kernel_size",
            )
        ceil = p["ceil_mode"]
        return (
            c,
            conv_out(h, k[0], s[0], pad[0], 1, ceil),
            conv_out(w, k[1], s[1], pad[1], 1, ceil),
        )

    def _kwargs(self, p):
        return {
            "kernel_size": size_src(p["kernel_size"]),
            "stride": None if p["stride"] is None else size_src(p["stride"]),
            "padding": None if pair(p["padding"]) == (0, 0) else size_src(p["padding"]),
            "ceil_mode": "True" if p["ceil_mode"] else None,
        }

    def emit_module(self, p, in_shapes):
        return call(self.ctor, **self._kwargs(p))

    def summary_text(self, p):
        k = pair(p["kernel_size"])
        _, s, _ = self._window(p)
        return f"{k[0]}x{k[1]}, /{s[0] if s[0] == s[1] else s}"


_POOL_PARAMS = (
    Size("kernel_size", 2, "Window height and width."),
    OptionalInt("stride", None, "Step between windows (empty = the kernel size).", min=1),
    Size("padding", 0, "Padding on each side (at most half the kernel).", min=0),
    Bool("ceil_mode", False, "Round the output size up instead of down (GoogLeNet)."),
)


@register_layer
class MaxPool2d(_Pool2d):
    type = "MaxPool2d"
    title = "Max pooling 2D"
    help = (
        "Keeps the largest value in each window: downsamples and adds some translation invariance."
    )
    params = _POOL_PARAMS
    ctor = "nn.MaxPool2d"


@register_layer
class AvgPool2d(_Pool2d):
    type = "AvgPool2d"
    title = "Average pooling 2D"
    help = "Averages each window."
    params = _POOL_PARAMS + (
        Bool("count_include_pad", True, "Count padding zeros in the average."),
    )
    ctor = "nn.AvgPool2d"

    def _kwargs(self, p):
        kw = super()._kwargs(p)
        kw["count_include_pad"] = None if p["count_include_pad"] else "False"
        return kw


@register_layer
class AdaptiveAvgPool2d(LayerSpec):
    type = "AdaptiveAvgPool2d"
    title = "Adaptive average pooling 2D"
    category = "Pooling"
    help = (
        "Averages the image down to a fixed output size whatever the input size (AlexNet's "
        "and VGG's 6 x 6 / 7 x 7 before the classifier)."
    )
    params = (Size("output_size", 1, "Output height and width."),)

    def infer_shape(self, p, in_shapes):
        c, _, _ = need_image(self.title, in_shapes[0])
        return (c, *pair(p["output_size"]))

    def emit_module(self, p, in_shapes):
        return call("nn.AdaptiveAvgPool2d", size_src(p["output_size"]))

    def summary_text(self, p):
        h, w = pair(p["output_size"])
        return f"{h}x{w}"


@register_layer
class GlobalAvgPool(LayerSpec):
    type = "GlobalAvgPool"
    title = "Global average pooling"
    category = "Pooling"
    help = (
        "Averages each channel over the whole image: C x H x W becomes C features (ResNet's head)."
    )

    def infer_shape(self, p, in_shapes):
        c, _, _ = need_image(self.title, in_shapes[0])
        return (c,)

    def emit_module(self, p, in_shapes):
        return "nn.AdaptiveAvgPool2d((1, 1))"

    def emit_forward(self, p, module, args, in_shapes):
        return f"torch.flatten({module}({args[0]}), 1)"


@register_layer
class Upsample(LayerSpec):
    type = "Upsample"
    title = "Upsample"
    category = "Pooling"
    help = "Enlarges the image by a whole factor (nearest neighbour or bilinear)."
    params = (
        Int("scale_factor", 2, "How many times larger.", min=1, max=64),
        Choice("mode", "nearest", "How new pixels are filled.", options=("nearest", "bilinear")),
    )

    def infer_shape(self, p, in_shapes):
        c, h, w = need_image(self.title, in_shapes[0])
        return (c, h * p["scale_factor"], w * p["scale_factor"])

    def emit_module(self, p, in_shapes):
        align = "False" if p["mode"] == "bilinear" else None
        return call(
            "nn.Upsample",
            scale_factor=float(p["scale_factor"]),
            mode=repr(p["mode"]),
            align_corners=align,
        )

    def summary_text(self, p):
        return f"x{p['scale_factor']}, {p['mode']}"
