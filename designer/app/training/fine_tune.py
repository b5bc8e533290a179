"""Two-stage fine-tuning as one plan (seed 004, MATLAB's Deep Network Designer workflow): stage 1
trains the new head with everything before it frozen; stage 2 unfreezes everything and trains on
from stage 1's kept weights with the learning rate times a factor (default 0.1). The stages are
two ordinary runs, <name>-stage1 and <name>-stage2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from designer.core import transfer as tr
from designer.core.serialization import clone


@dataclass
class TwoStagePlan:
    stage1_epochs: int = 3
    stage2_epochs: int = 3
    lr_factor: float = 0.1

    def stage1_design(self, design):
        """The design as it is when some layers are frozen already (e.g. by Adapt to dataset);
        else everything before the classifier frozen."""
        first = clone(design)
        if any(not n.trainable for n in first.nodes.values()):
            return first
        classifier = tr.classifier_node(first)
        feeds = first.in_edges(classifier.id)
        if len(feeds) != 1:
            raise tr.TransferError(f"{classifier.name} has no single input to freeze up to")
        tr.freeze_until(first, feeds[0].src)
        tr.set_trainable(first, [classifier.id], True)
        return first

    @staticmethod
    def stage2_design(design):
        second = clone(design)
        tr.unfreeze_all(second)
        return second


class TwoStageDialog(QDialog):
    def __init__(self, lr: float, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune in two stages")
        self.stage1 = QSpinBox()
        self.stage1.setRange(1, 10000)
        self.stage1.setValue(3)
        self.stage2 = QSpinBox()
        self.stage2.setRange(1, 10000)
        self.stage2.setValue(3)
        self.factor = QDoubleSpinBox()
        self.factor.setDecimals(4)
        self.factor.setRange(0.0001, 1.0)
        self.factor.setValue(0.1)
        form = QFormLayout()
        form.addRow("Stage 1 (new head only): epochs", self.stage1)
        form.addRow("Stage 2 (everything): epochs", self.stage2)
        form.addRow(f"Stage 2 learning rate = {lr:g} ×", self.factor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Stage 1 trains the head with the rest frozen; stage 2 starts "
                "from stage 1's weights and trains everything, more gently."
            )
        )
        layout.addLayout(form)
        layout.addWidget(buttons)

    def plan(self) -> TwoStagePlan:
        return TwoStagePlan(self.stage1.value(), self.stage2.value(), self.factor.value())


def stage_dirs(folder: Path, name: str) -> tuple[Path, Path]:
    return folder / f"{name}-stage1", folder / f"{name}-stage2"
