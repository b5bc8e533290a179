"""ShuffleNetV2 1.0x (Ma et al., 2018) as torchvision builds it: a 3x3 stem, 16 ShuffleNet
units in three stages (4, 8, 4; 116, 232, 464 channels), a 1x1 convolution to 1024 channels,
global pooling and a linear classifier."""

from designer.templates import Template
from designer_templates._imagenet import TorchvisionLink, recipe, start

_REPEATS = (4, 8, 4)
_CHANNELS = (24, 116, 232, 464, 1024)


def build(num_classes=1000, input_size=224):
    design, b, x = start(
        "ShuffleNetV2 1.0x",
        input_size,
        num_classes,
        description=(
            "A 3x3 stem and max pooling, 16 ShuffleNet units (channel split, 1x1-depthwise-1x1, "
            "channel shuffle) in three stages, a 1x1 convolution, global pooling and a linear "
            "classifier."
        ),
    )
    x = b.add("ConvBNAct", x, name="conv1", out_channels=_CHANNELS[0], kernel_size=3, stride=2)
    x = b.add("MaxPool2d", x, name="maxpool", kernel_size=3, stride=2, padding=1)
    for stage, (n, channels) in enumerate(zip(_REPEATS, _CHANNELS[1:]), start=2):
        for i in range(n):
            x = b.add(
                "ShuffleUnit",
                x,
                name=f"stage{stage}_{i}",
                out_channels=channels,
                stride=2 if i == 0 else 1,
            )
    x = b.add("ConvBNAct", x, name="conv5", out_channels=_CHANNELS[-1], kernel_size=1)
    x = b.add("GlobalAvgPool", x, name="globalpool")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models import ShuffleNetV2

        return ShuffleNetV2(list(_REPEATS), list(_CHANNELS), num_classes=num_classes)

    return TorchvisionLink("shufflenet_v2_x1_0", reference)


TEMPLATES = [
    Template(
        name="shufflenet_v2_x1_0",
        title="ShuffleNetV2 1.0x",
        description="Designed for measured speed, not FLOPs: channel split instead of grouped "
        "1x1 convolutions, and a channel shuffle so the halves mix; 2.3M parameters, "
        "0.15 GMACs.",
        build=build,
        year=2018,
        paper="Ma, Zhang, Zheng, Sun: ShuffleNet V2: Practical Guidelines for Efficient CNN "
        "Architecture Design (ECCV 2018)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 69.362, "top5": 88.316},
        training=recipe(
            0.5,
            epochs=240,
            schedule="linear",
            weight_decay=4e-5,
            batch_size=1024,
            url="https://github.com/ericsun99/Shufflenet-v2-Pytorch",
            note="The paper's recipe: SGD, the rate falling linearly from 0.5 to 0 over 300k "
            "iterations.",
        ),
        tags=("imagenet", "torchvision", "mobile"),
    )
]
