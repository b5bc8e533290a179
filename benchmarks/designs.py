"""Large designs for benchmarks: DenseNet-201 with every dense layer expanded (~700 nodes) and a
ResNet-18-shaped design."""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.layout import apply_layout


def densenet201_flat(input_shape=(3, 224, 224)) -> Design:
    """DenseNet-201 as individual layers: about 700 nodes, no composite blocks."""
    d = Design("DenseNet-201 (flat)", input_shape=input_shape, num_classes=1000)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    x = b.add(
        "Conv2d", x, name="conv0", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False
    )
    x = b.add("BatchNorm", x, name="norm0")
    x = b.add("ReLU", x, name="relu0")
    x = b.add("MaxPool2d", x, name="pool0", kernel_size=3, stride=2, padding=1)
    channels, growth = 64, 32
    for i, layers in enumerate((6, 12, 48, 32), start=1):
        for j in range(1, layers + 1):
            y = b.add("BatchNorm", x, name=f"b{i}l{j}_norm1")
            y = b.add("ReLU", y, name=f"b{i}l{j}_relu1")
            y = b.add(
                "Conv2d",
                y,
                name=f"b{i}l{j}_conv1",
                out_channels=4 * growth,
                kernel_size=1,
                bias=False,
            )
            y = b.add("BatchNorm", y, name=f"b{i}l{j}_norm2")
            y = b.add("ReLU", y, name=f"b{i}l{j}_relu2")
            y = b.add(
                "Conv2d",
                y,
                name=f"b{i}l{j}_conv2",
                out_channels=growth,
                kernel_size=3,
                padding=1,
                bias=False,
            )
            x = b.add("Concat", [x, y], name=f"b{i}l{j}_cat")
            channels += growth
        if i < 4:
            channels //= 2
            x = b.add("BatchNorm", x, name=f"t{i}_norm")
            x = b.add("ReLU", x, name=f"t{i}_relu")
            x = b.add(
                "Conv2d", x, name=f"t{i}_conv", out_channels=channels, kernel_size=1, bias=False
            )
            x = b.add("AvgPool2d", x, name=f"t{i}_pool", kernel_size=2, stride=2)
    x = b.add("BatchNorm", x, name="norm5")
    x = b.add("ReLU", x, name="relu5")
    x = b.add("GlobalAvgPool", x, name="gap")
    x = b.add("Linear", x, name="classifier", out_features=1000)
    b.add("ClassificationOutput", x, name="output")
    apply_layout(d)
    return d


def resnet18_design(input_shape=(3, 64, 64), num_classes=10) -> Design:
    d = Design("ResNet-18 shaped", input_shape=input_shape, num_classes=num_classes)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    x = b.add(
        "Conv2d", x, name="conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False
    )
    x = b.add("BatchNorm", x, name="bn1")
    x = b.add("ReLU", x, name="relu")
    x = b.add("MaxPool2d", x, name="maxpool", kernel_size=3, stride=2, padding=1)
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for i in range(2):
            stride = 2 if stage > 1 and i == 0 else 1
            x = b.add(
                "ResidualBasicBlock", x, name=f"layer{stage}_{i}", out_channels=width, stride=stride
            )
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return d
