"""Activations: element-wise non-linearities (PReLU learns its slope)."""

from __future__ import annotations

from designer.core.params import Choice, Float, Int
from designer.core.registry import LayerSpec, register_layer
from designer.layers._util import call


class _Activation(LayerSpec):
    category = "Activation"
    ctor = ""
    has_inplace = False  # the nn module takes inplace=True

    def emit_module(self, p, in_shapes):
        return f"{self.ctor}()"

    def emit_inplace_module(self, p, in_shapes):
        return f"{self.ctor}(inplace=True)" if self.has_inplace else None

    def summary_text(self, p):
        return ""


def _simple(type_name: str, ctor: str, help_text: str, has_inplace: bool = False):
    cls = type(
        type_name,
        (_Activation,),
        {
            "type": type_name,
            "title": type_name,
            "ctor": ctor,
            "help": help_text,
            "has_inplace": has_inplace,
            "__module__": __name__,
        },
    )
    register_layer(cls)
    return cls


ReLU = _simple("ReLU", "nn.ReLU", "max(0, x): the default choice.", has_inplace=True)
ReLU6 = _simple("ReLU6", "nn.ReLU6", "min(max(0, x), 6): MobileNet's activation.", has_inplace=True)
SELU = _simple(
    "SELU",
    "nn.SELU",
    "Self-normalizing ELU (lambda 1.0507, alpha 1.6733); can replace BatchNorm.",
    has_inplace=True,
)
Sigmoid = _simple("Sigmoid", "nn.Sigmoid", "1 / (1 + exp(-x)), squashes to (0, 1).")
SiLU = _simple(
    "SiLU",
    "nn.SiLU",
    "x * sigmoid(x), also called Swish: EfficientNet's activation.",
    has_inplace=True,
)
Hardswish = _simple(
    "Hardswish",
    "nn.Hardswish",
    "x * ReLU6(x + 3) / 6: a cheap Swish (MobileNetV3).",
    has_inplace=True,
)
Hardsigmoid = _simple(
    "Hardsigmoid",
    "nn.Hardsigmoid",
    "ReLU6(x + 3) / 6: a cheap sigmoid (MobileNetV3's squeeze-and-excitation).",
    has_inplace=True,
)
Mish = _simple(
    "Mish", "nn.Mish", "x * tanh(softplus(x)): a smooth ReLU-like activation.", has_inplace=True
)
Tanh = _simple("Tanh", "nn.Tanh", "Squashes to (-1, 1).")


@register_layer
class LeakyReLU(_Activation):
    type = "LeakyReLU"
    title = "LeakyReLU"
    help = "Like ReLU but with a small slope for negative inputs."
    params = (Float("negative_slope", 0.01, "Slope for x < 0.", min=0.0),)

    def emit_module(self, p, in_shapes, inplace=None):
        slope = p["negative_slope"]
        args = () if slope == 0.01 else (repr(float(slope)),)
        return call("nn.LeakyReLU", *args, inplace=inplace)

    def emit_inplace_module(self, p, in_shapes):
        return self.emit_module(p, in_shapes, inplace=True)


@register_layer
class PReLU(_Activation):
    type = "PReLU"
    title = "PReLU"
    help = "LeakyReLU whose negative slope is learned (one for all, or one per channel)."
    params = (
        Choice(
            "slopes",
            "single",
            "One learned slope, or one per channel.",
            options=("single", "per channel"),
        ),
        Float("init", 0.25, "Initial slope.", min=0.0),
    )

    def _n(self, p, in_shapes):
        return 1 if p["slopes"] == "single" else in_shapes[0][0]

    def count_params(self, p, in_shapes):
        return self._n(p, in_shapes), 0

    def emit_module(self, p, in_shapes):
        n = self._n(p, in_shapes)
        return call(
            "nn.PReLU",
            num_parameters=None if n == 1 else n,
            init=None if p["init"] == 0.25 else repr(float(p["init"])),
        )


@register_layer
class RReLU(_Activation):
    type = "RReLU"
    title = "RReLU"
    help = "Randomized leaky ReLU: a random negative slope while training, the mean at test time."
    params = (
        Float("lower", 1 / 8, "Lowest slope.", min=0.0),
        Float("upper", 1 / 3, "Highest slope.", min=0.0),
    )

    def emit_module(self, p, in_shapes):
        return call("nn.RReLU", repr(float(p["lower"])), repr(float(p["upper"])))


@register_layer
class ELU(_Activation):
    type = "ELU"
    title = "ELU"
    help = "Exponential linear unit: smooth, negative values saturate at -alpha."
    params = (Float("alpha", 1.0, "Saturation value for negative inputs.", min=0.0),)

    def emit_module(self, p, in_shapes, inplace=None):
        return call(
            "nn.ELU", alpha=None if p["alpha"] == 1.0 else repr(float(p["alpha"])), inplace=inplace
        )

    def emit_inplace_module(self, p, in_shapes):
        return self.emit_module(p, in_shapes, inplace=True)


@register_layer
class GELU(_Activation):
    type = "GELU"
    title = "GELU"
    help = "Gaussian error linear unit (transformers, ConvNeXt)."
    params = (
        Choice("approximate", "none", "Exact or tanh approximation.", options=("none", "tanh")),
    )

    def emit_module(self, p, in_shapes):
        return call(
            "nn.GELU", approximate=None if p["approximate"] == "none" else repr(p["approximate"])
        )


@register_layer
class Softmax(_Activation):
    type = "Softmax"
    title = "Softmax"
    help = (
        "Turns scores into probabilities over the features (dim 1). Not needed before a "
        "classification head, whose loss applies it."
    )
    params = (Int("dim", 1, "Dimension that sums to 1 (1 = channels/features).", min=1, max=3),)

    def infer_shape(self, p, in_shapes):
        from designer.core.errors import ShapeError

        if p["dim"] > len(in_shapes[0]):
            raise ShapeError(
                f"dim {p['dim']} does not exist in a {len(in_shapes[0]) + 1}-D tensor", "dim"
            )
        return in_shapes[0]

    def emit_module(self, p, in_shapes):
        return call("nn.Softmax", dim=p["dim"])
