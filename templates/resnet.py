"""ResNet-18/34/50/152 (He et al., 2015) as torchvision builds them (v1.5: the stride of a
bottleneck sits on its 3x3 convolution).

The canvas shows the stem, one node per residual block and the head: ResNet-50 is a stem,
16 bottleneck blocks and a head. A stage is a run of blocks: the option `layers` gives the blocks
per stage (ResNet-50 with layers=3,4,23,3 is ResNet-101), and in a design
`designer.core.transfer.set_stage_depth` changes a stage's block count; either way the result is
the torchvision model with those layers and its weights map the same way.
"""

from designer.templates import Template
from designer_templates._imagenet import (
    TV_RECIPES,
    TorchvisionLink,
    recipe,
    stage_counts,
    start,
)

_BLOCKS = {"basic": "ResidualBasicBlock", "bottleneck": "ResidualBottleneck"}
# torchvision's named ResNets: (block, layers) -> builder name.
TORCHVISION_NAMES = {
    ("basic", (2, 2, 2, 2)): "resnet18",
    ("basic", (3, 4, 6, 3)): "resnet34",
    ("bottleneck", (3, 4, 6, 3)): "resnet50",
    ("bottleneck", (3, 4, 23, 3)): "resnet101",
    ("bottleneck", (3, 8, 36, 3)): "resnet152",
}
_DEFAULT_LAYERS = {v: k[1] for k, v in TORCHVISION_NAMES.items()}


def _build(block, layers, num_classes, input_size):
    layers = stage_counts(layers, 4, "layers")
    depth = sum(layers) * (2 if block == "basic" else 3) + 2
    design, b, x = start(
        f"ResNet-{depth}",
        input_size,
        num_classes,
        description=(
            f"A 7x7 stem, {sum(layers)} {block} residual blocks in four stages "
            f"({'-'.join(map(str, layers))}), global average pooling and a linear classifier."
        ),
    )
    x = b.add(
        "Conv2d", x, name="conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False
    )
    x = b.add("BatchNorm", x, name="bn1")
    x = b.add("ReLU", x, name="relu")
    x = b.add("MaxPool2d", x, name="maxpool", kernel_size=3, stride=2, padding=1)
    for stage, (count, width) in enumerate(zip(layers, (64, 128, 256, 512)), start=1):
        for i in range(count):
            stride = 2 if stage > 1 and i == 0 else 1
            size = {"out_channels": width} if block == "basic" else {"width": width}
            x = b.add(_BLOCKS[block], x, name=f"layer{stage}_{i}", stride=stride, **size)
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def _builder(block, default_layers):
    def build(layers=default_layers, num_classes=1000, input_size=224):
        return _build(block, layers, num_classes, input_size)

    return build


def _block_of(name):
    return "basic" if name in ("resnet18", "resnet34") else "bottleneck"


def torchvision_link(name, layers=None, num_classes=1000, input_size=224):
    block = _block_of(name)
    layers = tuple(layers or _DEFAULT_LAYERS[name])

    def reference():
        from torchvision.models import resnet

        kind = resnet.BasicBlock if block == "basic" else resnet.Bottleneck
        return resnet.ResNet(kind, list(layers), num_classes=num_classes)

    return TorchvisionLink(TORCHVISION_NAMES.get((block, layers)), reference)


def _template(name, accuracy, weights_note=""):
    block, layers = _block_of(name), _DEFAULT_LAYERS[name]
    depth = name.removeprefix("resnet")
    return Template(
        name=name,
        title=f"ResNet-{depth}",
        description=f"Residual learning: {sum(layers)} {block} blocks with identity shortcuts "
        "let very deep networks train; one linear layer on global average pooling." + weights_note,
        build=_builder(block, layers),
        year=2015,
        paper="He, Zhang, Ren, Sun: Deep Residual Learning for Image Recognition (CVPR 2016)",
        input_shape=(3, 224, 224),
        accuracy=accuracy,
        training=recipe(0.1, url=TV_RECIPES + "#resnet"),
        tags=("imagenet", "torchvision", "residual"),
    )


_V2 = (
    " Accuracy of torchvision's IMAGENET1K_V2 weights (a longer, modern recipe); "
    "the training settings are the classic 90-epoch one."
)

TEMPLATES = [
    _template("resnet18", {"top1": 69.758, "top5": 89.078}),
    _template("resnet34", {"top1": 73.314, "top5": 91.42}),
    _template("resnet50", {"top1": 80.858, "top5": 95.434}, _V2),
    _template("resnet152", {"top1": 82.284, "top5": 96.002}, _V2),
]
