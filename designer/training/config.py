"""TrainConfig: every setting of a training run, checked, and round-tripped through plain dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from designer.core.settings import check_setting_types
from designer.data import DataError
from designer.data.augment import Augmentation
from designer.data.preprocess import Preprocessing
from designer.training.recipe import INITS, LOSSES, OPTIMIZERS, SCHEDULES

DEVICES = ("auto", "cpu", "cuda", "mps")
KEEP_CHOICES = ("best", "last")  # the weights a finished run keeps (see TrainConfig.keep)
CACHE_CHOICES = ("auto", "off")  # TrainConfig.cache_features
# The template metadata (design.metadata["training"]) says "dataset"; so does the config.
TEMPLATE_KEY = "training"
INFO_KEYS = ("note", "recipe")


class ConfigError(ValueError):
    """A training setting that cannot be used; the message names the setting."""


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one training run. Defaults are sensible for small CNNs.

    Data: dataset (a source for designer.data.load_source), data_dir, val/test fractions,
        split_seed (fixed, so runs with different seeds are compared on the same split),
        preprocessing, augmentation.
    loss: "auto" (cross-entropy for classification, MSE for regression), "cross_entropy",
        "binary_cross_entropy" (one sigmoid per class) or "mse".
        (e.g. ImageNet's), instead of statistics fitted by preprocessing.
    optimizer: sgd, momentum (SGD with momentum), nesterov, rmsprop, adam or adamw; lr;
        momentum (None: 0.9 for momentum and nesterov, 0 for sgd and rmsprop); beta1/beta2/eps
        (Adam, AdamW; eps also RMSprop), rmsprop_alpha; weight_decay (L2; decoupled for AdamW).
    schedule: constant, step (times gamma every step_size epochs), exponential (times gamma
        every epoch), linear or cosine (down to min_lr), cyclic (Smith's triangular between
        min_lr and lr, cycle_epochs each way), plateau (times plateau_factor after
        plateau_patience epochs without improvement); warmup_epochs of linear warm-up first.
    early_stopping_patience: stop after this many epochs without a lower validation loss (0: never).
    grad_clip: clip the gradients' global norm to this (0: never).
    init: "he" (Kaiming normal), "xavier" (Glorot uniform) or "pytorch" (PyTorch's defaults).
    dropout: when set, every dropout layer uses this rate (the search varies it).
    overfit_samples: when above 0, the sanity check: train on this many samples without
        augmentation until they are all classified correctly.
    keep: the weights the run keeps, "best" (the epoch with the best validation result, as
        Keras' restore_best_weights) or "last"; both are evaluated on the test split at the
        end, and the run's test figures are the kept ones' (a finished run's choice can be
        changed afterwards with designer.training.rundir.RunDir.set_kept).
    cache_features: "auto" trains on cached features when everything before some layer is
        frozen and nothing is augmented (the frozen part runs once per sample, see
        designer.training.feature_cache; the same numbers, faster); "off" never does.
    tensorboard: a folder for TensorBoard event files as well (None: none); the run writes to
        its subfolder named as the run (designer.training.tensorboard_log).
    """

    dataset: str = "digits"
    data_dir: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    augmentation: Augmentation = field(default_factory=Augmentation)
    loss: str = "auto"
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    rmsprop_alpha: float = 0.99
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_size: int = 10
    gamma: float = 0.1
    min_lr: float = 0.0
    cycle_epochs: float = 2.0
    plateau_factor: float = 0.1
    plateau_patience: int = 2
    warmup_epochs: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    early_stopping_patience: int = 0
    grad_clip: float = 0.0
    seed: int = 0
    device: str = "auto"
    init: str = "he"
    dropout: float | None = None
    overfit_samples: int = 0
    keep: str = "best"
    cache_features: str = "auto"
    tensorboard: str | None = None

    def __post_init__(self) -> None:
        check_setting_types(self, "training", ConfigError)
        _check_values(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        return out

    @classmethod
    def from_dict(cls, data: Any, what: str = "training settings") -> TrainConfig:
        """Build from a plain dict; missing keys keep their defaults, unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{what} must be a mapping of setting names to values, got {type(data).__name__}"
            )
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            raise ConfigError(
                f"unknown training setting '{unknown[0]}' in {what}; "
                f"known settings: {', '.join(known)}"
            )
        values = dict(data)
        try:
            if "preprocessing" in values and not isinstance(values["preprocessing"], Preprocessing):
                values["preprocessing"] = Preprocessing.from_dict(values["preprocessing"])
            if "augmentation" in values and not isinstance(values["augmentation"], Augmentation):
                values["augmentation"] = Augmentation.from_dict(values["augmentation"])
        except DataError as exc:
            raise ConfigError(f"{what}: {exc}") from None
        return cls(**values)

    def with_changes(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed (checked like any other)."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def resolved_loss(self, task: str) -> str:
        if self.loss != "auto":
            return self.loss
        return "cross_entropy" if task == "classification" else "mse"


def config_for_design(design, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """The design's default training settings (from its template) with ``overrides`` on top.

    The template's notes about where its settings come from (INFO_KEYS) are not settings."""
    defaults = {
        k: v for k, v in (design.metadata.get(TEMPLATE_KEY) or {}).items() if k not in INFO_KEYS
    }
    base = TrainConfig.from_dict(
        defaults, what=f"the design's default training settings (metadata '{TEMPLATE_KEY}')"
    )
    if not overrides:
        return base
    return TrainConfig.from_dict({**base.to_dict(), **overrides})


def _check_values(c: TrainConfig) -> None:
    def choice(name: str, options: tuple[str, ...]) -> None:
        if getattr(c, name) not in options:
            raise ConfigError(
                f"training setting '{name}' must be one of {', '.join(options)}, "
                f"got {getattr(c, name)!r}"
            )

    def at_least(name: str, low: float, strict: bool = False) -> None:
        value = getattr(c, name)
        if value < low or (strict and value == low):
            relation = "above" if strict else "at least"
            raise ConfigError(
                f"training setting '{name}' must be {relation} {low:g}, got {value!r}"
            )

    def fraction(name: str, allow_one: bool = False) -> None:
        value = getattr(c, name)
        if not (0 <= value <= 1 if allow_one else 0 <= value < 1):
            upper = "1" if allow_one else "(not including) 1"
            raise ConfigError(
                f"training setting '{name}' must be from 0 up to {upper}, got {value!r}"
            )

    if not c.dataset.strip():
        raise ConfigError("training setting 'dataset' is empty; name a data source, e.g. digits")
    choice("loss", ("auto", *LOSSES))
    choice("optimizer", OPTIMIZERS)
    choice("schedule", SCHEDULES)
    choice("init", INITS)
    choice("keep", KEEP_CHOICES)
    choice("cache_features", CACHE_CHOICES)
    if c.device not in DEVICES and not c.device.startswith("cuda:"):
        raise ConfigError(
            f"training setting 'device' must be one of {', '.join(DEVICES)} (or cuda:N), got "
            f"{c.device!r}"
        )
    fraction("val_fraction")
    fraction("test_fraction")
    if c.val_fraction + c.test_fraction >= 1:
        raise ConfigError(
            f"the validation fraction ({c.val_fraction:g}) and test fraction ({c.test_fraction:g}) "
            f"leave nothing for training"
        )
    at_least("lr", 0, strict=True)
    for name in ("beta1", "beta2", "rmsprop_alpha"):
        fraction(name)
    if c.momentum is not None:
        fraction("momentum")
    if c.optimizer == "nesterov" and c.momentum == 0:
        raise ConfigError("the optimizer 'nesterov' needs a momentum above 0")
    at_least("eps", 0, strict=True)
    at_least("weight_decay", 0)
    at_least("step_size", 1)
    for name in ("gamma", "plateau_factor"):
        at_least(name, 0, strict=True)
        fraction(name, allow_one=True)
    at_least("min_lr", 0)
    if c.schedule in ("linear", "cosine", "cyclic") and c.min_lr >= c.lr:
        raise ConfigError(f"training setting 'min_lr' ({c.min_lr:g}) must be below 'lr' ({c.lr:g})")
    at_least("cycle_epochs", 0, strict=True)
    at_least("plateau_patience", 0)
    at_least("warmup_epochs", 0)
    at_least("batch_size", 1)
    at_least("epochs", 1)
    at_least("early_stopping_patience", 0)
    at_least("grad_clip", 0)
    at_least("seed", 0)
    at_least("split_seed", 0)
    at_least("overfit_samples", 0)
    if c.dropout is not None:
        fraction("dropout")
    if c.tensorboard is not None and not c.tensorboard.strip():
        raise ConfigError(
            "training setting 'tensorboard' is empty; name a folder or leave it unset"
        )
