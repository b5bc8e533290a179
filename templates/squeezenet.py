"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) as torchvision builds them."""

from functools import partial

from designer.templates import Template
from designer_templates._imagenet import TorchvisionLink, recipe, start

# Fire modules (squeeze, expand1x1, expand3x3) and max poolings, after the first convolution.
_FIRE = {16: (16, 64, 64), 32: (32, 128, 128), 48: (48, 192, 192), 64: (64, 256, 256)}
_LAYOUT = {
    "squeezenet1_0": ((96, 7), (16, 16, 32, "pool", 32, 48, 48, 64, "pool", 64)),
    "squeezenet1_1": ((64, 3), (16, 16, "pool", 32, 32, "pool", 48, 48, 64, 64)),
}


def build(name, num_classes=1000, input_size=224):
    (stem_out, stem_k), body = _LAYOUT[name]
    version = "1.0" if name.endswith("1_0") else "1.1"
    design, b, x = start(
        f"SqueezeNet {version}",
        input_size,
        num_classes,
        description=(
            "A convolution, eight Fire modules (1x1 squeeze, then 1x1 and 3x3 expand) with max "
            "pooling between them, and a 1x1 convolution per class averaged over the image."
        ),
    )
    x = b.add("Conv2d", x, name="conv1", out_channels=stem_out, kernel_size=stem_k, stride=2)
    x = b.add("ReLU", x, name="relu1")
    x = b.add("MaxPool2d", x, name="maxpool1", kernel_size=3, stride=2, ceil_mode=True)
    fire = 2
    for item in body:
        if item == "pool":
            x = b.add(
                "MaxPool2d", x, name=f"maxpool{fire - 1}", kernel_size=3, stride=2, ceil_mode=True
            )
            continue
        s, e1, e3 = _FIRE[item]
        x = b.add("FireModule", x, name=f"fire{fire}", squeeze=s, expand1x1=e1, expand3x3=e3)
        fire += 1
    x = b.add("Dropout", x, name="dropout", p=0.5)
    x = b.add("Conv2d", x, name="conv10", out_channels=num_classes, kernel_size=1)
    x = b.add("ReLU", x, name="relu10")
    x = b.add("GlobalAvgPool", x, name="avgpool")
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=224):
    def reference():
        from torchvision.models import SqueezeNet

        return SqueezeNet(name.removeprefix("squeezenet"), num_classes=num_classes)

    return TorchvisionLink(name, reference)


def _template(name, version, accuracy, note):
    return Template(
        name=name,
        title=f"SqueezeNet {version}",
        description="AlexNet accuracy with 50x fewer parameters (1.2M): Fire modules squeeze "
        "with 1x1 filters before expanding. " + note,
        build=partial(build, name),
        year=2016,
        paper="Iandola et al.: SqueezeNet: AlexNet-level accuracy with 50x fewer parameters "
        "and <0.5MB model size (2016)",
        input_shape=(3, 224, 224),
        accuracy=accuracy,
        training=recipe(
            0.04,
            epochs=68,
            schedule="linear",
            weight_decay=2e-4,
            batch_size=512,
            url="https://github.com/forresti/SqueezeNet",
            note="The paper's Caffe solver: learning rate 0.04 decreasing linearly "
            "to 0 over 170,000 batches of 512 (about 68 epochs).",
        ),
        tags=("imagenet", "torchvision", "compact"),
    )


TEMPLATES = [
    _template("squeezenet1_0", "1.0", {"top1": 58.092, "top5": 80.42}, "The paper's version."),
    _template(
        "squeezenet1_1",
        "1.1",
        {"top1": 58.178, "top5": 80.624},
        "Version 1.1: 2.4x fewer operations, same accuracy.",
    ),
]
