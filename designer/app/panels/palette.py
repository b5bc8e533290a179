"""The palette: every registered layer and block by category, searchable, with help text.
Drag an entry onto the canvas, or double-click it to add it below the selected node."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.app.mime import LAYER_MIME, layer_mime
from designer.core.registry import get_spec, list_specs

CATEGORY_ORDER = [
    "Input / output",
    "Convolution",
    "Pooling",
    "Linear",
    "Activation",
    "Normalization",
    "Regularization",
    "Merge",
    "Shift / scale",
    "Blocks",
]
DESIGN_BLOCKS = "Blocks of this design"
ENTRY = Qt.ItemDataRole.UserRole  # (layer type, custom block name) on entry items


class LayerTree(QTreeWidget):
    """The tree; dragging an entry carries its layer type as LAYER_MIME."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        entries = [it.data(0, ENTRY) for it in items if it.data(0, ENTRY)]
        if not entries:
            return QMimeData()
        type_name, block = entries[0]
        return layer_mime(type_name, block)

    def supportedDropActions(self):
        return Qt.DropAction.CopyAction


class PalettePanel(QWidget):
    add_requested = Signal(str, str)  # layer type, custom block name ("" for a built-in type)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.help = QLabel(self)
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.RichText)
        self.help.setMinimumHeight(70)
        self.help.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.help.setText(
            "<i>Drag a layer onto the canvas, or double-click it to add it below "
            "the selected layer.</i>"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.help)
        self._blocks: tuple[str, ...] = ()
        self._in_block = False
        self.search.textChanged.connect(self.apply_filter)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.currentItemChanged.connect(self._show_help)
        self.populate()

    def set_context(self, blocks: list[str], in_block: bool) -> None:
        """The design's custom blocks, and whether a block's interior is being edited (then
        its boundary nodes are offered too). Rebuilds only when something differs."""
        blocks_t = tuple(sorted(blocks))
        if blocks_t != self._blocks or in_block != self._in_block:
            self._blocks, self._in_block = blocks_t, in_block
            self.populate()

    def populate(self) -> None:
        self.tree.clear()
        specs = list_specs(palette_only=True)
        if self._in_block:
            specs = [*specs, get_spec("BlockInput"), get_spec("BlockOutput")]
        cats = {s.category for s in specs}
        order = [c for c in CATEGORY_ORDER if c in cats] + sorted(cats - set(CATEGORY_ORDER))
        groups = {}
        for cat in order:
            groups[cat] = QTreeWidgetItem(self.tree, [cat])
        for spec in specs:
            item = QTreeWidgetItem(groups[spec.category], [spec.title or spec.type])
            item.setData(0, ENTRY, (spec.type, ""))
            item.setToolTip(0, f"<b>{spec.title}</b> ({spec.type})<br>{spec.help}")
        if self._blocks:
            mine = QTreeWidgetItem(self.tree, [DESIGN_BLOCKS])
            for name in self._blocks:
                item = QTreeWidgetItem(mine, [name])
                item.setData(0, ENTRY, ("Block", name))
                item.setToolTip(0, f"<b>{name}</b><br>A custom block of this design.")
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            top.setExpanded(True)
        self.apply_filter(self.search.text())

    def entries(self) -> list[QTreeWidgetItem]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out.extend(top.child(j) for j in range(top.childCount()))
        return out

    def find_entry(self, type_name: str, block: str = "") -> QTreeWidgetItem | None:
        for item in self.entries():
            if item.data(0, ENTRY) == (type_name, block):
                return item
        return None

    def apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                item = top.child(j)
                type_name, block = item.data(0, ENTRY)
                hay = f"{item.text(0)} {type_name} {top.text(0)}".lower()
                if not block:
                    hay += " " + get_spec(type_name).help.lower()
                visible = all(w in hay for w in words)
                item.setHidden(not visible)
                shown += visible
            top.setHidden(shown == 0)

    def _on_double_click(self, item: QTreeWidgetItem, column: int) -> None:
        entry = item.data(0, ENTRY)
        if entry:
            self.add_requested.emit(entry[0], entry[1])

    def _show_help(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        entry = item.data(0, ENTRY) if item is not None else None
        if not entry:
            return
        type_name, block = entry
        if block:
            self.help.setText(
                f"<b>{block}</b><br>A custom block of this design; double-click "
                "a placed one to edit its layers."
            )
        else:
            spec = get_spec(type_name)
            self.help.setText(
                f"<b>{spec.title}</b> <span style='color:gray'>({spec.type})</span><br>{spec.help}"
            )
