"""MobileNetV2 (Sandler et al., 2018) as torchvision builds it (width multiplier 1.0)."""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start

# (expand ratio t, output channels c, blocks n, first stride s), as in the paper's Table 2.
_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def build(num_classes=1000, input_size=224):
    design, b, x = start(
        "MobileNetV2",
        input_size,
        num_classes,
        description=(
            "A 3x3 stem, 17 inverted residual blocks (1x1 expand, 3x3 depthwise, linear 1x1 "
            "projection) in seven stages, a 1x1 convolution to 1280 channels and a linear "
            "classifier."
        ),
    )
    x = b.add(
        "ConvBNAct", x, name="stem", out_channels=32, kernel_size=3, stride=2, activation="ReLU6"
    )
    for stage, (t, c, n, s) in enumerate(_SETTING, start=1):
        for i in range(n):
            x = b.add(
                "InvertedResidual",
                x,
                name=f"block{stage}_{i}",
                out_channels=c,
                stride=s if i == 0 else 1,
                expand_ratio=t,
            )
    x = b.add(
        "ConvBNAct", x, name="conv_last", out_channels=1280, kernel_size=1, activation="ReLU6"
    )
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Dropout", x, name="dropout", p=0.2)
    x = b.add("Linear", x, name="classifier", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models import MobileNetV2

        return MobileNetV2(num_classes=num_classes)

    return TorchvisionLink("mobilenet_v2", reference)


TEMPLATES = [
    Template(
        name="mobilenet_v2",
        title="MobileNetV2",
        description="Inverted residuals with linear bottlenecks and depthwise convolutions: "
        "ImageNet accuracy for phones (3.5M parameters, 0.3 GMACs). Accuracy of "
        "torchvision's IMAGENET1K_V2 weights.",
        build=build,
        year=2018,
        paper="Sandler et al.: MobileNetV2: Inverted Residuals and Linear Bottlenecks (CVPR 2018)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 72.154, "top5": 90.822},
        training=recipe(
            0.045,
            epochs=300,
            step_size=1,
            gamma=0.98,
            weight_decay=4e-5,
            url=TV_RECIPES + "#mobilenetv2",
        ),
        tags=("imagenet", "torchvision", "mobile"),
    )
]
