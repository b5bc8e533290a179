"""Inception-v3 (Szegedy et al., 2015) as torchvision builds it, without the auxiliary classifier
(it only adds a training loss; the inference network has none). Its input is 299 x 299.

torchvision's pretrained Inception-v3 runs with transform_input=True, as GoogLeNet does: the
option transform_input adds the same frozen channel-wise Scale and Shift after the input, and
`--pretrained imagenet` turns it on.
"""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, recipe, start
from designer_templates.googlenet import inception_link

# (name, block type, params) after the stem; torchvision's Mixed_5b ... Mixed_7c.
_MODULES = (
    ("mixed_5b", "InceptionA", {"pool_features": 32}),
    ("mixed_5c", "InceptionA", {"pool_features": 64}),
    ("mixed_5d", "InceptionA", {"pool_features": 64}),
    ("mixed_6a", "InceptionB", {}),
    ("mixed_6b", "InceptionC", {"channels_7x7": 128}),
    ("mixed_6c", "InceptionC", {"channels_7x7": 160}),
    ("mixed_6d", "InceptionC", {"channels_7x7": 160}),
    ("mixed_6e", "InceptionC", {"channels_7x7": 192}),
    ("mixed_7a", "InceptionD", {}),
    ("mixed_7b", "InceptionE", {}),
    ("mixed_7c", "InceptionE", {}),
)


def build(num_classes=1000, input_size=299, transform_input=False):
    design, b, x = start(
        "Inception-v3",
        input_size,
        num_classes,
        description=(
            "A stem of five convolutions and two max poolings, eleven Inception modules "
            "(A x 3, reduction B, C x 4 with factorized 7x7s, reduction D, E x 2), global "
            "average pooling, dropout and a linear classifier."
        ),
    )
    if transform_input:
        x = b.add("Scale", x, name="transform_scale", mode="channel")
        x = b.add("Shift", x, name="transform_shift", mode="channel")
        for name in ("transform_scale", "transform_shift"):
            design.find(name).trainable = False
    unit = {"eps": 1e-3}  # torchvision's BasicConv2d: conv without bias, BatchNorm eps 0.001
    stem = (
        ("conv1a_3x3", 32, 3, 2, 0),
        ("conv2a_3x3", 32, 3, 1, 0),
        ("conv2b_3x3", 64, 3, 1, 1),
        "maxpool1",
        ("conv3b_1x1", 80, 1, 1, 0),
        ("conv4a_3x3", 192, 3, 1, 0),
        "maxpool2",
    )
    for layer in stem:
        if isinstance(layer, str):
            x = b.add("MaxPool2d", x, name=layer, kernel_size=3, stride=2)
            continue
        name, out, k, stride, padding = layer
        x = b.add(
            "ConvBNAct",
            x,
            name=name,
            out_channels=out,
            kernel_size=k,
            stride=stride,
            padding=padding,
            **unit,
        )
    for name, type_name, params in _MODULES:
        x = b.add(type_name, x, name=name, **params)
    x = b.add("GlobalAvgPool", x, name="avgpool")
    x = b.add("Dropout", x, name="dropout", p=0.5)
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def torchvision_link(name, num_classes=1000, input_size=299, transform_input=False):
    return inception_link(
        "inception_v3", "Inception3", ("AuxLogits.",), num_classes, transform_input
    )


TEMPLATES = [
    Template(
        name="inception_v3",
        title="Inception-v3",
        description="Inception modules with factorized convolutions (5x5 as two 3x3, 7x7 as "
        "1x7 and 7x1) and grid reductions by parallel branches; 299 x 299 input. torchvision's "
        "version without the auxiliary classifier. Weights ported from the paper's.",
        build=build,
        year=2015,
        paper="Szegedy, Vanhoucke, Ioffe, Shlens, Wojna: Rethinking the Inception Architecture "
        "for Computer Vision (CVPR 2016)",
        input_shape=(3, 299, 299),
        accuracy={"top1": 77.294, "top5": 93.45},
        training=recipe(
            0.045,
            epochs=100,
            step_size=2,
            gamma=0.94,
            weight_decay=4e-5,
            batch_size=32,
            url=TV_RECIPES + "#inception-v3",
            note="The paper trains with RMSProp (decay 0.9, eps 1.0), lr 0.045 decayed by 0.94 "
            "every 2 epochs, and label smoothing; torchvision ported its weights.",
        ),
        tags=("imagenet", "torchvision", "inception"),
    )
]
