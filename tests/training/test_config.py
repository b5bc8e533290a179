"""Training settings: defaults, the template's settings, JSON round trips, clear refusals."""

from __future__ import annotations

import json

import pytest

from designer.templates import new_from_template
from designer.training.config import ConfigError, TrainConfig, config_for_design


def test_round_trip_through_json():
    config = TrainConfig.from_dict(
        {
            "optimizer": "nesterov",
            "lr": 0.05,
            "schedule": "cyclic",
            "dropout": 0.3,
            "augmentation": {"horizontal_flip": True, "rotation_range": 5},
            "preprocessing": {"center": "mean_pixel", "standardize": True},
        }
    )
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.augmentation.rotation_range == 5.0 and again.preprocessing.standardize


def test_whole_numbers_are_accepted_for_numbers():
    assert TrainConfig.from_dict({"lr": 1, "warmup_epochs": 2}).lr == 1.0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"lrate": 0.1}, "unknown training setting 'lrate'"),
        ({"lr": "fast"}, "'lr' must be a number, got 'fast'"),
        ({"epochs": 2.5}, "'epochs' must be a whole number"),
        ({"epochs": True}, "'epochs' must be a whole number"),
        ({"dropout": "half"}, "'dropout' must be a number or null"),
        (
            {"optimizer": "adagrad"},
            "'optimizer' must be one of sgd, momentum, nesterov, rmsprop, adam, adamw",
        ),
        (
            {"schedule": "polynomial"},
            "'schedule' must be one of constant, step, exponential, linear",
        ),
        ({"loss": "hinge"}, "'loss' must be one of auto, cross_entropy, binary_cross_entropy, mse"),
        ({"lr": 0}, "'lr' must be above 0"),
        ({"lr": float("nan")}, "'lr' must be a finite number"),
        ({"batch_size": 0}, "'batch_size' must be at least 1"),
        ({"val_fraction": 0.6, "test_fraction": 0.5}, "leave nothing for training"),
        (
            {"schedule": "cosine", "lr": 0.01, "min_lr": 0.1},
            "'min_lr' (0.1) must be below 'lr' (0.01)",
        ),
        ({"device": "tpu"}, "'device' must be one of auto, cpu, cuda, mps"),
        ({"augmentation": {"flip": True}}, "unknown augmentation setting 'flip'"),
        ({"augmentation": "lots"}, "augmentation settings must be a mapping"),
        ([1, 2], "must be a mapping of setting names to values"),
        ({"optimizer": "nesterov", "momentum": 0}, "'nesterov' needs a momentum above 0"),
        ({"preprocessing": {"mean": [0.5]}}, "'mean' and 'std' go together"),
        (
            {"preprocessing": {"mean": [0.5, 0.5], "std": [0.2]}},
            "'mean' has 2 values but 'std' has 1",
        ),
        ({"preprocessing": {"mean": [0.5], "std": [0]}}, "'std' must be above 0"),
        ({"preprocessing": {"mean": ["a"], "std": [1]}}, "'mean' must be a list of numbers"),
        (
            {"preprocessing": {"mean": [0.5], "std": [0.5], "standardize": True}},
            "'mean' and 'std' replace fitted statistics",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(data, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(data)
    assert message in str(info.value)


def test_template_settings_apply_and_overrides_win():
    design = new_from_template("lenet5")
    defaults = design.metadata["training"]
    config = config_for_design(design)
    assert (
        config.dataset,
        config.optimizer,
        config.lr,
        config.schedule,
        config.epochs,
        config.batch_size,
    ) == (
        defaults["dataset"],
        defaults["optimizer"],
        defaults["lr"],
        defaults["schedule"],
        defaults["epochs"],
        defaults["batch_size"],
    )
    assert config.augmentation.to_dict() == {
        **config.augmentation.__class__().to_dict(),
        **defaults["augmentation"],
    }
    changed = config_for_design(design, {"epochs": 2, "lr": 0.5})
    assert (changed.epochs, changed.lr, changed.optimizer) == (2, 0.5, defaults["optimizer"])


def test_bad_template_settings_name_where_they_come_from():
    design = new_from_template("lenet5")
    design.metadata["training"] = {"optimiser": "adam"}
    with pytest.raises(
        ConfigError, match="unknown training setting 'optimiser' in the design's default"
    ):
        config_for_design(design)


def test_every_templates_settings_are_valid_settings():
    from designer.templates import list_templates

    for t in list_templates():
        config = config_for_design(new_from_template(t.name))  # notes (note, recipe) are skipped
        assert config.dataset == t.training["dataset"]
        if "momentum" in t.training:
            assert config.momentum == t.training["momentum"]


def test_loss_follows_the_task_unless_set():
    assert TrainConfig().resolved_loss("classification") == "cross_entropy"
    assert TrainConfig().resolved_loss("regression") == "mse"
    assert (
        TrainConfig(loss="binary_cross_entropy").resolved_loss("classification")
        == "binary_cross_entropy"
    )
