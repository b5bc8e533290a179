"""Tiny designs for the visualization tests, built with GraphBuilder (imported by the tests)."""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import BlockDef, Design


def design_with(input_shape, build, num_classes=10, name="Viz test"):
    """A design: Input -> build(b, x) -> Flatten -> Linear(num_classes) -> head."""
    design = Design(name, input_shape=input_shape, num_classes=num_classes)
    b = GraphBuilder(design)
    x = build(b, b.add("Input", name="input"))
    if design.nodes[x].type not in ("Flatten", "GlobalAvgPool", "Linear"):
        x = b.add("Flatten", x, name="flatten")
    if design.nodes[x].type != "Linear":
        x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def plain_chain(b, x):
    """Stride, padding, dilation, non-square windows, 'same' with an even kernel, both pools."""
    x = b.add("Conv2d", x, name="conv_s2", out_channels=4, kernel_size=3, stride=2, padding=1)
    x = b.add("ReLU", x, name="relu_a")
    x = b.add("Conv2d", x, name="conv_dil", out_channels=4, kernel_size=3, dilation=2, padding=1)
    x = b.add("MaxPool2d", x, name="maxpool", kernel_size=3, stride=2, padding=1)
    x = b.add(
        "Conv2d",
        x,
        name="conv_rect",
        out_channels=4,
        kernel_size=[3, 5],
        stride=[1, 2],
        padding=[0, 2],
    )
    x = b.add("Conv2d", x, name="conv_same", out_channels=4, kernel_size=4, padding="same")
    return b.add("AvgPool2d", x, name="avgpool", kernel_size=2, stride=1)


def residual(b, x):
    x = b.add("Conv2d", x, name="stem", out_channels=4, kernel_size=3, padding=1)
    x = b.add("ResidualBasicBlock", x, name="res1", out_channels=6, stride=2)
    x = b.add("ResidualBasicBlock", x, name="res2", out_channels=6, stride=1)
    return b.add("ResidualBasicBlock", x, name="res3", out_channels=8, stride=2)


def inception(b, x):
    x = b.add("Conv2d", x, name="stem", out_channels=4, kernel_size=3, stride=2, padding=1)
    x = b.add(
        "InceptionModule",
        x,
        name="inc1",
        ch1x1=2,
        ch3x3red=2,
        ch3x3=3,
        ch5x5red=2,
        ch5x5=3,
        pool_proj=2,
        branch3_kernel=5,
    )
    x = b.add("MaxPool2d", x, name="pool", kernel_size=2)
    return b.add(
        "InceptionModule",
        x,
        name="inc2",
        ch1x1=2,
        ch3x3red=2,
        ch3x3=2,
        ch5x5red=2,
        ch5x5=2,
        pool_proj=2,
        branch3_kernel=3,
        batch_norm=False,
    )


def lopsided_merges(b, x):
    """Branches whose fields differ in shape and offset, so the union is not any one of them."""
    tall = b.add("Conv2d", x, name="tall", out_channels=3, kernel_size=[5, 1], padding=[2, 0])
    wide = b.add("Conv2d", x, name="wide", out_channels=3, kernel_size=[1, 5], padding=[0, 1])
    tall = b.add("MaxPool2d", tall, name="tall_crop", kernel_size=[1, 3], stride=1)
    added = b.add("Add", [tall, wide], name="add")
    shifted = b.add("Conv2d", x, name="shifted", out_channels=2, kernel_size=3, padding=[1, 0])
    shifted = b.add(
        "AvgPool2d", shifted, name="shifted_pool", kernel_size=[5, 1], stride=1, padding=[2, 0]
    )
    return b.add("Concat", [added, shifted], name="concat")


def custom_block_design():
    """A user's BlockDef (conv stride 2 -> ReLU -> conv) used twice."""
    block = BlockDef("Down", "conv /2 then conv")
    bb = GraphBuilder(block)
    y = bb.add("BlockInput", name="in", index=1)
    y = bb.add("Conv2d", y, name="conv_a", out_channels=3, kernel_size=3, stride=2, padding=1)
    y = bb.add("ReLU", y, name="relu")
    y = bb.add("Conv2d", y, name="conv_b", out_channels=3, kernel_size=3, padding=0)
    bb.add("BlockOutput", y, name="out")

    design = Design("Custom", input_shape=(1, 28, 28))
    design.blocks["Down"] = block
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    for name in ("down1", "down2"):
        x = b.add("Block", x, name=name, block="Down")
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Linear", x, name="fc", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    return design
