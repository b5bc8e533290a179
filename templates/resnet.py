"""ResNet-18/34/50/152 (He et al., 2015), ResNeXt-50 32x4d (Xie et al., 2016) and Wide ResNet-50-2
(Zagoruyko and Komodakis, 2016) as torchvision builds them (v1.5: the stride of a bottleneck sits
on its 3x3 convolution). ResNeXt and Wide ResNet are ResNet-50 with other bottlenecks: the options
`groups` and `width_per_group` set the 3x3 convolution's groups and the width of a group, as
torchvision's ResNet takes them.

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
# torchvision's named ResNets: (block, layers, groups, width_per_group) -> builder name.
TORCHVISION_NAMES = {
    ("basic", (2, 2, 2, 2), 1, 64): "resnet18",
    ("basic", (3, 4, 6, 3), 1, 64): "resnet34",
    ("bottleneck", (3, 4, 6, 3), 1, 64): "resnet50",
    ("bottleneck", (3, 4, 23, 3), 1, 64): "resnet101",
    ("bottleneck", (3, 8, 36, 3), 1, 64): "resnet152",
    ("bottleneck", (3, 4, 6, 3), 32, 4): "resnext50_32x4d",
    ("bottleneck", (3, 4, 6, 3), 1, 128): "wide_resnet50_2",
}
_DEFAULTS = {v: k for k, v in TORCHVISION_NAMES.items()}


def _title(block, layers, groups, width_per_group):
    depth = sum(layers) * (2 if block == "basic" else 3) + 2
    if groups != 1:
        return f"ResNeXt-{depth} {groups}x{width_per_group}d"
    if width_per_group != 64:
        return f"Wide ResNet-{depth}-{width_per_group // 64}"
    return f"ResNet-{depth}"


def _build(block, layers, num_classes, input_size, groups=1, width_per_group=64):
    layers = stage_counts(layers, 4, "layers")
    for value, what in ((groups, "groups"), (width_per_group, "width_per_group")):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{what} must be a whole number of at least 1, got {value!r}")
    design, b, x = start(
        _title(block, layers, groups, width_per_group),
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
            if block == "basic":
                size = {"out_channels": width}
            else:  # torchvision's Bottleneck: width = planes * width_per_group / 64 * groups
                inner = int(width * (width_per_group / 64.0)) * groups
                size = {"width": inner, "expansion": width * 4 // inner, "groups": groups}
                if width * 4 % inner:
                    raise ValueError(
                        f"a bottleneck of width {inner} cannot expand to {width * 4} channels"
                    )
            x = b.add(_BLOCKS[block], x, name=f"layer{stage}_{i}", stride=stride, **size)
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def _builder(block, default_layers, default_groups, default_width):
    if block == "basic":

        def build(layers=default_layers, num_classes=1000, input_size=224):
            return _build(block, layers, num_classes, input_size)

        return build

    def build_bottleneck(
        layers=default_layers,
        num_classes=1000,
        input_size=224,
        groups=default_groups,
        width_per_group=default_width,
    ):
        return _build(block, layers, num_classes, input_size, groups, width_per_group)

    return build_bottleneck


def torchvision_link(name, layers=None, num_classes=1000, input_size=224, **widths):
    block, default_layers, default_groups, default_width = _DEFAULTS[name]
    layers = tuple(layers or default_layers)
    groups = widths.get("groups", default_groups)
    width_per_group = widths.get("width_per_group", default_width)

    def reference():
        from torchvision.models import resnet

        kind = resnet.BasicBlock if block == "basic" else resnet.Bottleneck
        return resnet.ResNet(
            kind,
            list(layers),
            num_classes=num_classes,
            groups=groups,
            width_per_group=width_per_group,
        )

    model = TORCHVISION_NAMES.get((block, layers, groups, width_per_group))
    return TorchvisionLink(model, reference)


_PAPERS = {
    "resnet": "He, Zhang, Ren, Sun: Deep Residual Learning for Image Recognition (CVPR 2016)",
    "resnext": "Xie, Girshick, Dollar, Tu, He: Aggregated Residual Transformations for Deep "
    "Neural Networks (CVPR 2017)",
    "wide_resnet": "Zagoruyko, Komodakis: Wide Residual Networks (BMVC 2016)",
}
_WHAT = {
    "resnet": "Residual learning: {n} {block} blocks with identity shortcuts let very deep "
    "networks train; one linear layer on global average pooling.",
    "resnext": "ResNet-50 whose {n} bottlenecks split their 3x3 convolution into 32 groups of 4 "
    "channels (cardinality): more accurate for the same cost.",
    "wide_resnet": "ResNet-50 with {n} bottlenecks twice as wide inside: fewer layers' worth of "
    "depth traded for width.",
}


def _template(name, accuracy, weights_note=""):
    block, layers, groups, width_per_group = _DEFAULTS[name]
    family = next(f for f in ("resnext", "wide_resnet", "resnet") if name.startswith(f))
    return Template(
        name=name,
        title=_title(block, layers, groups, width_per_group),
        description=_WHAT[family].format(n=sum(layers), block=block) + weights_note,
        build=_builder(block, layers, groups, width_per_group),
        year={"resnet": 2015, "resnext": 2016, "wide_resnet": 2016}[family],
        paper=_PAPERS[family],
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
    _template("resnext50_32x4d", {"top1": 81.198, "top5": 95.34}, _V2),
    _template("wide_resnet50_2", {"top1": 81.602, "top5": 95.758}, _V2),
]
