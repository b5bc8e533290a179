"""Adapt to dataset…: one page that proposes how a (pretrained) network meets new data — the new
head for the data's classes (optionally hidden layers and dropout, seed 000's recipe), the input
(convert the images, or change the network's input channels and size), where to freeze, the new
layers' learning-rate multiplier — with the little/much × similar/different guidance for the
user's numbers. OK gives a designer.core.transfer.AdaptPlan, applied as one undoable step."""

from __future__ import annotations

import networkx as nx
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from designer.app.panels.fields import ERROR_STYLE
from designer.app.training.background import BackgroundTask
from designer.app.training.data_panel import SOURCES, summarize_source
from designer.core import transfer as tr
from designer.core.serialization import clone
from designer.data import DataError
from designer.data.source_names import FOLDER_PREFIX

NOTHING = "(nothing: train everything)"


class AdaptDialog(QDialog):
    def __init__(self, design, analysis, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Adapt to dataset")
        self.design = design
        self.summary = None
        self._task = BackgroundTask(self)
        self.source = QComboBox()
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.source.activated.connect(self._source_picked)
        self.data_info = QLabel("Loading digits…")
        self.data_info.setWordWrap(True)
        self.classes = QSpinBox()
        self.classes.setRange(2, 100000)
        self.classes.setValue(max(2, design.num_classes or 2))
        self.hidden = QLineEdit()
        self.hidden.setPlaceholderText("none, or widths such as 256")
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(0.0, 0.95)
        self.dropout.setSingleStep(0.1)
        self.dropout.setValue(0.5)
        c, h, w = design.input_shape if len(design.input_shape) == 3 else (None, None, None)
        self.input_mode = QComboBox()
        self.input_mode.addItem(f"convert the images to the network's input ({c}×{h}×{w})", "keep")
        self.input_mode.addItem("change the network's input channels to the images'", "channels")
        self.size = QSpinBox()
        self.size.setRange(1, 4096)
        self.size.setValue(h or 1)
        self.size.setSuffix(" px (height = width)")
        self.freeze = QComboBox()
        self.freeze.addItem(NOTHING, None)
        for name in _layer_names(design):
            self.freeze.addItem(name, name)
        default = _before_classifier(design)
        if default is not None:
            self.freeze.setCurrentIndex(self.freeze.findData(default))
        self.lr_mult = QDoubleSpinBox()
        self.lr_mult.setRange(0.0, 1000.0)
        self.lr_mult.setValue(1.0)
        self.similar = QCheckBox("the images look like ImageNet's (photos of objects)")
        self.similar.toggled.connect(self._advise)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.addRow("Data", self.source)
        form.addRow("", self.data_info)
        form.addRow("New head: classes", self.classes)
        form.addRow("Hidden layers", self.hidden)
        form.addRow("Dropout (with hidden layers)", self.dropout)
        form.addRow("Input", self.input_mode)
        form.addRow("Input size", self.size)
        form.addRow("Freeze up to", self.freeze)
        form.addRow("New layers' learning rate ×", self.lr_mult)
        form.addRow("", self.similar)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Adapt")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.advice)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.dataset = "digits"
        self.result_plan: tr.AdaptPlan | None = None
        self._load()

    # -- the data -------------------------------------------------------------------------------
    def _source_picked(self, index: int) -> None:
        key = self.source.itemData(index)
        if key == "folder":
            path = QFileDialog.getExistingDirectory(self, "Image folder (one subfolder per class)")
            if not path:
                return
            key = FOLDER_PREFIX + path
        self.dataset = key
        self._load()

    def _load(self) -> None:
        self.data_info.setText(f"Loading {self.dataset}…")
        dataset = self.dataset
        self._task.start(
            lambda: summarize_source(dataset, None, 0.1, 0.1, 0),
            self._loaded,
            self._failed,
            (DataError, OSError),
        )

    def _loaded(self, summary) -> None:
        self.summary = summary
        image = summary.samples[0] if summary.samples else None
        shape = "×".join(str(v) for v in image.shape) if image is not None else "?"
        self.data_info.setText(
            f"{len(summary.classes)} classes, {summary.train:,} training images of {shape}"
        )
        self.classes.setValue(max(2, len(summary.classes)))
        self._advise()

    def _failed(self, message: str) -> None:
        self.summary = None
        self.data_info.setText(message)
        self._advise()

    def _advise(self) -> None:
        if self.summary is None or not self.summary.classes:
            self.advice.setText("")
            return
        per_class = self.summary.train // max(1, len(self.summary.classes))
        self.advice.setText(
            f"About {per_class:,} training images per class. "
            + tr.transfer_advice(per_class, self.similar.isChecked())
        )

    # -- the plan -------------------------------------------------------------------------------
    def plan(self) -> tr.AdaptPlan:
        """The plan as the form says; ValueError names what is wrong."""
        hidden = tuple(int(w) for w in self.hidden.text().replace(",", " ").split())
        channels = None
        if self.input_mode.currentData() == "channels":
            if self.summary is None or not self.summary.samples:
                raise ValueError("load the data first: its images' channels are not known yet")
            channels = int(self.summary.samples[0].shape[0])
        size = self.size.value()
        current = tuple(self.design.input_shape[1:]) if len(self.design.input_shape) == 3 else None
        return tr.AdaptPlan(
            dataset=self.dataset,
            num_classes=self.classes.value(),
            hidden=hidden,
            dropout=self.dropout.value(),
            channels=channels,
            size=None if current == (size, size) else (size, size),
            freeze_until=self.freeze.currentData(),
            head_lr_mult=self.lr_mult.value(),
        )

    def _accept(self) -> None:
        try:
            plan = self.plan()
            plan.edit(clone(self.design))  # refused here, with the reason, not after OK
        except (ValueError, tr.TransferError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.result_plan = plan
        self.accept()


def _layer_names(design) -> list[str]:
    """Top-level layers from input to head, for the freeze point."""
    order = list(nx.topological_sort(design.nx_graph()))
    return [
        design.nodes[n].name
        for n in order
        if design.nodes[n].type not in ("Input", "ClassificationOutput", "RegressionOutput")
    ]


def _before_classifier(design) -> str | None:
    """The layer feeding the classifier: freezing up to it trains only the new head."""
    try:
        classifier = tr.classifier_node(design)
    except tr.TransferError:
        return None
    feeds = design.in_edges(classifier.id)
    return design.nodes[feeds[0].src].name if len(feeds) == 1 else None
