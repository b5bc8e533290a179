"""The Keras MNIST multilayer perceptron of lecture 4 (seed 003): 932,362 parameters."""

from designer.templates import Template
from designer_templates._course import start


def build():
    design, b, x = start(
        "MNIST MLP",
        (784,),
        description=(
            "Dense 512 - Dropout - Dense 512 - Dropout - Dense 512 - Dropout - Dense 10 on 784 "
            "inputs."
        ),
    )
    for i in (1, 2, 3):
        x = b.add("Linear", x, name=f"dense{i}", out_features=512)
        x = b.add("ReLU", x, name=f"relu{i}")
        x = b.add("Dropout", x, name=f"dropout{i}", p=0.2)
    x = b.add("Linear", x, name="dense4", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    return design


TEMPLATES = [
    Template(
        name="mnist_mlp",
        title="MNIST MLP",
        description="Keras' MNIST multilayer perceptron: three Dense 512 layers with dropout.",
        build=build,
        year=2015,
        paper="Keras examples: mnist_mlp.py",
        input_shape=(784,),
        training={
            "dataset": "digits",
            "optimizer": "rmsprop",
            "lr": 0.001,
            "schedule": "constant",
            "epochs": 20,
            "batch_size": 128,
        },
        tags=("course",),
    )
]
