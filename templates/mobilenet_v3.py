"""MobileNetV3-Small and -Large (Howard et al., 2019) as torchvision builds them (width 1.0):
MBConv blocks with Hardswish or ReLU, squeeze-and-excitation gated by Hardsigmoid, and
BatchNorm with eps 0.001 and momentum 0.01."""

from functools import partial

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start

# (kernel, expanded channels, output channels, SE, activation, stride), the paper's Tables 1-2.
_SETTINGS = {
    "mobilenet_v3_large": (
        (3, 16, 16, False, "ReLU", 1),
        (3, 64, 24, False, "ReLU", 2),
        (3, 72, 24, False, "ReLU", 1),
        (5, 72, 40, True, "ReLU", 2),
        (5, 120, 40, True, "ReLU", 1),
        (5, 120, 40, True, "ReLU", 1),
        (3, 240, 80, False, "Hardswish", 2),
        (3, 200, 80, False, "Hardswish", 1),
        (3, 184, 80, False, "Hardswish", 1),
        (3, 184, 80, False, "Hardswish", 1),
        (3, 480, 112, True, "Hardswish", 1),
        (3, 672, 112, True, "Hardswish", 1),
        (5, 672, 160, True, "Hardswish", 2),
        (5, 960, 160, True, "Hardswish", 1),
        (5, 960, 160, True, "Hardswish", 1),
    ),
    "mobilenet_v3_small": (
        (3, 16, 16, True, "ReLU", 2),
        (3, 72, 24, False, "ReLU", 2),
        (3, 88, 24, False, "ReLU", 1),
        (5, 96, 40, True, "Hardswish", 2),
        (5, 240, 40, True, "Hardswish", 1),
        (5, 240, 40, True, "Hardswish", 1),
        (5, 120, 48, True, "Hardswish", 1),
        (5, 144, 48, True, "Hardswish", 1),
        (5, 288, 96, True, "Hardswish", 2),
        (5, 576, 96, True, "Hardswish", 1),
        (5, 576, 96, True, "Hardswish", 1),
    ),
}
_LAST_CHANNEL = {"mobilenet_v3_large": 1280, "mobilenet_v3_small": 1024}
_NORM = {"eps": 0.001, "momentum": 0.01}
# torchvision's recipe trains these with RMSprop(momentum=0.9, eps=0.0316, alpha=0.9)
RMSPROP = {"optimizer": "rmsprop", "momentum": 0.9, "eps": 0.0316, "rmsprop_alpha": 0.9}


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible: round to a multiple of 8, never 10% below v."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def build(name, num_classes=1000, input_size=224, dropout=0.2):
    setting = _SETTINGS[name]
    size = "Large" if name.endswith("large") else "Small"
    design, b, x = start(
        f"MobileNetV3-{size}",
        input_size,
        num_classes,
        description=(
            f"A 3x3 Hardswish stem, {len(setting)} MBConv blocks (1x1 expansion, 3x3 or 5x5 "
            "depthwise, squeeze-and-excitation in some, linear 1x1 projection), a 1x1 "
            "convolution, global pooling and a two-layer classifier."
        ),
    )
    x = b.add(
        "ConvBNAct",
        x,
        name="stem",
        out_channels=16,
        kernel_size=3,
        stride=2,
        activation="Hardswish",
        **_NORM,
    )
    channels = 16
    for i, (k, expanded, out, se, act, stride) in enumerate(setting, start=1):
        x = b.add(
            "MBConv",
            x,
            name=f"block{i}",
            out_channels=out,
            expanded_channels=None if expanded == channels else expanded,  # None: no expansion
            kernel_size=k,
            stride=stride,
            activation=act,
            se_channels=make_divisible(expanded // 4) if se else 0,
            se_activation="ReLU",
            se_gate="Hardsigmoid",
            **_NORM,
        )
        channels = out
    last_in = setting[-1][2]
    x = b.add(
        "ConvBNAct",
        x,
        name="conv_last",
        out_channels=6 * last_in,
        kernel_size=1,
        activation="Hardswish",
        **_NORM,
    )
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Linear", x, name="fc1", out_features=_LAST_CHANNEL[name])
    x = b.add("Hardswish", x, name="hardswish")
    x = b.add("Dropout", x, name="dropout", p=dropout)
    x = b.add("Linear", x, name="fc2", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224, dropout=0.2):
    def reference():
        from torchvision.models import get_model

        return get_model(name, weights=None, num_classes=num_classes, dropout=dropout)

    return TorchvisionLink(name, reference)


def _template(name, accuracy, lr, note):
    size = "Large" if name.endswith("large") else "Small"
    return Template(
        name=name,
        title=f"MobileNetV3-{size}",
        description="Found by architecture search for phones: inverted residuals with "
        "squeeze-and-excitation, Hardswish in the deeper half. " + note,
        build=partial(build, name),
        year=2019,
        paper="Howard et al.: Searching for MobileNetV3 (ICCV 2019)",
        input_shape=(3, 224, 224),
        accuracy=accuracy,
        training={
            **recipe(
                lr,
                epochs=600,
                step_size=2,
                gamma=0.973,
                weight_decay=1e-5,
                batch_size=128,
                url=TV_RECIPES + "#mobilenetv3-large--small",
            ),
            **RMSPROP,
        },
        tags=("imagenet", "torchvision", "mobile"),
    )


TEMPLATES = [
    _template(
        "mobilenet_v3_large",
        {"top1": 75.274, "top5": 92.566},
        0.064,
        "Accuracy of torchvision's IMAGENET1K_V2 weights (a longer, modern recipe).",
    ),
    _template(
        "mobilenet_v3_small",
        {"top1": 67.668, "top5": 87.402},
        0.064,
        "2.5M parameters, 0.06 GMACs.",
    ),
]
