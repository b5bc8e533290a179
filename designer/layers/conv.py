"""Convolutions: Conv2d and ConvTranspose2d."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.params import Bool, Int, Padding, Size, pair
from designer.core.registry import LayerSpec, register_layer, shape_str
from designer.layers._util import call, conv_out, need_image, size_src


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise ShapeError(f"input channels {c_in} are not divisible by groups {groups}", "groups")
    if c_out % groups:
        raise ShapeError(f"out_channels {c_out} is not divisible by groups {groups}", "groups")


@register_layer
class Conv2d(LayerSpec):
    type = "Conv2d"
    title = "Convolution 2D"
    category = "Convolution"
    fresh_output = True
    help = (
        "Slides out_channels learned kernels over the image. Padding 'same' keeps H x W (stride 1)."
    )
    params = (
        Int("out_channels", 16, "Number of filters (output channels).", min=1),
        Size("kernel_size", 3, "Kernel height and width."),
        Size("stride", 1, "Step between kernel positions."),
        Padding(
            "padding", 0, "Zeros added on each side; 'same' keeps the size, 'valid' adds none."
        ),
        Size("dilation", 1, "Spacing between kernel elements."),
        Int("groups", 1, "Split channels into groups (groups = channels is depthwise).", min=1),
        Bool("bias", True, "Learn a bias per filter (not needed before BatchNorm)."),
    )

    def infer_shape(self, p, in_shapes):
        c, h, w = need_image(self.title, in_shapes[0])
        _check_groups(c, p["out_channels"], p["groups"])
        k, s, d = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
        pad = p["padding"]
        if pad == "same":
            if s != (1, 1):
                raise ShapeError("padding 'same' needs stride 1; use a number instead", "padding")
            return (p["out_channels"], h, w)
        pad = (0, 0) if pad == "valid" else pair(pad)
        for size, kk, pp, dd, axis in (
            (h, k[0], pad[0], d[0], "height"),
            (w, k[1], pad[1], d[1], "width"),
        ):
            if dd * (kk - 1) + 1 > size + 2 * pp:
                raise ShapeError(
                    f"kernel {shape_str(k)} is larger than its input {h} x {w} "
                    f"(padding {shape_str(pad)}, {axis}); use a smaller kernel or more padding",
                    "kernel_size",
                )
        return (
            p["out_channels"],
            conv_out(h, k[0], s[0], pad[0], d[0]),
            conv_out(w, k[1], s[1], pad[1], d[1]),
        )

    def count_params(self, p, in_shapes):
        c_in = in_shapes[0][0]
        kh, kw = pair(p["kernel_size"])
        weights = p["out_channels"] * (c_in // p["groups"]) * kh * kw
        return weights + (p["out_channels"] if p["bias"] else 0), 0

    def macs(self, p, in_shapes, out_shape):
        c_in = in_shapes[0][0]
        kh, kw = pair(p["kernel_size"])
        return out_shape[0] * out_shape[1] * out_shape[2] * (c_in // p["groups"]) * kh * kw

    def emit_module(self, p, in_shapes):
        pad = p["padding"]
        if pad == "valid" or pad == 0:
            pad_src = None
        elif pad == "same":
            pad_src = "'same'"
        else:
            pad_src = size_src(pad)
        return call(
            "nn.Conv2d",
            in_shapes[0][0],
            p["out_channels"],
            kernel_size=size_src(p["kernel_size"]),
            stride=None if pair(p["stride"]) == (1, 1) else size_src(p["stride"]),
            padding=pad_src,
            dilation=None if pair(p["dilation"]) == (1, 1) else size_src(p["dilation"]),
            groups=None if p["groups"] == 1 else p["groups"],
            bias=None if p["bias"] else False,
        )

    def summary_text(self, p):
        k = pair(p["kernel_size"])
        text = f"{p['out_channels']}, {k[0]}x{k[1]}"
        if pair(p["stride"]) != (1, 1):
            text += f", /{size_src(p['stride'])}"
        if p["groups"] != 1:
            text += f", g{p['groups']}"
        return text


@register_layer
class ConvTranspose2d(LayerSpec):
    type = "ConvTranspose2d"
    title = "Transposed convolution 2D"
    category = "Convolution"
    fresh_output = True
    help = "Learned upsampling (a 'deconvolution'), as in encoder-decoder networks like SegNet."
    params = (
        Int("out_channels", 16, "Number of output channels.", min=1),
        Size("kernel_size", 2, "Kernel height and width."),
        Size("stride", 2, "Upsampling factor."),
        Size("padding", 0, "Removed from each side of the output.", min=0),
        Size("output_padding", 0, "Added to one side of the output (must be < stride).", min=0),
        Size("dilation", 1, "Spacing between kernel elements."),
        Int("groups", 1, "Split channels into groups.", min=1),
        Bool("bias", True, "Learn a bias per output channel."),
    )

    def infer_shape(self, p, in_shapes):
        c, h, w = need_image(self.title, in_shapes[0])
        _check_groups(c, p["out_channels"], p["groups"])
        k, s, pad = pair(p["kernel_size"]), pair(p["stride"]), pair(p["padding"])
        op, d = pair(p["output_padding"]), pair(p["dilation"])
        if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
            raise ShapeError(
                "output_padding must be smaller than stride or dilation", "output_padding"
            )
        return (
            p["out_channels"],
            (h - 1) * s[0] - 2 * pad[0] + d[0] * (k[0] - 1) + op[0] + 1,
            (w - 1) * s[1] - 2 * pad[1] + d[1] * (k[1] - 1) + op[1] + 1,
        )

    def count_params(self, p, in_shapes):
        kh, kw = pair(p["kernel_size"])
        weights = in_shapes[0][0] * (p["out_channels"] // p["groups"]) * kh * kw
        return weights + (p["out_channels"] if p["bias"] else 0), 0

    def macs(self, p, in_shapes, out_shape):
        c, h, w = in_shapes[0]
        kh, kw = pair(p["kernel_size"])
        return h * w * c * (p["out_channels"] // p["groups"]) * kh * kw

    def emit_module(self, p, in_shapes):
        def opt(name, default):
            return None if pair(p[name]) == default else size_src(p[name])

        return call(
            "nn.ConvTranspose2d",
            in_shapes[0][0],
            p["out_channels"],
            kernel_size=size_src(p["kernel_size"]),
            stride=opt("stride", (1, 1)),
            padding=opt("padding", (0, 0)),
            output_padding=opt("output_padding", (0, 0)),
            groups=None if p["groups"] == 1 else p["groups"],
            bias=None if p["bias"] else False,
            dilation=opt("dilation", (1, 1)),
        )

    def summary_text(self, p):
        k = pair(p["kernel_size"])
        return f"{p['out_channels']}, {k[0]}x{k[1]}, x{size_src(p['stride'])}"
