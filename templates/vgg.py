"""VGG-16 and VGG-19 (Simonyan and Zisserman, 2014), configurations D and E, and VGG-16 with
BatchNorm after every convolution (torchvision's vgg16_bn)."""

from functools import partial

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start

# Convolutions per stage (64, 128, 256, 512, 512 filters), each stage ending in 2x2 max pooling.
_CONFIGS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4), "vgg16_bn": (2, 2, 3, 3, 3)}


def build(name, num_classes=1000, input_size=224):
    depth = sum(_CONFIGS[name]) + 3
    bn = name.endswith("_bn")
    design, b, x = start(
        f"VGG-{depth}" + (" with BatchNorm" if bn else ""),
        input_size,
        num_classes,
        description=(
            f"Five stages of 3x3 convolutions ({'-'.join(map(str, _CONFIGS[name]))}"
            f"{', each with BatchNorm' if bn else ''}) each followed by 2x2 max pooling, then "
            "three fully connected layers."
        ),
    )
    for stage, (n, width) in enumerate(zip(_CONFIGS[name], (64, 128, 256, 512, 512)), start=1):
        for i in range(1, n + 1):
            x = b.add(
                "Conv2d", x, name=f"conv{stage}_{i}", out_channels=width, kernel_size=3, padding=1
            )
            if bn:
                x = b.add("BatchNorm", x, name=f"bn{stage}_{i}")
            x = b.add("ReLU", x, name=f"relu{stage}_{i}")
        x = b.add("MaxPool2d", x, name=f"pool{stage}", kernel_size=2, stride=2)
    # torchvision's AdaptiveAvgPool2d((7, 7)) is the identity at 224 x 224, so there is none.
    x = b.add("Flatten", x, name="flatten")
    for i in (6, 7):
        x = b.add("Linear", x, name=f"fc{i}", out_features=4096)
        x = b.add("ReLU", x, name=f"relu{i}")
        x = b.add("Dropout", x, name=f"dropout{i}", p=0.5)
    x = b.add("Linear", x, name="fc8", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models import vgg

        config = vgg.cfgs["E" if name == "vgg19" else "D"]
        return vgg.VGG(
            vgg.make_layers(config, batch_norm=name.endswith("_bn")), num_classes=num_classes
        )

    return TorchvisionLink(name, reference)


def _template(name, depth, accuracy):
    bn = name.endswith("_bn")
    return Template(
        name=name,
        title=f"VGG-{depth}" + (" with BatchNorm" if bn else ""),
        description=f"{depth} weight layers of small 3x3 convolutions: simple, deep and heavy "
        "(most parameters sit in fc6)"
        + (", with BatchNorm after each convolution (trains faster)" if bn else "")
        + ". Takes 224 x 224 (the flatten size fixes fc6).",
        build=partial(build, name),
        year=2014,
        paper="Simonyan, Zisserman: Very Deep Convolutional Networks for Large-Scale Image "
        "Recognition (ICLR 2015)",
        input_shape=(3, 224, 224),
        accuracy=accuracy,
        training=recipe(0.01, url=TV_RECIPES + "#alexnet-and-vgg"),
        tags=("imagenet", "torchvision", "classic"),
    )


TEMPLATES = [
    _template("vgg16", 16, {"top1": 71.592, "top5": 90.382}),
    _template("vgg19", 19, {"top1": 72.376, "top5": 90.876}),
    _template("vgg16_bn", 16, {"top1": 73.36, "top5": 91.516}),
]
