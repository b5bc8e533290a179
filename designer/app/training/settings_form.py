"""The training settings as a form: one editor per TrainConfig field (and per preprocessing and
augmentation field), generated from the dataclasses so a new setting appears by itself.

Every change rebuilds the whole TrainConfig; the engine's own checks decide what is valid, and
a refused value turns its field red with the engine's reason (as the inspector does), so what
the form accepts is exactly what a run accepts. Rows that do not apply to the chosen optimizer
or schedule are hidden. A small curve previews the learning rate over the epochs."""

from __future__ import annotations

import re
import typing
from dataclasses import fields
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from designer.app.panels.fields import ERROR_STYLE, INVALID_STYLE, format_value
from designer.app.training.plots import adopt_popups, configure_pyqtgraph
from designer.data import DataError
from designer.data.augment import FILL_MODES, Augmentation
from designer.data.preprocess import CENTER_CHOICES, Preprocessing
from designer.training.config import (
    CACHE_CHOICES,
    DEVICES,
    INITS,
    KEEP_CHOICES,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    TrainConfig,
)

# Settings with a fixed set of values get a combo box (the rest a checked text field).
CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "loss": ("auto", *LOSSES),
    "init": INITS,
    "device": DEVICES,
    "keep": KEEP_CHOICES,
    "cache_features": CACHE_CHOICES,
    "preprocessing.center": tuple(CENTER_CHOICES),
    "augmentation.fill_mode": tuple(FILL_MODES),
}
# Shown elsewhere (the data panel, the Overfit button), not in this form.
NOT_IN_FORM = {"dataset", "data_dir", "overfit_samples"}
GROUPS: dict[str, tuple[str, ...]] = {
    "Optimizer": (
        "optimizer",
        "lr",
        "momentum",
        "beta1",
        "beta2",
        "eps",
        "rmsprop_alpha",
        "weight_decay",
        "grad_clip",
    ),
    "Learning-rate schedule": (
        "schedule",
        "warmup_epochs",
        "step_size",
        "gamma",
        "min_lr",
        "cycle_epochs",
        "plateau_factor",
        "plateau_patience",
    ),
    "Run": (
        "epochs",
        "batch_size",
        "early_stopping_patience",
        "loss",
        "init",
        "dropout",
        "seed",
        "device",
        "keep",
        "cache_features",
    ),
    "Split": ("val_fraction", "test_fraction", "split_seed"),
}
LABELS = {
    "lr": "learning rate",
    "grad_clip": "gradient clipping (norm)",
    "eps": "epsilon",
    "rmsprop_alpha": "RMSprop alpha",
    "early_stopping_patience": "early stopping (epochs)",
    "val_fraction": "validation fraction",
    "init": "initialization",
    "split_seed": "split seed",
    "warmup_epochs": "warm-up epochs",
    "keep": "weights the run keeps",
    "cache_features": "cache frozen features",
}
# Which rows matter for which optimizer / schedule (the others are hidden).
ONLY_FOR = {
    "momentum": ("optimizer", ("sgd", "momentum", "nesterov", "rmsprop")),
    "beta1": ("optimizer", ("adam", "adamw")),
    "beta2": ("optimizer", ("adam", "adamw")),
    "eps": ("optimizer", ("adam", "adamw", "rmsprop")),
    "rmsprop_alpha": ("optimizer", ("rmsprop",)),
    "step_size": ("schedule", ("step",)),
    "gamma": ("schedule", ("step", "exponential")),
    "min_lr": ("schedule", ("linear", "cosine", "cyclic")),
    "cycle_epochs": ("schedule", ("cyclic",)),
    "plateau_factor": ("schedule", ("plateau",)),
    "plateau_patience": ("schedule", ("plateau",)),
}
_NAMED = re.compile(r"(training|preprocessing|augmentation) setting '(\w+)'")


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class SettingField(QWidget):
    """One setting: its editor and, under it, the reason when the value is refused."""

    edited = Signal()

    def __init__(self, key: str, kind: Any, value: Any, choices: tuple[str, ...] | None) -> None:
        super().__init__()
        self.key = key
        options = typing.get_args(kind) if isinstance(kind, typing.types.UnionType) else (kind,)
        self.optional = type(None) in options
        self.kind = next(t for t in options if t is not type(None))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        if self.kind is bool:
            self.editor = QCheckBox()
            self.editor.toggled.connect(self.edited)
        elif choices:
            self.editor = QComboBox()
            self.editor.addItems(list(choices))
            self.editor.currentTextChanged.connect(self.edited)
        else:
            self.editor = QLineEdit()
            if self.optional:
                self.editor.setPlaceholderText("default")
            self.editor.textEdited.connect(self.edited)
        self.editor.setObjectName(f"setting-{key}")
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.editor)
        layout.addWidget(self.error)
        self.set_value(value)

    def set_value(self, value: Any) -> None:
        self.editor.blockSignals(True)
        if isinstance(self.editor, QCheckBox):
            self.editor.setChecked(bool(value))
        elif isinstance(self.editor, QComboBox):
            self.editor.setCurrentText(str(value))
        else:
            self.editor.setText(format_value(value))
        self.editor.blockSignals(False)

    def text(self) -> str:
        return self.editor.text() if isinstance(self.editor, QLineEdit) else ""

    def value(self) -> Any:
        """The typed value; ValueError with a reason for text that is no such value."""
        if isinstance(self.editor, QCheckBox):
            return self.editor.isChecked()
        if isinstance(self.editor, QComboBox):
            return self.editor.currentText()
        text = self.editor.text().strip()
        if not text and self.optional:
            return None
        try:
            if self.kind is int:
                return int(text)
            if self.kind is float:
                return float(text)
            if self.kind is list:
                return [float(part) for part in re.split(r"[\s,]+", text.strip("[]()")) if part]
        except ValueError:
            wanted = {int: "a whole number", float: "a number", list: "numbers separated by commas"}
            raise ValueError(
                f"{wanted[self.kind]} expected, got {text!r}" if text else "enter a value"
            ) from None
        return text

    def show_problem(self, problem: str | None) -> None:
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        self.editor.setStyleSheet(INVALID_STYLE if problem else "")
        self.editor.setToolTip(problem or "")


