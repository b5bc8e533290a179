"""The networks of the thesis defence (seed 001, "Gradient learning of deep neural networks"):
a fully convolutional network and a multilayer perceptron for CIFAR-10/100 (32x32 RGB), each
plain, with batch normalization, or with the thesis' shift and scale layers, with or without
dropout.

The slides give the setting but not the layer sizes (the figures did not survive), so the
layers are our choice: the fully convolutional network follows All-CNN-C (Springenberg et al.,
2015), the standard fully convolutional CIFAR network of the time; the perceptron has three
hidden layers. What the slides fix is kept: ReLU everywhere, softmax only at the output (in the
loss), 10 or 100 outputs, and shift / scale layers after the input and after every activation
except the last, all in one mode (element-, channel- or layer-wise; layer-wise was best).
"""

from functools import partial

from designer.templates import Template
from designer_templates._course import start

VARIANTS = ("plain", "batchnorm", "shift", "scale", "shiftscale")
MODES = ("layer", "channel", "element")

# All-CNN-C: (filters, kernel, stride, padding); dropout follows the stride-2 layers.
_FCN = (
    (96, 3, 1, 1),
    (96, 3, 1, 1),
    (96, 3, 2, 1),
    (192, 3, 1, 1),
    (192, 3, 1, 1),
    (192, 3, 2, 1),
    (192, 3, 1, 0),
    (192, 1, 1, 0),
)


def _check(variant, mode, num_classes):
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if num_classes not in (10, 100):
        raise ValueError(
            f"num_classes must be 10 (CIFAR-10) or 100 (CIFAR-100), got {num_classes!r}"
        )


def _after_activation(b, x, variant, mode, tag):
    """The thesis' change: shift and/or scale after the input and after each activation."""
    if variant in ("shift", "shiftscale"):
        x = b.add("Shift", x, name=f"shift_{tag}", mode=mode)
    if variant in ("scale", "shiftscale"):
        x = b.add("Scale", x, name=f"scale_{tag}", mode=mode)
    return x


def _title(arch, variant, mode, dropout, num_classes):
    parts = {
        "plain": "",
        "batchnorm": " + BN",
        "shift": f" + {mode}-wise shift",
        "scale": f" + {mode}-wise scale",
        "shiftscale": f" + {mode}-wise shift & scale",
    }
    return f"{arch} CIFAR-{num_classes}{parts[variant]}{' + dropout' if dropout else ''}"


def _start(arch, variant, mode, dropout, num_classes, description):
    _check(variant, mode, num_classes)
    design, b, x = start(
        _title(arch, variant, mode, dropout, num_classes),
        (3, 32, 32),
        num_classes,
        description=description,
    )
    design.metadata["training"] = {"dataset": f"cifar{num_classes}"}
    x = _after_activation(b, x, variant, mode, "input")
    if dropout:
        x = b.add("Dropout", x, name="dropout_input", p=0.2)
    return design, b, x


def build_fcn(variant="plain", dropout=False, num_classes=10, mode="layer"):
    design, b, x = _start(
        "Fully convolutional",
        variant,
        mode,
        dropout,
        num_classes,
        (
            "All-CNN-C: eight 3x3 / 1x1 convolutions with ReLU, two of them with stride 2 instead "
            "of pooling, a 1x1 convolution per class and global average pooling."
        ),
    )
    bn = variant == "batchnorm"
    for i, (filters, k, s, pad) in enumerate(_FCN, start=1):
        # The bias stays with batch norm (redundant, zero at the start): building a layer
        # without it would draw fewer random numbers, and the variants would not start from
        # the same weights (the thesis: "the same initialization for every variant").
        x = b.add(
            "Conv2d", x, name=f"conv{i}", out_channels=filters, kernel_size=k, stride=s, padding=pad
        )
        if bn:
            x = b.add("BatchNorm", x, name=f"bn{i}")
        x = b.add("ReLU", x, name=f"relu{i}")
        x = _after_activation(b, x, variant, mode, str(i))
        if dropout and s == 2:
            x = b.add("Dropout", x, name=f"dropout{i}", p=0.5)
    x = b.add("Conv2d", x, name="conv_classes", out_channels=num_classes, kernel_size=1)
    x = b.add("GlobalAvgPool", x, name="avgpool")
    b.add("ClassificationOutput", x, name="output")
    return design


def build_mlp(
    variant="plain", dropout=False, num_classes=10, mode="layer", hidden=(1024, 512, 256)
):
    design, b, x = _start(
        "MLP",
        variant,
        mode,
        dropout,
        num_classes,
        (
            f"The 3072 pixel values, {len(hidden)} fully connected hidden layers "
            f"({'-'.join(map(str, hidden))}) with ReLU, and one output per class."
        ),
    )
    x = b.add("Flatten", x, name="flatten")
    bn = variant == "batchnorm"
    if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
        raise ValueError(f"hidden must be one or more widths of at least 1, got {hidden!r}")
    for i, width in enumerate(hidden, start=1):
        x = b.add("Linear", x, name=f"fc{i}", out_features=width)  # with its bias: see build_fcn
        if bn:
            x = b.add("BatchNorm", x, name=f"bn{i}")
        x = b.add("ReLU", x, name=f"relu{i}")
        x = _after_activation(b, x, variant, mode, str(i))
        if dropout:
            x = b.add("Dropout", x, name=f"dropout{i}", p=0.5)
    x = b.add("Linear", x, name="fc_out", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


_TRAINING = {
    "dataset": "cifar10",
    "optimizer": "sgd",
    "momentum": 0.9,
    "lr": 0.04,
    "schedule": "constant",
    "epochs": 50,
    "batch_size": 128,
    "init": "he",
    "preprocessing": {"center": "mean_pixel", "standardize": True},
    "note": "The thesis: SGD with momentum 0.9, learning rates 0.02 / 0.04 / 0.08, He "
    "initialization (the same for every variant), cross-entropy, normalized inputs.",
}
_OPTIONS = (
    "Options: variant=plain|batchnorm|shift|scale|shiftscale, mode=layer|channel|element, "
    "dropout=true|false, num_classes=10|100."
)
_PAPER = (
    "Bui: Gradientové učenie hlbokých neurónových sietí (Gradient learning of deep "
    "neural networks), thesis defence, 2018 (seed 001)"
)


def _template(name, title, build, description):
    return Template(
        name=name,
        title=title,
        description=description + " " + _OPTIONS,
        build=build,
        year=2018,
        paper=_PAPER,
        input_shape=(3, 32, 32),
        training=dict(_TRAINING),
        tags=("course", "thesis", "cifar"),
    )


TEMPLATES = [
    _template(
        "thesis_fcn",
        "Thesis: fully convolutional network",
        build_fcn,
        "The thesis' fully convolutional CIFAR network (All-CNN-C layers), plain, with "
        "batch norm or with shift and scale layers.",
    ),
    _template(
        "thesis_fcn_shiftscale",
        "Thesis: FCN with layer-wise shift and scale",
        partial(build_fcn, "shiftscale"),
        "The thesis' best change: layer-wise shift and scale after the input and after "
        "every ReLU of the fully convolutional network.",
    ),
    _template(
        "thesis_mlp",
        "Thesis: multilayer perceptron",
        build_mlp,
        "The thesis' multilayer perceptron for CIFAR (3072-1024-512-256-classes), plain, "
        "with batch norm or with shift and scale layers.",
    ),
]
