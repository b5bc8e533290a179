"""The Keras CIFAR-10 CNN of lecture 4 (seed 003): 1,345,066 parameters, 1,920 non-trainable."""

from designer.templates import Template
from designer_templates._course import start

BN_PLACES = ("after", "before")


def build(bn="after", bn_scale_bias=True):
    """bn: batch normalization after each ReLU (the lecture's Keras model) or before it (the
    original paper's place); bn_scale_bias: whether it learns a scale and bias per channel.
    Seed 000's table compares the four (after wins)."""
    if bn not in BN_PLACES:
        raise ValueError(f"bn must be one of {', '.join(BN_PLACES)}, got {bn!r}")
    design, b, x = start(
        "CIFAR-10 CNN",
        (3, 32, 32),
        description=(
            "[Conv-BN-Conv-BN-MaxPool-Dropout] with 32, 64 and 128 filters, then Dense "
            "512-BN-Dropout and Dense 10."
        ),
    )

    def relu_and_bn(x, relu, norm):
        norm_params = {} if bn_scale_bias else {"affine": False}
        names = [("ReLU", relu, {}), ("BatchNorm", norm, norm_params)]
        for type_name, name, params in names if bn == "after" else reversed(names):
            x = b.add(type_name, x, name=name, **params)
        return x

    for stage, (filters, drop) in enumerate(((32, 0.2), (64, 0.3), (128, 0.4)), start=1):
        for i in (1, 2):
            x = b.add(
                "Conv2d",
                x,
                name=f"conv{stage}_{i}",
                out_channels=filters,
                kernel_size=3,
                padding="same",
            )
            x = relu_and_bn(x, f"relu{stage}_{i}", f"bn{stage}_{i}")
        x = b.add("MaxPool2d", x, name=f"pool{stage}", kernel_size=2)
        x = b.add("Dropout", x, name=f"dropout{stage}", p=drop)
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Linear", x, name="dense1", out_features=512)
    x = relu_and_bn(x, "relu_dense", "bn_dense")
    x = b.add("Dropout", x, name="dropout_dense", p=0.5)
    x = b.add("Linear", x, name="dense2", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    return design


TEMPLATES = [
    Template(
        name="cifar10_cnn",
        title="CIFAR-10 CNN",
        description="Lecture 4's Keras CIFAR-10 network (about 90% with augmentation). Options: "
        "bn=after|before (batch norm after or before each ReLU), "
        "bn_scale_bias=true|false.",
        build=build,
        year=2017,
        paper="Lecture 4 (seed 003): Keras CIFAR-10 CNN with batch normalization",
        input_shape=(3, 32, 32),
        training={
            "dataset": "cifar10",
            "optimizer": "adam",
            "lr": 0.001,
            "schedule": "cosine",
            "epochs": 50,
            "batch_size": 64,
            "augmentation": {
                "horizontal_flip": True,
                "rotation_range": 15.0,
                "width_shift_range": 0.1,
                "height_shift_range": 0.1,
            },
        },
        tags=("course",),
    )
]
