"""The problems panel: every problem of the level on the canvas; a click selects the node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from designer.app.editor import Editor

NODE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QListWidget):
    count_changed = Signal(int)

    def __init__(self, editor: Editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self._shown: list | None = None
        editor.refreshed.connect(self.refresh)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.refresh()

    def refresh(self) -> None:
        problems = list(self.editor.level.analysis.problems)
        if problems == self._shown:
            return
        self._shown = problems
        self.clear()
        for p in problems:
            item = QListWidgetItem(str(p))
            item.setData(NODE, p.node_id)
            item.setToolTip(str(p))
            self.addItem(item)
        if not problems:
            item = QListWidgetItem(
                "No problems: every layer's shape is known and the head fits the task."
            )
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
        self.count_changed.emit(len(problems))

    def _clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE)
        if node_id:
            self.editor.reveal(node_id)
