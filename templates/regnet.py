"""RegNetY-400MF (Radosavovic et al., 2020) as torchvision builds it: a 3x3 stem and 16 RegNet
bottlenecks with squeeze-and-excitation in four stages (1, 3, 6, 6 blocks; 48, 104, 208, 440
channels; groups of 8 channels), global pooling and a linear classifier."""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start

# (blocks, channels) per stage, as torchvision derives them from depth 16, w_0 48, w_a 27.89,
# w_m 2.09; every stage starts with stride 2.
_STAGES = ((1, 48), (3, 104), (6, 208), (6, 440))
_GROUP_WIDTH = 8
_SE_RATIO = 0.25


def build(num_classes=1000, input_size=224):
    design, b, x = start(
        "RegNetY-400MF",
        input_size,
        num_classes,
        description=(
            "A 3x3 stem, 16 residual bottlenecks with grouped 3x3 convolutions and "
            "squeeze-and-excitation in four stages (1-3-6-6), global pooling and a linear "
            "classifier."
        ),
    )
    x = b.add("ConvBNAct", x, name="stem", out_channels=32, kernel_size=3, stride=2)
    channels = 32
    for stage, (n, width) in enumerate(_STAGES, start=1):
        for i in range(n):
            x = b.add(
                "RegNetBottleneck",
                x,
                name=f"block{stage}_{i}",
                out_channels=width,
                stride=2 if i == 0 else 1,
                group_width=_GROUP_WIDTH,
                se_channels=round(_SE_RATIO * channels),  # of the block's input, as RegNet does
            )
            channels = width
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models.regnet import BlockParams, RegNet

        # the stages given, not derived (deriving runs tensor ops, which a model built on the
        # meta device cannot)
        n = len(_STAGES)
        params = BlockParams(
            depths=[d for d, _ in _STAGES],
            widths=[w for _, w in _STAGES],
            group_widths=[_GROUP_WIDTH] * n,
            bottleneck_multipliers=[1.0] * n,
            strides=[2] * n,
            se_ratio=_SE_RATIO,
        )
        return RegNet(params, num_classes=num_classes)

    return TorchvisionLink("regnet_y_400mf", reference)


TEMPLATES = [
    Template(
        name="regnet_y_400mf",
        title="RegNetY-400MF",
        description="From a design space, not a search: stage widths grow along a quantized "
        "line, blocks are ResNeXt-like bottlenecks with squeeze-and-excitation; 4.3M "
        "parameters, 0.4 GMACs. Accuracy of torchvision's IMAGENET1K_V2 weights (a longer, "
        "modern recipe).",
        build=build,
        year=2020,
        paper="Radosavovic, Kosaraju, Girshick, He, Dollar: Designing Network Design Spaces "
        "(CVPR 2020)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 75.804, "top5": 92.742},
        training=recipe(
            0.8,
            epochs=100,
            schedule="cosine",
            weight_decay=5e-5,
            batch_size=1024,
            url=TV_RECIPES + "#regnet",
        ),
        tags=("imagenet", "torchvision", "residual"),
    )
]
