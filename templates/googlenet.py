"""GoogLeNet / Inception v1 (Szegedy et al., 2014) as torchvision builds it, without the two
auxiliary classifiers (they only add training losses; the inference network has none).

torchvision's pretrained GoogLeNet runs with transform_input=True: its forward first turns
ImageNet-normalized inputs into the (x - 0.5) / 0.5 normalization the ported weights expect.
Here that is the option transform_input: a channel-wise Scale and Shift after the input, frozen,
holding exactly torchvision's constants. `--pretrained imagenet` turns it on, as torchvision does.
"""

from designer.templates import Template
from designer_templates._imagenet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TV_RECIPES,
    TorchvisionLink,
    recipe,
    start,
)

# (name, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj); "pool" is a 3x3/2 max pooling.
_MODULES = (
    ("inception3a", 64, 96, 128, 16, 32, 32),
    ("inception3b", 128, 128, 192, 32, 96, 64),
    "pool3",
    ("inception4a", 192, 96, 208, 16, 48, 64),
    ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64),
    ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128),
    "pool4",
    ("inception5a", 256, 160, 320, 32, 128, 128),
    ("inception5b", 384, 192, 384, 48, 128, 128),
)


def transform_constants() -> dict[str, dict[str, list]]:
    """torchvision's _transform_input as per-channel scale and shift values."""
    scale = [[[s / 0.5]] for s in IMAGENET_STD]
    shift = [[[(m - 0.5) / 0.5]] for m in IMAGENET_MEAN]
    return {"transform_scale": {"scale": scale}, "transform_shift": {"shift": shift}}


def build(num_classes=1000, input_size=224, transform_input=False):
    design, b, x = start(
        "GoogLeNet",
        input_size,
        num_classes,
        description=(
            "A stem of convolutions, nine Inception modules (1x1, 3x3, 5x5 and pooling branches "
            "with 1x1 bottlenecks), global average pooling and one linear classifier."
        ),
    )
    if transform_input:
        x = b.add("Scale", x, name="transform_scale", mode="channel")
        x = b.add("Shift", x, name="transform_shift", mode="channel")
        for name in ("transform_scale", "transform_shift"):
            design.find(name).trainable = False
    unit = {"eps": 1e-3}  # torchvision's BasicConv2d: conv without bias, BatchNorm eps 0.001
    x = b.add("ConvBNAct", x, name="conv1", out_channels=64, kernel_size=7, stride=2, **unit)
    x = b.add("MaxPool2d", x, name="maxpool1", kernel_size=3, stride=2, ceil_mode=True)
    x = b.add("ConvBNAct", x, name="conv2", out_channels=64, kernel_size=1, **unit)
    x = b.add("ConvBNAct", x, name="conv3", out_channels=192, kernel_size=3, **unit)
    x = b.add("MaxPool2d", x, name="maxpool2", kernel_size=3, stride=2, ceil_mode=True)
    for m in _MODULES:
        if m == "pool3":
            x = b.add("MaxPool2d", x, name="maxpool3", kernel_size=3, stride=2, ceil_mode=True)
        elif m == "pool4":
            x = b.add("MaxPool2d", x, name="maxpool4", kernel_size=2, stride=2, ceil_mode=True)
        else:
            name, c1, c3r, c3, c5r, c5, pp = m
            # torchvision's third branch is 3x3, not the paper's 5x5 (pytorch/vision#906).
            x = b.add(
                "InceptionModule",
                x,
                name=name,
                ch1x1=c1,
                ch3x3red=c3r,
                ch3x3=c3,
                ch5x5red=c5r,
                ch5x5=c5,
                pool_proj=pp,
                branch3_kernel=3,
                batch_norm=True,
            )
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Dropout", x, name="dropout", p=0.2)
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def inception_link(
    model: str, class_name: str, aux: tuple[str, ...], num_classes: int, transform_input: bool
) -> TorchvisionLink:
    """torchvision's GoogLeNet or Inception3 without its auxiliary heads (``aux``: their
    weights' prefixes), built as the template is."""

    def reference():
        import torchvision.models

        return getattr(torchvision.models, class_name)(
            num_classes=num_classes,
            aux_logits=False,
            transform_input=transform_input,
            init_weights=False,
        )

    return TorchvisionLink(
        model,
        reference,
        ignore=aux,
        fixed=transform_constants() if transform_input else {},
        pretrained_options={"transform_input": True},
    )


def torchvision_link(name, num_classes=1000, input_size=224, transform_input=False):
    return inception_link(
        "googlenet", "GoogLeNet", ("aux1.", "aux2."), num_classes, transform_input
    )


TEMPLATES = [
    Template(
        name="googlenet",
        title="GoogLeNet (Inception v1)",
        description="Inception modules with 1x1 bottlenecks: 12x fewer parameters than AlexNet. "
        "torchvision's version (BatchNorm, 3x3 third branch), no auxiliary heads.",
        build=build,
        year=2014,
        paper="Szegedy et al.: Going Deeper with Convolutions (CVPR 2015)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 69.778, "top5": 89.53},
        training=recipe(
            0.01,
            epochs=250,
            step_size=8,
            gamma=0.96,
            url=TV_RECIPES + "#googlenet",
            note="The paper trains with momentum 0.9 and lowers the learning rate by 4% every "
            "8 epochs; it gives no initial rate or length. torchvision ported its weights.",
        ),
        tags=("imagenet", "torchvision", "inception"),
    )
]
