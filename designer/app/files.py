"""New, open, save, save as, recent files and the unsaved-changes question. Saves are atomic
(designer.core.serialization.save_design writes a temp file and renames it)."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal

from designer.app import settings
from designer.app.dialogs.prompts import Prompts, with_suffix
from designer.app.editor import Editor
from designer.core.design import Design, Node
from designer.core.errors import DesignFileError
from designer.core.layout import ROW
from designer.core.serialization import load_design, save_design


def blank_design() -> Design:
    """File → New: an input and a classification head, ready for layers in between."""
    design = Design("Untitled")
    design.add_node(Node("n1", "Input", "input", {}, (0.0, 0.0)))
    design.add_node(Node("n2", "ClassificationOutput", "output", {}, (0.0, 3 * ROW)))
    return design


class Files(QObject):
    recent_changed = Signal()
    saved = Signal(str)

    def __init__(self, editor: Editor, prompts: Prompts, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.prompts = prompts

    def display_name(self) -> str:
        return os.path.basename(self.editor.path) if self.editor.path else self.editor.design.name

    def maybe_save(self) -> bool:
        """True when the open design may be replaced or closed (saved, discarded or unchanged)."""
        if not self.editor.is_modified():
            return True
        answer = self.prompts.save_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.editor.set_document(blank_design())
        return True

    def new_from_template(self, name: str | None = None, pretrained: bool = False) -> bool:
        from designer.templates import new_from_template

        if not self.maybe_save():
            return False
        if name is None:
            choice = self.prompts.choose_template()
            if not choice:
                return False
            if not isinstance(choice, tuple):  # a shipped experiment: into the form
                return self.parent().show_training().new_experiment(experiment=choice)
            name, pretrained = choice
        if pretrained:
            from designer.app.pretrained_flow import new_with_imagenet_weights

            return new_with_imagenet_weights(self.parent(), name)
        self.editor.set_document(new_from_template(name))
        return True

    def open(self, path: str | None = None) -> bool:
        if not self.maybe_save():
            return False
        path = path or self.prompts.open_path(settings.last_dir())
        if not path:
            return False
        try:
            design = load_design(path)
        except DesignFileError as exc:
            self.prompts.error("Cannot open design", str(exc))
            if not os.path.exists(path):
                settings.remove_recent(path)
                self.recent_changed.emit()
            return False
        self.editor.set_document(design, os.path.abspath(path))
        settings.add_recent(path)
        self.recent_changed.emit()
        return True

    def save(self) -> bool:
        if self.editor.path:
            return self.write(self.editor.path)
        return self.save_as()

    def save_as(self) -> bool:
        start = self.editor.path or os.path.join(
            settings.last_dir(), f"{self.editor.design.name}.json"
        )
        path = self.prompts.save_path("Save design as", start)
        if not path:
            return False
        return self.write(with_suffix(path, ".json"))

    def write(self, path: str) -> bool:
        try:
            save_design(self.editor.design, path)
        except OSError as exc:
            self.prompts.error("Cannot save design", f"{path}: {exc.strerror or exc}")
            return False
        path = os.path.abspath(path)
        self.editor.mark_saved(path)
        settings.add_recent(path)
        self.recent_changed.emit()
        self.saved.emit(path)
        self.editor.message.emit(f"Saved {path}")
        return True
