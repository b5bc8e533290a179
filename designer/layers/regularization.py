"""Dropout layers and stochastic depth."""

from __future__ import annotations

from designer.core.params import Choice, Float
from designer.core.registry import LayerSpec, register_layer
from designer.layers import module_source
from designer.layers._util import call, need_image

_P = Float("p", 0.5, "Probability of zeroing an element during training.", min=0.0, max=1.0)


@register_layer
class Dropout(LayerSpec):
    type = "Dropout"
    title = "Dropout"
    category = "Regularization"
    help = "Randomly zeroes elements while training (scales the rest), against overfitting."
    params = (_P,)

    def emit_module(self, p, in_shapes):
        return call("nn.Dropout", p=float(p["p"]))

    def summary_text(self, p):
        return f"p={p['p']}"


@register_layer
class Dropout2d(Dropout):
    type = "Dropout2d"
    title = "Spatial dropout 2D"
    help = "Randomly zeroes whole channels while training."

    def infer_shape(self, p, in_shapes):
        return need_image(self.title, in_shapes[0])

    def emit_module(self, p, in_shapes):
        return call("nn.Dropout2d", p=float(p["p"]))


@register_layer
class StochasticDepth(LayerSpec):
    type = "StochasticDepth"
    title = "Stochastic depth"
    category = "Regularization"
    help = (
        "While training, drops a residual branch per sample (or for the whole batch) with "
        "probability p; the identity at test time (EfficientNet, ConvNeXt)."
    )
    params = (
        _P,
        Choice(
            "mode",
            "row",
            "row: per sample; batch: the whole batch at once.",
            options=("row", "batch"),
        ),
    )

    def support_classes(self):
        return module_source.class_sources(self.type)

    def emit_module(self, p, in_shapes):
        return call("StochasticDepth", float(p["p"]), repr(p["mode"]))

    def summary_text(self, p):
        return f"p={p['p']}"
