"""Inputs, heads and the boundary nodes of block graphs."""

from __future__ import annotations

from designer.core.params import Int, Text
from designer.core.registry import LayerSpec, register_layer


@register_layer
class Input(LayerSpec):
    type = "Input"
    title = "Input"
    category = "Input / output"
    help = "The network's input: an image (C x H x W) or a vector (N), set in the design settings."
    role = "input"

    def input_ports(self, p):
        return ()


@register_layer
class ClassificationOutput(LayerSpec):
    type = "ClassificationOutput"
    title = "Classification head"
    category = "Input / output"
    help = (
        "The end of a classifier: takes one score (logit) per class. Training applies "
        "softmax with cross-entropy, so no Softmax layer is needed before it."
    )
    role = "output"

    def emit_forward(self, p, module, args, in_shapes):
        return args[0]


@register_layer
class RegressionOutput(LayerSpec):
    type = "RegressionOutput"
    title = "Regression head"
    category = "Input / output"
    help = "The end of a regression network: its N features are the predicted values (MSE loss)."
    role = "output"

    def emit_forward(self, p, module, args, in_shapes):
        return args[0]


@register_layer
class BlockInput(LayerSpec):
    type = "BlockInput"
    title = "Block input"
    category = "Blocks"
    help = "Where a block's input enters its inner graph."
    role = "block_input"
    in_palette = False
    params = (Int("index", 1, "Which input of the block (1 = first).", min=1),)

    def input_ports(self, p):
        return ()


@register_layer
class BlockOutput(LayerSpec):
    type = "BlockOutput"
    title = "Block output"
    category = "Blocks"
    help = "The block's output."
    role = "block_output"
    in_palette = False

    def emit_forward(self, p, module, args, in_shapes):
        return args[0]


@register_layer
class Block(LayerSpec):
    type = "Block"
    title = "Custom block"
    category = "Blocks"
    help = "A group of layers saved as a block of this design; double-click to open it."
    role = "custom_block"
    in_palette = False  # offered in the palette by the design's own block names
    params = (Text("block", "", "Name of the block definition in this design."),)

    def summary_text(self, p):
        return p.get("block", "")
