"""Every question the app asks the user, in one place: the windows call these, and tests answer
them by replacing this object's methods instead of clicking through modal dialogs."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

DESIGN_FILTER = "Network designs (*.json);;All files (*)"


class Prompts:
    def __init__(self, parent: QWidget):
        self.parent = parent

    def save_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        B = QMessageBox.StandardButton
        answer = QMessageBox.warning(
            self.parent,
            "Unsaved changes",
            f"“{name}” has changes that are not saved. Save them first?",
            B.Save | B.Discard | B.Cancel,
            B.Save,
        )
        return {B.Save: "save", B.Discard: "discard"}.get(answer, "cancel")

    def open_path(self, start: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open design", start, DESIGN_FILTER)
        return path or None

    def save_path(self, title: str, suggested: str, file_filter: str = DESIGN_FILTER) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path or None

    def open_weights(self, title: str, start: str) -> str | None:
        from designer.app.pretrained_flow import WEIGHTS_FILTER

        path, _ = QFileDialog.getOpenFileName(self.parent, title, start, WEIGHTS_FILTER)
        return path or None

    def import_source(self, start: str) -> str | None:
        """What File → Import model… imports: a model file (path.py:FACTORY for Python) or
        torchvision:NAME; None when cancelled."""
        kind = self.choose(
            "Import model",
            "Import a model from a file or from torchvision?",
            [("file", "A file (.py, .pt2, .onnx)…"), ("torchvision", "A torchvision model…")],
        )
        if kind == "torchvision":
            from designer.interop.import_sources import torchvision_names

            names = torchvision_names()
            name, ok = QInputDialog.getItem(
                self.parent,
                "Import model",
                "torchvision model:",
                names,
                names.index("resnet18"),
                False,
            )
            return f"torchvision:{name}" if ok and name else None
        if kind != "file":
            return None
        path, _ = QFileDialog.getOpenFileName(
            self.parent,
            "Import model",
            start,
            "Models (*.py *.pt2 *.onnx);;Python (*.py);;torch.export (*.pt2);;ONNX (*.onnx)",
        )
        if not path or not path.endswith(".py"):
            return path or None
        factory = self.text(
            "Import model",
            "Function or class in the file that builds the "
            "model (the file is run, as python would):",
            "build_model",
        )
        return f"{path}:{factory}" if factory else None

    def error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.parent, title, message)

    def text(self, title: str, label: str, default: str) -> str | None:
        value, ok = QInputDialog.getText(self.parent, title, label, text=default)
        return value.strip() if ok and value.strip() else None

    def restore(self, description: str) -> bool:
        B = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question, "Restore unsaved work?", description, B.NoButton, self.parent
        )
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(restore)
        box.exec()
        return box.clickedButton() is restore

    def confirm(self, title: str, message: str, action: str = "OK") -> bool:
        """A yes/no question whose yes button says what it does ("Delete")."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            message,
            QMessageBox.StandardButton.NoButton,
            self.parent,
        )
        yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    def choose(self, title: str, message: str, options: list[tuple[str, str]]) -> str | None:
        """One of several answers: options are (key, button text); None when cancelled."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            message,
            QMessageBox.StandardButton.NoButton,
            self.parent,
        )
        buttons = {
            box.addButton(text, QMessageBox.ButtonRole.AcceptRole): key for key, text in options
        }
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return buttons.get(box.clickedButton())

    def open_folder(self, title: str, start: str) -> str | None:
        path = QFileDialog.getExistingDirectory(self.parent, title, start)
        return path or None

    def export_run(self, run_dir, kept: str):
        """(which weights, {file kind: path}) to export from a run, or None."""
        from designer.app.training.export_dialog import ExportRunDialog

        dialog = ExportRunDialog(run_dir, kept, self.parent)
        try:
            return dialog.choice() if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def search_settings(self):
        """(SearchSpace, trials, epochs, seed) for a hyperparameter search, or None."""
        from designer.app.training.search_panel import SearchDialog

        dialog = SearchDialog(self.parent)
        try:
            return dialog.choice() if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def adapt_to_dataset(self, design, analysis):
        """A designer.core.transfer.AdaptPlan from the Adapt to dataset wizard, or None."""
        from designer.app.dialogs.adapt import AdaptDialog

        dialog = AdaptDialog(design, analysis, self.parent)
        try:
            return dialog.result_plan if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def two_stage(self, lr: float):
        """A TwoStagePlan (epochs of each stage, stage 2's learning-rate factor), or None."""
        from designer.app.training.fine_tune import TwoStageDialog

        dialog = TwoStageDialog(lr, self.parent)
        try:
            return dialog.plan() if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def new_experiment(self, design, design_path, config, experiment=None):
        """An ExperimentChoice to run from the New experiment form (starting from
        ``experiment`` when given), or None."""
        from designer.app.training.experiment_form import ExperimentDialog

        dialog = ExperimentDialog(design, design_path, config, self.parent)
        try:
            if experiment is not None:
                dialog.load(experiment)
            return dialog.choice() if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def choose_template(self):
        """(template name, with ImageNet weights), a shipped Experiment chosen on the gallery's
        Experiments tab, or None."""
        from designer.app.dialogs.gallery import TemplateGallery

        dialog = TemplateGallery(self.parent)
        try:
            if not dialog.exec():
                return None
            return dialog.chosen_experiment() or dialog.chosen()
        finally:
            dialog.deleteLater()


def with_suffix(path: str, suffix: str) -> str:
    return path if os.path.splitext(path)[1] else path + suffix
