"""Tiny designs and settings for engine tests: digits at their native 8×8, a few thousand
parameters, so an epoch takes milliseconds."""

from __future__ import annotations

import pytest

from designer.training.config import TrainConfig
from tests.helpers import chain


def tiny_design(dropout: bool = True, num_classes: int = 10, batchnorm: bool = False):
    layers = [("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1})]
    if batchnorm:
        layers.append("BatchNorm")
    layers += ["ReLU", ("MaxPool2d", {"kernel_size": 2}), "Flatten"]
    if dropout:
        layers.append(("Dropout", {"p": 0.2}))
    layers.append(("Linear", {"out_features": num_classes}))
    return chain(*layers, input_shape=(1, 8, 8), num_classes=num_classes, name="Tiny")


def tiny_config(**changes) -> TrainConfig:
    settings = {"dataset": "digits", "epochs": 3, "batch_size": 128, "optimizer": "adam", "lr": 0.01,
                "device": "cpu", "augmentation": {"rotation_range": 10.0, "width_shift_range": 0.1}}
    return TrainConfig.from_dict({**settings, **changes})


@pytest.fixture
def design():
    return tiny_design()
