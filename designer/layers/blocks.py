"""Composite blocks: one node on the canvas, an inner graph built from its params.

Each block's structure follows the paper and torchvision's implementation, so the standard
architectures built from them match torchvision layer for layer. Generated code builds a block
with its class in block_modules.py, named after the block type: the same network as the inner
graph, written the way torchvision writes it.
"""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import Graph
from designer.core.errors import ShapeError
from designer.core.params import Bool, Choice, Float, Int, OptionalInt, Size
from designer.core.registry import LayerSpec, register_layer
from designer.layers import module_source
from designer.layers._util import need_image


class _Block(LayerSpec):
    category = "Blocks"
    composite = True
    # Blocks that repeat to form a stage (ResNet's layer1...); designer.core.transfer finds
    # stages by this and changes their depth.
    repeatable = False

    def infer_shape(self, p, in_shapes):  # the analysis uses the inner graph; this checks input
        return need_image(self.title, in_shapes[0])

    def expand(self, p, in_shapes):
        self.infer_shape(p, in_shapes)  # what a block refuses, before its inner graph
        g = Graph()
        b = GraphBuilder(g)
        x = b.add("BlockInput", name="input", index=1)
        out = self.build(b, x, p, in_shapes[0])
        b.add("BlockOutput", out, name="output")
        return g

    def build(self, b: GraphBuilder, x: str, p: dict, in_shape) -> str:
        raise TypeError  # every block defines its structure

    # -- code: the block's own class, constructed from the input channels and the params -------
    def emit_module(self, p, in_shapes):
        return module_source.constructor_call(self.type, {"in_channels": in_shapes[0][0], **p})

    def support_classes(self):
        return module_source.class_sources(self.type)


def conv_bn_relu(
    b, x, out, k, name, stride=1, padding=0, groups=1, act="ReLU", bn_eps=1e-5, momentum=0.1
):
    """The conv -> BatchNorm -> activation unit that torchvision calls Conv2dNormActivation."""
    x = b.add(
        "Conv2d",
        x,
        name=name,
        out_channels=out,
        kernel_size=k,
        stride=stride,
        padding=padding,
        groups=groups,
        bias=False,
    )
    x = b.add("BatchNorm", x, name=name.replace("conv", "bn"), eps=bn_eps, momentum=momentum)
    return b.add(act, x, name=name.replace("conv", "relu")) if act else x


_ACTIVATIONS = ("ReLU", "ReLU6", "Hardswish", "SiLU", "none")
_MOMENTUM = Float(
    "momentum",
    0.1,
    "BatchNorm's momentum, the newest batch's weight in its running averages (MobileNetV3: 0.01).",
    min=0.0,
    max=1.0,
)


@register_layer
class ConvBNAct(_Block):
    type = "ConvBNAct"
    title = "Conv-BN-activation"
    help = (
        "A convolution without bias, BatchNorm and an activation as one unit (torchvision's "
        "Conv2dNormActivation, GoogLeNet's BasicConv2d, MobileNet's stem)."
    )
    params = (
        Int("out_channels", 32, "Output channels.", min=1),
        Size("kernel_size", 3, "Kernel size: one number, or [height, width] (Inception's 1x7)."),
        Int("stride", 1, "Step between kernel positions.", min=1),
        OptionalInt(
            "padding", None, "Zeros on each side (empty = (kernel_size - 1) / 2 for each).", min=0
        ),
        Int("groups", 1, "Channel groups (groups = channels is depthwise).", min=1),
        Choice(
            "activation",
            "ReLU",
            "Activation after the BatchNorm.",
            options=_ACTIVATIONS,
        ),
        Float("eps", 1e-5, "BatchNorm's eps (GoogLeNet uses 0.001).", min=0.0, min_exclusive=True),
        _MOMENTUM,
    )

    def build(self, b, x, p, in_shape):
        k = p["kernel_size"]
        pad = p["padding"]
        if pad is None:
            pad = (k - 1) // 2 if isinstance(k, int) else [(v - 1) // 2 for v in k]
        act = None if p["activation"] == "none" else p["activation"]
        return conv_bn_relu(
            b,
            x,
            p["out_channels"],
            k,
            "conv",
            stride=p["stride"],
            padding=pad,
            groups=p["groups"],
            act=act,
            bn_eps=p["eps"],
            momentum=p["momentum"],
        )

    def summary_text(self, p):
        k, s = p["kernel_size"], p["stride"]
        h, w = (k, k) if isinstance(k, int) else k
        return f"{p['out_channels']}, {h}x{w}" + (f", /{s}" if s != 1 else "")


