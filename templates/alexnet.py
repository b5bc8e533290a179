"""AlexNet (Krizhevsky et al., 2012) as torchvision builds it (its single-GPU variant)."""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start


def build(num_classes=1000, input_size=224):
    design, b, x = start(
        "AlexNet",
        input_size,
        num_classes,
        description=(
            "CONV-POOL-CONV-POOL-CONV-CONV-CONV-POOL, then three fully connected layers with "
            "dropout (torchvision's one-GPU version, without LRN)."
        ),
    )
    convs = (
        (64, 11, 4, 2, True),
        (192, 5, 1, 2, True),
        (384, 3, 1, 1, False),
        (256, 3, 1, 1, False),
        (256, 3, 1, 1, True),
    )
    for i, (out, k, s, pad, pool) in enumerate(convs, start=1):
        x = b.add(
            "Conv2d", x, name=f"conv{i}", out_channels=out, kernel_size=k, stride=s, padding=pad
        )
        x = b.add("ReLU", x, name=f"relu{i}")
        if pool:
            x = b.add("MaxPool2d", x, name=f"pool{i}", kernel_size=3, stride=2)
    # torchvision's AdaptiveAvgPool2d((6, 6)) is the identity at 224 x 224, so there is none.
    x = b.add("Flatten", x, name="flatten")
    for i in (6, 7):
        x = b.add("Dropout", x, name=f"dropout{i}", p=0.5)
        x = b.add("Linear", x, name=f"fc{i}", out_features=4096)
        x = b.add("ReLU", x, name=f"relu{i}")
    x = b.add("Linear", x, name="fc8", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models import AlexNet

        return AlexNet(num_classes=num_classes)

    return TorchvisionLink("alexnet", reference)


TEMPLATES = [
    Template(
        name="alexnet",
        title="AlexNet",
        description="The 2012 ImageNet winner: 5 convolutions, 3 dense layers, ReLU and dropout "
        "(61M parameters). Takes 224 x 224 (the flatten size fixes fc6).",
        build=build,
        year=2012,
        paper="Krizhevsky, Sutskever, Hinton: ImageNet Classification with Deep Convolutional "
        "Neural Networks (NIPS 2012); torchvision follows 'One weird trick' (2014)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 56.522, "top5": 79.066},
        training=recipe(0.01, url=TV_RECIPES + "#alexnet-and-vgg"),
        tags=("imagenet", "torchvision", "classic"),
    )
]
