"""EfficientNet-B0 (Tan and Le, 2019) as torchvision builds it: MBConv blocks with SiLU,
squeeze-and-excitation and stochastic depth rising to 0.2 over the 16 blocks."""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start
from designer_templates.mobilenet_v3 import RMSPROP, make_divisible

# (expand ratio, kernel, first stride, input channels, output channels, blocks), as the paper's
# Table 1 gives B0.
_SETTING = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)


def build(num_classes=1000, input_size=224, dropout=0.2, stochastic_depth_prob=0.2):
    design, b, x = start(
        "EfficientNet-B0",
        input_size,
        num_classes,
        description=(
            "A 3x3 SiLU stem, 16 MBConv blocks with squeeze-and-excitation in seven stages, a "
            "1x1 convolution to 1280 channels, global pooling and a linear classifier."
        ),
    )
    x = b.add(
        "ConvBNAct", x, name="stem", out_channels=32, kernel_size=3, stride=2, activation="SiLU"
    )
    total = sum(s[-1] for s in _SETTING)
    index = 0
    for stage, (ratio, k, stride, c_in, c_out, n) in enumerate(_SETTING, start=1):
        for i in range(n):
            channels = c_in if i == 0 else c_out
            expanded = make_divisible(channels * ratio)
            x = b.add(
                "MBConv",
                x,
                name=f"stage{stage}_{i}",
                out_channels=c_out,
                expanded_channels=None if expanded == channels else expanded,
                kernel_size=k,
                stride=stride if i == 0 else 1,
                activation="SiLU",
                se_channels=max(1, channels // 4),
                stochastic_depth_prob=stochastic_depth_prob * index / total,
            )
            index += 1
    x = b.add("ConvBNAct", x, name="conv_last", out_channels=1280, kernel_size=1, activation="SiLU")
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Dropout", x, name="dropout", p=dropout)
    x = b.add("Linear", x, name="classifier", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(
    name, num_classes=1000, input_size=224, dropout=0.2, stochastic_depth_prob=0.2
):
    def reference():
        from torchvision.models import get_model

        return get_model(
            "efficientnet_b0",
            weights=None,
            num_classes=num_classes,
            dropout=dropout,
            stochastic_depth_prob=stochastic_depth_prob,
        )

    return TorchvisionLink("efficientnet_b0", reference)


TEMPLATES = [
    Template(
        name="efficientnet_b0",
        title="EfficientNet-B0",
        description="The base of the EfficientNet family, found by architecture search: MBConv "
        "blocks with squeeze-and-excitation and SiLU; 5.3M parameters, 0.39 GMACs. Weights "
        "ported from the paper's.",
        build=build,
        year=2019,
        paper="Tan, Le: EfficientNet: Rethinking Model Scaling for Convolutional Neural "
        "Networks (ICML 2019)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 77.692, "top5": 93.532},
        training={
            **recipe(
                0.256,
                epochs=350,
                step_size=2,
                gamma=0.97,
                weight_decay=1e-5,
                batch_size=2048,
                url=TV_RECIPES + "#efficientnet-v1",
                note="The paper's recipe (torchvision ports its weights): RMSprop, the rate "
                "decayed by 0.97 every 2.4 epochs (here every 2).",
            ),
            **RMSPROP,
        },
        tags=("imagenet", "torchvision", "mobile"),
    )
]
