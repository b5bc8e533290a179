"""The breadcrumb above the canvas: design › block › inner block; a click goes back up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from designer.app.editor import Editor


class Breadcrumb(QWidget):
    def __init__(self, editor: Editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(6, 2, 6, 2)
        self.row.setSpacing(2)
        self.buttons: list[QToolButton] = []
        editor.frames_changed.connect(self.rebuild)
        editor.document_changed.connect(self.rebuild)
        editor.refreshed.connect(self._update_root)
        self.rebuild()

    def rebuild(self) -> None:
        while self.row.count():
            w = self.row.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.deleteLater()
        self.buttons = []
        titles = [self.editor.design.name] + [
            f"{f.title} ({f.block})" if f.block and f.block != f.title else f.title
            for f in self.editor.frames
        ]
        for depth, title in enumerate(titles):
            if depth:
                self.row.addWidget(QLabel("›"))
            button = QToolButton(self)
            button.setText(title)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            last = depth == len(titles) - 1
            font = button.font()
            font.setBold(last)
            button.setFont(font)
            button.setToolTip("The design" if depth == 0 else "Go back to this level")
            button.clicked.connect(lambda _=False, d=depth: self.editor.go_to_level(d))
            self.row.addWidget(button)
            self.buttons.append(button)
        if self.editor.frames:
            note = (
                "editable custom block"
                if self.editor.editable
                else "read-only: a built-in block (ungroup it to edit its layers)"
            )
            hint = QLabel(f"  <span style='color:gray'>{note} · Alt+Up goes back</span>")
            self.row.addWidget(hint)
        self.row.addStretch(1)

    def _update_root(self) -> None:
        if self.buttons and self.buttons[0].text() != self.editor.design.name:
            self.buttons[0].setText(self.editor.design.name)