class SettingsForm(QWidget):
    """Emits ``changed`` with the TrainConfig after every edit (None while a value is refused)."""

    changed = Signal(object)

    def __init__(self, config: TrainConfig, parent=None) -> None:
        super().__init__(parent)
        before = set(QApplication.topLevelWidgets())
        configure_pyqtgraph()
        self.fields: dict[str, SettingField] = {}
        self._form_of: dict[str, QFormLayout] = {}
        self._rows: dict[str, tuple[QFormLayout, int]] = {}
        self._base = config
        self.config: TrainConfig | None = config
        self.problem = QLabel()
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.problem)

        hints = _hints(TrainConfig)
        values = config.to_dict()
        placed = {k for keys in GROUPS.values() for k in keys}
        extra = [
            f.name
            for f in fields(TrainConfig)
            if f.name not in placed | NOT_IN_FORM
            and f.name not in ("preprocessing", "augmentation")
        ]
        for title, keys in {**GROUPS, "More": tuple(extra)}.items():
            if keys:
                layout.addWidget(self._group(title, keys, hints, values))
                if title == "Learning-rate schedule":
                    self.lr_plot = pg.PlotWidget()
                    self.lr_plot.setFixedHeight(110)
                    self.lr_plot.setMouseEnabled(False, False)
                    self.lr_plot.hideButtons()
                    self.lr_plot.getPlotItem().setLabel("bottom", "epoch")
                    self.lr_plot.setToolTip("The learning rate over the run, step by step")
                    self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen("#4e79a7", width=2))
                    self._form_of["Learning-rate schedule"].addRow(self.lr_plot)
        for prefix, cls in (("preprocessing", Preprocessing), ("augmentation", Augmentation)):
            keys = tuple(f"{prefix}.{f.name}" for f in fields(cls))
            sub_hints = {f"{prefix}.{k}": v for k, v in _hints(cls).items()}
            sub_values = {f"{prefix}.{k}": v for k, v in values[prefix].items()}
            layout.addWidget(self._group(prefix.capitalize(), keys, sub_hints, sub_values))
        layout.addStretch(1)
        adopt_popups(self, before)
        self._update_rows()
        self._update_lr_preview()

    def _group(self, title: str, keys, hints, values) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        self._form_of[title] = form
        for key in keys:
            short = key.rsplit(".", 1)[-1]
            field = SettingField(key, hints[key], values[key], CHOICES.get(key))
            field.edited.connect(self._edited)
            form.addRow(LABELS.get(short, short.replace("_", " ")), field)
            self.fields[key] = field
            self._rows[key] = (form, form.rowCount() - 1)
        return box

    # -- values -------------------------------------------------------------------------------
    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` (e.g. the design's template settings, or a run's)."""
        self._base = config
        values = config.to_dict()
        flat = {k: v for k, v in values.items() if not isinstance(v, dict)}
        for prefix in ("preprocessing", "augmentation"):
            flat.update({f"{prefix}.{k}": v for k, v in values[prefix].items()})
        for key, field in self.fields.items():
            field.set_value(flat[key])
            field.show_problem(None)
        self._edited()

    def _edited(self) -> None:
        self.config = self._build()
        self._update_rows()
        self._update_lr_preview()
        self.changed.emit(self.config)

    def _build(self) -> TrainConfig | None:
        data = self._base.to_dict()
        refused = False
        for key, field in self.fields.items():
            try:
                value = field.value()
            except ValueError as exc:
                field.show_problem(str(exc))
                refused = True
                continue
            field.show_problem(None)
            if "." in key:
                group, name = key.split(".")
                data[group] = {**data[group], name: value}
            else:
                data[key] = value
        self.problem.hide()
        if refused:
            return None
        try:
            return TrainConfig.from_dict(data)
        except (ConfigError, DataError) as exc:
            self._show_engine_problem(str(exc))
            return None

    def _show_engine_problem(self, message: str) -> None:
        match = _NAMED.search(message)
        if match:
            group, name = match.groups()
            key = name if group == "training" else f"{group}.{name}"
            if key in self.fields:
                self.fields[key].show_problem(
                    message.split(": ", 1)[-1]
                    if message.startswith("training settings:")
                    else message
                )
                return
        self.problem.setText(message)  # a problem of several settings together
        self.problem.show()

    # -- what is shown ------------------------------------------------------------------------
    def _update_rows(self) -> None:
        current = {
            k: f.editor.currentText()
            for k, f in self.fields.items()
            if isinstance(f.editor, QComboBox)
        }
        for key, (setting, applies) in ONLY_FOR.items():
            if key in self._rows:
                form, row = self._rows[key]
                form.setRowVisible(row, current.get(setting) in applies)

    def _update_lr_preview(self) -> None:
        if self.config is None:
            return
        epochs, rates = lr_curve(self.config)
        self.lr_curve.setData(epochs, rates)


def lr_curve(config: TrainConfig, steps_per_epoch: int = 20) -> tuple[list[float], list[float]]:
    """The learning rate at every step of a run with these settings, x in epochs (the recipe's
    own schedule; a plateau schedule is drawn as if the validation loss kept improving)."""
    from designer.training.recipe import LrSchedule

    schedule = LrSchedule(config.to_dict(), steps_per_epoch)
    steps = range(schedule.total)
    return [s / steps_per_epoch for s in steps], [schedule.lr(s) for s in steps]
