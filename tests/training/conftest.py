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
    settings = {
        "dataset": "digits",
        "epochs": 3,
        "batch_size": 128,
        "optimizer": "adam",
        "lr": 0.01,
        "device": "cpu",
        "augmentation": {"rotation_range": 10.0, "width_shift_range": 0.1},
    }
    return TrainConfig.from_dict({**settings, **changes})


@pytest.fixture
def design():
    return tiny_design()


# The learning rate warms up past what the tiny model takes: its best epoch (2) is better than
# its last (3), so best.safetensors and last.safetensors differ (checked where it matters).
LAST_IS_WORSE = {"epochs": 3, "optimizer": "adam", "lr": 0.15, "warmup_epochs": 3}


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """A finished digits run of the tiny design whose best and last epochs differ; read-only
    (copy it before changing it)."""
    from designer.training.engine import Trainer

    path = tmp_path_factory.mktemp("finished") / "run"
    end = Trainer(tiny_design(), tiny_config(**LAST_IS_WORSE), path).run_to_end()
    assert end.status == "completed" and end.best_epoch == 2 and end.epochs_run == 3, end
    return path