@register_layer
class InceptionModule(_Block):
    type = "InceptionModule"
    title = "Inception module"
    help = (
        "GoogLeNet's module: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches side by side, "
        "concatenated; the 1x1 'bottlenecks' keep it cheap."
    )
    params = (
        Int("ch1x1", 64, "Filters of the 1x1 branch.", min=1),
        Int("ch3x3red", 96, "1x1 reduction before the 3x3.", min=1),
        Int("ch3x3", 128, "Filters of the 3x3 branch.", min=1),
        Int("ch5x5red", 16, "1x1 reduction before the 5x5.", min=1),
        Int("ch5x5", 32, "Filters of the 5x5 branch.", min=1),
        Int("pool_proj", 32, "1x1 filters after the pooling branch.", min=1),
        Int(
            "branch3_kernel",
            5,
            "Kernel of the third branch (torchvision's GoogLeNet uses 3).",
            min=1,
            max=7,
        ),
        Bool("batch_norm", True, "Conv-BatchNorm-ReLU units (torchvision) or Conv-ReLU (paper)."),
    )

    def build(self, b, x, p, in_shape):
        def unit(src, out, k, name):
            if p["batch_norm"]:
                return conv_bn_relu(b, src, out, k, name, padding=k // 2, bn_eps=1e-3)
            y = b.add("Conv2d", src, name=name, out_channels=out, kernel_size=k, padding=k // 2)
            return b.add("ReLU", y, name=name.replace("conv", "relu"))

        b1 = unit(x, p["ch1x1"], 1, "branch1_conv")
        b2 = unit(unit(x, p["ch3x3red"], 1, "branch2_conv1"), p["ch3x3"], 3, "branch2_conv2")
        k3 = p["branch3_kernel"]
        b3 = unit(unit(x, p["ch5x5red"], 1, "branch3_conv1"), p["ch5x5"], k3, "branch3_conv2")
        pool = b.add(
            "MaxPool2d", x, name="branch4_pool", kernel_size=3, stride=1, padding=1, ceil_mode=True
        )
        b4 = unit(pool, p["pool_proj"], 1, "branch4_conv")
        return b.add("Concat", [b1, b2, b3, b4], name="concat")

    def summary_text(self, p):
        return f"{p['ch1x1']}/{p['ch3x3']}/{p['ch5x5']}/{p['pool_proj']}"


@register_layer
class ResidualBasicBlock(_Block):
    type = "ResidualBasicBlock"
    title = "Residual basic block"
    repeatable = True
    help = (
        "ResNet-18/34's block: two 3x3 convolutions plus a shortcut; the shortcut becomes a "
        "1x1 projection when the stride or the channels change."
    )
    params = (
        Int("out_channels", 64, "Output channels.", min=1),
        Int("stride", 1, "2 halves the height and width.", min=1, max=4),
    )

    def build(self, b, x, p, in_shape):
        out, s = p["out_channels"], p["stride"]
        y = conv_bn_relu(b, x, out, 3, "conv1", stride=s, padding=1)
        y = conv_bn_relu(b, y, out, 3, "conv2", padding=1, act=None)
        short = _shortcut(b, x, in_shape[0], out, s)
        return b.add("ReLU", b.add("Add", [y, short], name="add"), name="relu")

    def summary_text(self, p):
        return f"{p['out_channels']}" + (f", /{p['stride']}" if p["stride"] != 1 else "")


def _shortcut(b, x, c_in, c_out, stride):
    if stride == 1 and c_in == c_out:
        return x
    y = b.add(
        "Conv2d",
        x,
        name="downsample_conv",
        out_channels=c_out,
        kernel_size=1,
        stride=stride,
        bias=False,
    )
    return b.add("BatchNorm", y, name="downsample_bn")


@register_layer
class ResidualBottleneck(_Block):
    type = "ResidualBottleneck"
    title = "Residual bottleneck block"
    repeatable = True
    help = (
        "ResNet-50/101/152's block: 1x1 reduce, 3x3, 1x1 expand (x4), plus a shortcut; "
        "the stride sits on the 3x3 as in torchvision (ResNet v1.5)."
    )
    params = (
        Int("width", 64, "Channels inside the block; the output has width x expansion.", min=1),
        Int("stride", 1, "2 halves the height and width.", min=1, max=4),
        Int("expansion", 4, "Output channels = width x expansion.", min=1),
        Int("groups", 1, "Groups of the 3x3 convolution (ResNeXt).", min=1),
    )

    def build(self, b, x, p, in_shape):
        w, s = p["width"], p["stride"]
        out = w * p["expansion"]
        y = conv_bn_relu(b, x, w, 1, "conv1")
        y = conv_bn_relu(b, y, w, 3, "conv2", stride=s, padding=1, groups=p["groups"])
        y = conv_bn_relu(b, y, out, 1, "conv3", act=None)
        short = _shortcut(b, x, in_shape[0], out, s)
        return b.add("ReLU", b.add("Add", [y, short], name="add"), name="relu")

    def summary_text(self, p):
        return f"{p['width']}x{p['expansion']}" + (f", /{p['stride']}" if p["stride"] != 1 else "")


@register_layer
class DenseLayer(_Block):
    type = "DenseLayer"
    title = "Dense layer"
    help = "DenseNet's layer: BN-ReLU-1x1 conv (bn_size x growth) then BN-ReLU-3x3 conv (growth)."
    in_palette = False  # used inside DenseBlock
    params = (
        Int("growth_rate", 32, "New channels this layer adds.", min=1),
        Int("bn_size", 4, "Bottleneck width as a multiple of growth_rate.", min=1),
        Float("drop_rate", 0.0, "Dropout after the layer.", min=0.0, max=1.0),
    )

    def build(self, b, x, p, in_shape):
        k = p["growth_rate"]
        y = b.add("BatchNorm", x, name="norm1")
        y = b.add("ReLU", y, name="relu1")
        y = b.add(
            "Conv2d", y, name="conv1", out_channels=p["bn_size"] * k, kernel_size=1, bias=False
        )
        y = b.add("BatchNorm", y, name="norm2")
        y = b.add("ReLU", y, name="relu2")
        y = b.add("Conv2d", y, name="conv2", out_channels=k, kernel_size=3, padding=1, bias=False)
        if p["drop_rate"] > 0:
            y = b.add("Dropout", y, name="dropout", p=p["drop_rate"])
        return y


@register_layer
class DenseBlock(_Block):
    type = "DenseBlock"
    title = "Dense block"
    repeatable = True
    help = (
        "DenseNet's block: each layer sees the concatenation of all earlier outputs and adds "
        "growth_rate channels."
    )
    params = (
        Int("num_layers", 6, "Number of dense layers.", min=1),
        Int("growth_rate", 32, "Channels each layer adds.", min=1),
        Int("bn_size", 4, "Bottleneck width as a multiple of growth_rate.", min=1),
        Float("drop_rate", 0.0, "Dropout inside each layer.", min=0.0, max=1.0),
    )

    def build(self, b, x, p, in_shape):
        for i in range(1, p["num_layers"] + 1):
            y = b.add(
                "DenseLayer",
                x,
                name=f"denselayer{i}",
                growth_rate=p["growth_rate"],
                bn_size=p["bn_size"],
                drop_rate=p["drop_rate"],
            )
            x = b.add("Concat", [x, y], name=f"concat{i}")
        return x

    def summary_text(self, p):
        return f"{p['num_layers']} x {p['growth_rate']}"


@register_layer
class DenseTransition(_Block):
    type = "DenseTransition"
    title = "Dense transition"
    help = (
        "Between dense blocks: BN-ReLU-1x1 conv compressing the channels, then 2x2 average pooling."
    )
    params = (
        Float(
            "compression",
            0.5,
            "Output channels as a fraction of the input's.",
            min=0.0,
            max=1.0,
            min_exclusive=True,
        ),
    )

    def build(self, b, x, p, in_shape):
        out = max(1, int(in_shape[0] * p["compression"]))
        y = b.add("BatchNorm", x, name="norm")
        y = b.add("ReLU", y, name="relu")
        y = b.add("Conv2d", y, name="conv", out_channels=out, kernel_size=1, bias=False)
        return b.add("AvgPool2d", y, name="pool", kernel_size=2, stride=2)


@register_layer
class FireModule(_Block):
    type = "FireModule"
    title = "Fire module"
    help = "SqueezeNet's module: a 1x1 'squeeze' then parallel 1x1 and 3x3 'expand', concatenated."
    params = (
        Int("squeeze", 16, "1x1 squeeze filters.", min=1),
        Int("expand1x1", 64, "1x1 expand filters.", min=1),
        Int("expand3x3", 64, "3x3 expand filters.", min=1),
    )

    def build(self, b, x, p, in_shape):
        s = b.add(
            "ReLU",
            b.add("Conv2d", x, name="squeeze", out_channels=p["squeeze"], kernel_size=1),
            name="squeeze_activation",
        )
        e1 = b.add(
            "ReLU",
            b.add("Conv2d", s, name="expand1x1", out_channels=p["expand1x1"], kernel_size=1),
            name="expand1x1_activation",
        )
        e3 = b.add(
            "ReLU",
            b.add(
                "Conv2d", s, name="expand3x3", out_channels=p["expand3x3"], kernel_size=3, padding=1
            ),
            name="expand3x3_activation",
        )
        return b.add("Concat", [e1, e3], name="concat")

    def summary_text(self, p):
        return f"{p['squeeze']} -> {p['expand1x1']}+{p['expand3x3']}"


@register_layer
class InvertedResidual(_Block):
    type = "InvertedResidual"
    title = "Inverted residual"
    repeatable = True
    help = (
        "MobileNetV2's block: 1x1 expand (x expand_ratio), 3x3 depthwise, 1x1 linear "
        "projection; a shortcut when the stride is 1 and the channels stay the same."
    )
    params = (
        Int("out_channels", 16, "Output channels.", min=1),
        Int("stride", 1, "1 or 2.", min=1, max=2),
        Int("expand_ratio", 6, "Hidden channels = input channels x expand_ratio.", min=1),
        Choice(
            "activation",
            "ReLU6",
            "Activation of the expand and depthwise units.",
            options=("ReLU6", "ReLU"),
        ),
    )

    def build(self, b, x, p, in_shape):
        c_in = in_shape[0]
        hidden = c_in * p["expand_ratio"]
        y = x
        if p["expand_ratio"] != 1:
            y = conv_bn_relu(b, y, hidden, 1, "conv_expand", act=p["activation"])
        y = conv_bn_relu(
            b,
            y,
            hidden,
            3,
            "conv_depthwise",
            stride=p["stride"],
            padding=1,
            groups=hidden,
            act=p["activation"],
        )
        y = conv_bn_relu(b, y, p["out_channels"], 1, "conv_project", act=None)
        if p["stride"] == 1 and c_in == p["out_channels"]:
            y = b.add("Add", [x, y], name="add")
        return y

    def summary_text(self, p):
        return f"{p['out_channels']}, t={p['expand_ratio']}" + (", /2" if p["stride"] == 2 else "")


@register_layer
class ConvNeXtBlock(_Block):
    type = "ConvNeXtBlock"
    title = "ConvNeXt block"
    repeatable = True
    help = (
        "ConvNeXt's block: 7x7 depthwise convolution, then per pixel LayerNorm, Linear to 4x "
        "the channels, GELU and Linear back; scaled per channel (layer scale), dropped by "
        "stochastic depth while training, added to the input."
    )
    params = (
        Float(
            "layer_scale",
            1e-6,
            "First value of the learned per-channel scale of the branch.",
            min=0.0,
            min_exclusive=True,
        ),
        Float(
            "stochastic_depth_prob",
            0.0,
            "Probability of dropping the branch per sample while training.",
            min=0.0,
            max=1.0,
        ),
    )

    def build(self, b, x, p, in_shape):
        c = in_shape[0]
        y = b.add("Conv2d", x, name="dwconv", out_channels=c, kernel_size=7, padding=3, groups=c)
        y = b.add("Permute", y, name="to_channels_last", dims=[2, 3, 1])
        y = b.add("LayerNorm", y, name="norm", eps=1e-6, over="last")
        y = b.add("Linear", y, name="pwconv1", out_features=4 * c, last_dim=True)
        y = b.add("GELU", y, name="gelu")
        y = b.add("Linear", y, name="pwconv2", out_features=c, last_dim=True)
        y = b.add("Permute", y, name="to_channels_first", dims=[3, 1, 2])
        y = b.add("Scale", y, name="layer_scale", mode="channel", init=p["layer_scale"])
        y = b.add("StochasticDepth", y, name="stochastic_depth", p=p["stochastic_depth_prob"])
        return b.add("Add", [x, y], name="add")

    def summary_text(self, p):
        sd = p["stochastic_depth_prob"]
        return f"drop {sd:g}" if sd else ""


@register_layer
class SqueezeExcitation(_Block):
    type = "SqueezeExcitation"
    title = "Squeeze-and-excitation"
    help = (
        "Weighs the channels: their means through a 1x1 bottleneck (squeeze_channels) and a "
        "gate give one weight per channel, which multiplies the input (SENet, MobileNetV3, "
        "EfficientNet, RegNetY)."
    )
    params = (
        Int("squeeze_channels", 8, "Channels of the bottleneck.", min=1),
        Choice("activation", "ReLU", "Activation in the bottleneck.", options=("ReLU", "SiLU")),
        Choice(
            "gate",
            "Sigmoid",
            "Turns the scores into weights (MobileNetV3: Hardsigmoid).",
            options=("Sigmoid", "Hardsigmoid"),
        ),
    )

    def build(self, b, x, p, in_shape):
        y = b.add("AdaptiveAvgPool2d", x, name="avgpool", output_size=1)
        y = b.add("Conv2d", y, name="fc1", out_channels=p["squeeze_channels"], kernel_size=1)
        y = b.add(p["activation"], y, name="activation")
        y = b.add("Conv2d", y, name="fc2", out_channels=in_shape[0], kernel_size=1)
        y = b.add(p["gate"], y, name="gate")
        return b.add("Multiply", [x, y], name="multiply")

    def summary_text(self, p):
        return f"squeeze {p['squeeze_channels']}"


@register_layer
class MBConv(_Block):
    type = "MBConv"
    title = "MBConv (inverted residual with SE)"
    repeatable = True
    help = (
        "MobileNetV3's and EfficientNet's block: 1x1 expansion, k x k depthwise convolution, "
        "optional squeeze-and-excitation, linear 1x1 projection; a shortcut (through "
        "stochastic depth) when the stride is 1 and the channels stay the same."
    )
    params = (
        Int("out_channels", 16, "Output channels.", min=1),
        OptionalInt(
            "expanded_channels",
            None,
            "Channels inside the block (empty = the input's: no expansion convolution).",
            min=1,
        ),
        Int("kernel_size", 3, "Kernel of the depthwise convolution (3 or 5).", min=1),
        Int("stride", 1, "1 or 2.", min=1, max=2),
        Choice(
            "activation",
            "SiLU",
            "Activation of the expansion and depthwise units.",
            options=("SiLU", "ReLU", "Hardswish"),
        ),
        Int("se_channels", 0, "Squeeze-and-excitation's bottleneck (0 = none).", min=0),
        Choice("se_activation", "SiLU", "Activation inside the SE.", options=("SiLU", "ReLU")),
        Choice(
            "se_gate",
            "Sigmoid",
            "Gate of the SE (MobileNetV3: Hardsigmoid).",
            options=("Sigmoid", "Hardsigmoid"),
        ),
        Float(
            "stochastic_depth_prob",
            0.0,
            "Probability of dropping the branch per sample while training (with the shortcut).",
            min=0.0,
            max=1.0,
        ),
        Float("eps", 1e-5, "BatchNorm's eps (MobileNetV3: 0.001).", min=0.0, min_exclusive=True),
        _MOMENTUM,
    )

    def build(self, b, x, p, in_shape):
        c_in = in_shape[0]
        hidden = c_in if p["expanded_channels"] is None else p["expanded_channels"]
        unit = {"activation": p["activation"], "eps": p["eps"], "momentum": p["momentum"]}
        y = x
        if hidden != c_in:
            y = b.add("ConvBNAct", y, name="expand", out_channels=hidden, kernel_size=1, **unit)
        y = b.add(
            "ConvBNAct",
            y,
            name="depthwise",
            out_channels=hidden,
            kernel_size=p["kernel_size"],
            stride=p["stride"],
            groups=hidden,
            **unit,
        )
        if p["se_channels"]:
            y = b.add(
                "SqueezeExcitation",
                y,
                name="se",
                squeeze_channels=p["se_channels"],
                activation=p["se_activation"],
                gate=p["se_gate"],
            )
        y = b.add(
            "ConvBNAct",
            y,
            name="project",
            out_channels=p["out_channels"],
            kernel_size=1,
            **(unit | {"activation": "none"}),
        )
        if p["stride"] == 1 and c_in == p["out_channels"]:
            y = b.add("StochasticDepth", y, name="stochastic_depth", p=p["stochastic_depth_prob"])
            y = b.add("Add", [x, y], name="add")
        return y

    def summary_text(self, p):
        k = p["kernel_size"]
        se = ", SE" if p["se_channels"] else ""
        return f"{p['out_channels']}, {k}x{k}{se}" + (", /2" if p["stride"] == 2 else "")


@register_layer
class DepthwiseSeparableConv(_Block):
    type = "DepthwiseSeparableConv"
    title = "Depthwise-separable convolution"
    repeatable = True
    help = (
        "A depthwise k x k convolution (one filter per channel) then a 1x1 pointwise one, each "
        "with BatchNorm and an activation (MobileNetV1): a convolution's job for a fraction "
        "of its cost."
    )
    params = (
        Int("out_channels", 32, "Output channels.", min=1),
        Int("kernel_size", 3, "Kernel of the depthwise convolution.", min=1),
        Int("stride", 1, "Step of the depthwise convolution.", min=1),
        Choice("activation", "ReLU", "Activation after each BatchNorm.", options=_ACTIVATIONS),
        Bool(
            "pointwise_activation",
            True,
            "The activation after the pointwise convolution too (off: a linear projection).",
        ),
    )

    def build(self, b, x, p, in_shape):
        c = in_shape[0]
        y = b.add(
            "ConvBNAct",
            x,
            name="depthwise",
            out_channels=c,
            kernel_size=p["kernel_size"],
            stride=p["stride"],
            groups=c,
            activation=p["activation"],
        )
        return b.add(
            "ConvBNAct",
            y,
            name="pointwise",
            out_channels=p["out_channels"],
            kernel_size=1,
            activation=p["activation"] if p["pointwise_activation"] else "none",
        )

    def summary_text(self, p):
        k, s = p["kernel_size"], p["stride"]
        return f"{p['out_channels']}, {k}x{k} dw" + (f", /{s}" if s != 1 else "")


@register_layer
class ShuffleUnit(_Block):
    type = "ShuffleUnit"
    title = "ShuffleNet unit"
    repeatable = True
    help = (
        "ShuffleNetV2's unit: stride 1 splits the channels, one half passes, the other goes "
        "through 1x1, 3x3 depthwise, 1x1; stride 2 computes both halves from the whole input. "
        "Concatenated, then the channels are shuffled."
    )
    params = (
        Int("out_channels", 116, "Output channels (even; with stride 1 the input's).", min=2),
        Int(
            "stride",
            2,
            "2 halves the height and width (a stage's first unit); 1 keeps the input's shape.",
            min=1,
            max=2,
        ),
    )

    def infer_shape(self, p, in_shapes):
        c = need_image(self.title, in_shapes[0])[0]
        if p["out_channels"] % 2:
            raise ShapeError(f"out_channels {p['out_channels']} must be even", "out_channels")
        if p["stride"] == 1 and c != p["out_channels"]:
            raise ShapeError(
                f"with stride 1 the unit keeps its {c} channels; set out_channels to {c}",
                "out_channels",
            )
        return in_shapes[0]

    def build(self, b, x, p, in_shape):
        c, half, branch, s = in_shape[0], in_shape[0] // 2, p["out_channels"] // 2, p["stride"]
        if s > 1:
            left = b.add(
                "Conv2d",
                x,
                name="branch1_dwconv",
                out_channels=c,
                kernel_size=3,
                stride=s,
                padding=1,
                groups=c,
                bias=False,
            )
            left = b.add("BatchNorm", left, name="branch1_bn_dw")
            left = conv_bn_relu(b, left, branch, 1, "branch1_conv")
            right = x
        else:
            left = b.add("ChannelSlice", x, name="split_left", start=0, stop=half)
            right = b.add("ChannelSlice", x, name="split_right", start=half, stop=c)
        right = conv_bn_relu(b, right, branch, 1, "branch2_conv1")
        right = b.add(
            "Conv2d",
            right,
            name="branch2_dwconv",
            out_channels=branch,
            kernel_size=3,
            stride=s,
            padding=1,
            groups=branch,
            bias=False,
        )
        right = b.add("BatchNorm", right, name="branch2_bn_dw")
        right = conv_bn_relu(b, right, branch, 1, "branch2_conv2")
        y = b.add("Concat", [left, right], name="concat")
        return b.add("ChannelShuffle", y, name="shuffle", groups=2)

    def summary_text(self, p):
        return f"{p['out_channels']}" + (", /2" if p["stride"] == 2 else "")


@register_layer
class RegNetBottleneck(_Block):
    type = "RegNetBottleneck"
    title = "RegNet bottleneck"
    repeatable = True
    help = (
        "RegNet's block: 1x1, grouped 3x3 (groups of group_width channels) with the stride, "
        "optional squeeze-and-excitation (RegNetY), linear 1x1, plus a shortcut (a 1x1 "
        "projection when the shape changes), then ReLU."
    )
    params = (
        Int("out_channels", 48, "Output channels.", min=1),
        Int("stride", 1, "2 halves the height and width.", min=1, max=2),
        Int("group_width", 8, "Channels per group of the 3x3 convolution.", min=1),
        Float(
            "bottleneck_multiplier",
            1.0,
            "Width inside the block as a multiple of out_channels.",
            min=0.0,
            min_exclusive=True,
        ),
        Int("se_channels", 0, "Squeeze-and-excitation's bottleneck (0 = none; RegNetY).", min=0),
    )

    def infer_shape(self, p, in_shapes):
        need_image(self.title, in_shapes[0])
        width = round(p["out_channels"] * p["bottleneck_multiplier"])
        if width < 1 or width % p["group_width"]:
            raise ShapeError(
                f"the block's width {width} is not a multiple of group_width {p['group_width']}",
                "group_width",
            )
        return in_shapes[0]

    def build(self, b, x, p, in_shape):
        c_in, out, s = in_shape[0], p["out_channels"], p["stride"]
        width = round(out * p["bottleneck_multiplier"])
        short = x
        if s != 1 or c_in != out:
            short = b.add(
                "ConvBNAct",
                x,
                name="proj",
                out_channels=out,
                kernel_size=1,
                stride=s,
                activation="none",
            )
        y = b.add("ConvBNAct", x, name="a", out_channels=width, kernel_size=1)
        y = b.add(
            "ConvBNAct",
            y,
            name="b",
            out_channels=width,
            kernel_size=3,
            stride=s,
            groups=width // p["group_width"],
        )
        if p["se_channels"]:
            y = b.add("SqueezeExcitation", y, name="se", squeeze_channels=p["se_channels"])
        y = b.add("ConvBNAct", y, name="c", out_channels=out, kernel_size=1, activation="none")
        return b.add("ReLU", b.add("Add", [short, y], name="add"), name="relu")

    def summary_text(self, p):
        se = ", SE" if p["se_channels"] else ""
        return f"{p['out_channels']}{se}" + (", /2" if p["stride"] == 2 else "")


def _unit(b, x, name, out, k, stride=1, padding=None):
    """Inception-v3's BasicConv2d: ConvBNAct with BatchNorm's eps 0.001."""
    return b.add(
        "ConvBNAct",
        x,
        name=name,
        out_channels=out,
        kernel_size=k,
        stride=stride,
        padding=padding,
        eps=0.001,
    )


def _avg_pool_branch(b, x, out):
    pool = b.add("AvgPool2d", x, name="branch_pool_avg", kernel_size=3, stride=1, padding=1)
    return _unit(b, pool, "branch_pool", out, 1)


@register_layer
class InceptionA(_Block):
    type = "InceptionA"
    title = "Inception-v3 module A"
    help = (
        "Inception-v3's 35 x 35 module: 1x1, 1x1-5x5, 1x1-3x3-3x3 and average pooling-1x1 "
        "branches, concatenated (64 + 64 + 96 + pool_features channels)."
    )
    params = (Int("pool_features", 32, "Filters of the pooling branch's 1x1.", min=1),)

    def build(self, b, x, p, in_shape):
        b1 = _unit(b, x, "branch1x1", 64, 1)
        b5 = _unit(b, _unit(b, x, "branch5x5_1", 48, 1), "branch5x5_2", 64, 5)
        b3 = _unit(b, x, "branch3x3dbl_1", 64, 1)
        b3 = _unit(b, _unit(b, b3, "branch3x3dbl_2", 96, 3), "branch3x3dbl_3", 96, 3)
        bp = _avg_pool_branch(b, x, p["pool_features"])
        return b.add("Concat", [b1, b5, b3, bp], name="concat")

    def summary_text(self, p):
        return f"pool {p['pool_features']}"


@register_layer
class InceptionB(_Block):
    type = "InceptionB"
    title = "Inception-v3 reduction B"
    help = (
        "Inception-v3's reduction to 17 x 17: a strided 3x3, 1x1-3x3-strided 3x3 and max "
        "pooling side by side, concatenated."
    )

    def build(self, b, x, p, in_shape):
        b3 = _unit(b, x, "branch3x3", 384, 3, stride=2, padding=0)
        d = _unit(b, x, "branch3x3dbl_1", 64, 1)
        d = _unit(b, _unit(b, d, "branch3x3dbl_2", 96, 3), "branch3x3dbl_3", 96, 3, 2, 0)
        pool = b.add("MaxPool2d", x, name="branch_pool", kernel_size=3, stride=2)
        return b.add("Concat", [b3, d, pool], name="concat")


@register_layer
class InceptionC(_Block):
    type = "InceptionC"
    title = "Inception-v3 module C"
    help = (
        "Inception-v3's 17 x 17 module: 7x7 convolutions factorized into 1x7 and 7x1 "
        "(channels_7x7 inside), beside 1x1 and average pooling-1x1 branches (4 x 192 out)."
    )
    params = (Int("channels_7x7", 128, "Channels inside the factorized 7x7 branches.", min=1),)

    def build(self, b, x, p, in_shape):
        c7 = p["channels_7x7"]
        b1 = _unit(b, x, "branch1x1", 192, 1)
        b7 = _unit(b, x, "branch7x7_1", c7, 1)
        b7 = _unit(b, _unit(b, b7, "branch7x7_2", c7, [1, 7]), "branch7x7_3", 192, [7, 1])
        d = _unit(b, x, "branch7x7dbl_1", c7, 1)
        for i, (k, out) in enumerate(
            (([7, 1], c7), ([1, 7], c7), ([7, 1], c7), ([1, 7], 192)), start=2
        ):
            d = _unit(b, d, f"branch7x7dbl_{i}", out, k)
        bp = _avg_pool_branch(b, x, 192)
        return b.add("Concat", [b1, b7, d, bp], name="concat")

    def summary_text(self, p):
        return f"7x7: {p['channels_7x7']}"


@register_layer
class InceptionD(_Block):
    type = "InceptionD"
    title = "Inception-v3 reduction D"
    help = (
        "Inception-v3's reduction to 8 x 8: 1x1-strided 3x3, 1x1-1x7-7x1-strided 3x3 and max "
        "pooling side by side, concatenated."
    )

    def build(self, b, x, p, in_shape):
        b3 = _unit(b, x, "branch3x3_1", 192, 1)
        b3 = _unit(b, b3, "branch3x3_2", 320, 3, stride=2, padding=0)
        b7 = _unit(b, x, "branch7x7x3_1", 192, 1)
        b7 = _unit(b, b7, "branch7x7x3_2", 192, [1, 7])
        b7 = _unit(b, b7, "branch7x7x3_3", 192, [7, 1])
        b7 = _unit(b, b7, "branch7x7x3_4", 192, 3, stride=2, padding=0)
        pool = b.add("MaxPool2d", x, name="branch_pool", kernel_size=3, stride=2)
        return b.add("Concat", [b3, b7, pool], name="concat")


@register_layer
class InceptionE(_Block):
    type = "InceptionE"
    title = "Inception-v3 module E"
    help = (
        "Inception-v3's 8 x 8 module: its 3x3 branches end in a 1x3 and a 3x1 side by side "
        "(expanded filter banks), beside 1x1 and average pooling-1x1 branches."
    )

    def build(self, b, x, p, in_shape):
        b1 = _unit(b, x, "branch1x1", 320, 1)
        b3 = _unit(b, x, "branch3x3_1", 384, 1)
        b3 = b.add(
            "Concat",
            [
                _unit(b, b3, "branch3x3_2a", 384, [1, 3]),
                _unit(b, b3, "branch3x3_2b", 384, [3, 1]),
            ],
            name="branch3x3_concat",
        )
        d = _unit(b, x, "branch3x3dbl_1", 448, 1)
        d = _unit(b, d, "branch3x3dbl_2", 384, 3)
        d = b.add(
            "Concat",
            [
                _unit(b, d, "branch3x3dbl_3a", 384, [1, 3]),
                _unit(b, d, "branch3x3dbl_3b", 384, [3, 1]),
            ],
            name="branch3x3dbl_concat",
        )
        bp = _avg_pool_branch(b, x, 192)
        return b.add("Concat", [b1, b3, d, bp], name="concat")


@register_layer
class FusedMBConv(_Block):
    type = "FusedMBConv"
    title = "Fused MBConv"
    repeatable = True
    help = (
        "EfficientNetV2's early block: MBConv's 1x1 expansion and depthwise convolution fused "
        "into one k x k convolution, then a linear 1x1 projection (none without expansion); a "
        "shortcut (through stochastic depth) when the stride is 1 and the channels stay."
    )
    params = (
        Int("out_channels", 24, "Output channels.", min=1),
        OptionalInt(
            "expanded_channels",
            None,
            "Channels after the k x k convolution (empty = no expansion: it gives the output).",
            min=1,
        ),
        Int("kernel_size", 3, "Kernel of the fused convolution.", min=1),
        Int("stride", 1, "1 or 2.", min=1, max=2),
        Choice(
            "activation",
            "SiLU",
            "Activation after the fused convolution.",
            options=("SiLU", "ReLU", "Hardswish"),
        ),
        Float(
            "stochastic_depth_prob",
            0.0,
            "Probability of dropping the branch per sample while training (with the shortcut).",
            min=0.0,
            max=1.0,
        ),
        Float("eps", 1e-5, "BatchNorm's eps (EfficientNetV2: 0.001).", min=0.0, min_exclusive=True),
        _MOMENTUM,
    )

    def build(self, b, x, p, in_shape):
        c_in, out, k, s = in_shape[0], p["out_channels"], p["kernel_size"], p["stride"]
        unit = {"activation": p["activation"], "eps": p["eps"], "momentum": p["momentum"]}
        hidden = p["expanded_channels"]
        if hidden is not None and hidden != c_in:
            y = b.add(
                "ConvBNAct", x, name="expand", out_channels=hidden, kernel_size=k, stride=s, **unit
            )
            y = b.add(
                "ConvBNAct",
                y,
                name="project",
                out_channels=out,
                kernel_size=1,
                **(unit | {"activation": "none"}),
            )
        else:
            y = b.add(
                "ConvBNAct", x, name="fused", out_channels=out, kernel_size=k, stride=s, **unit
            )
        if s == 1 and c_in == out:
            y = b.add("StochasticDepth", y, name="stochastic_depth", p=p["stochastic_depth_prob"])
            y = b.add("Add", [x, y], name="add")
        return y

    def summary_text(self, p):
        k = p["kernel_size"]
        return f"{p['out_channels']}, {k}x{k}" + (", /2" if p["stride"] == 2 else "")
