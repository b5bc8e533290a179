"""DenseNet-121 (Huang et al., 2016) as torchvision builds it.

A stage is one DenseBlock node; its num_layers parameter is the stage's depth. Setting the four
blocks to 6-12-32-32 gives DenseNet-169 and 6-12-48-32 DenseNet-201 (the option block_config
does the same when the design is made), and torchvision's weights for those map the same way.
"""

from designer.templates import Template
from designer_templates._imagenet import TorchvisionLink, recipe, stage_counts, start

# torchvision's named DenseNets: (growth_rate, block_config, num_init_features) -> builder.
TORCHVISION_NAMES = {
    (32, (6, 12, 24, 16), 64): "densenet121",
    (48, (6, 12, 36, 24), 96): "densenet161",
    (32, (6, 12, 32, 32), 64): "densenet169",
    (32, (6, 12, 48, 32), 64): "densenet201",
}


def build(
    block_config=(6, 12, 24, 16),
    growth_rate=32,
    num_init_features=64,
    bn_size=4,
    num_classes=1000,
    input_size=224,
):
    blocks = stage_counts(block_config, 4, "block_config")
    depth = 2 * sum(blocks) + 5
    design, b, x = start(
        f"DenseNet-{depth}",
        input_size,
        num_classes,
        description=(
            f"A 7x7 stem, four dense blocks ({'-'.join(map(str, blocks))} layers, growth rate "
            f"{growth_rate}) joined by 1x1 transitions that halve the channels, then BatchNorm, "
            "ReLU, global average pooling and a linear classifier."
        ),
    )
    x = b.add(
        "Conv2d",
        x,
        name="conv0",
        out_channels=num_init_features,
        kernel_size=7,
        stride=2,
        padding=3,
        bias=False,
    )
    x = b.add("BatchNorm", x, name="norm0")
    x = b.add("ReLU", x, name="relu0")
    x = b.add("MaxPool2d", x, name="pool0", kernel_size=3, stride=2, padding=1)
    for i, n in enumerate(blocks, start=1):
        x = b.add(
            "DenseBlock",
            x,
            name=f"denseblock{i}",
            num_layers=n,
            growth_rate=growth_rate,
            bn_size=bn_size,
        )
        if i < len(blocks):
            x = b.add("DenseTransition", x, name=f"transition{i}", compression=0.5)
    x = b.add("BatchNorm", x, name="norm5")
    x = b.add("ReLU", x, name="relu5")
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="classifier", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(
    name,
    block_config=(6, 12, 24, 16),
    growth_rate=32,
    num_init_features=64,
    bn_size=4,
    num_classes=1000,
    input_size=224,
):
    blocks = tuple(block_config)

    def reference():
        from torchvision.models import DenseNet

        return DenseNet(
            growth_rate=growth_rate,
            block_config=blocks,
            num_init_features=num_init_features,
            bn_size=bn_size,
            num_classes=num_classes,
        )

    model = TORCHVISION_NAMES.get((growth_rate, blocks, num_init_features))
    return TorchvisionLink(model if bn_size == 4 else None, reference)


TEMPLATES = [
    Template(
        name="densenet121",
        title="DenseNet-121",
        description="Every layer of a dense block sees all earlier outputs (concatenated): "
        "strong features from few parameters (8M).",
        build=build,
        year=2016,
        paper="Huang, Liu, van der Maaten, Weinberger: Densely Connected Convolutional Networks "
        "(CVPR 2017)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 74.434, "top5": 91.972},
        training=recipe(
            0.1,
            url="https://github.com/pytorch/vision/pull/116",
            note="The paper: 90 epochs, batch 256, learning rate 0.1 divided by 10 "
            "at epochs 30 and 60, Nesterov momentum 0.9, weight decay 1e-4.",
        ),
        tags=("imagenet", "torchvision", "dense"),
    )
]
