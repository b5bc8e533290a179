"""The summary panel: the Keras-style table (layer, type, output shape, params, trainable) with
totals and MACs, for the whole design. A table model, so 700 rows cost nothing until shown."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from designer.app.editor import Editor
from designer.core.analysis import shape_str
from designer.core.summary import Summary, human, summarize

HEADERS = ("Layer", "Type", "Output shape", "Params", "Trainable")


class SummaryModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary: Summary | None = None

    def set_summary(self, summary: Summary) -> None:
        self.beginResetModel()
        self.summary = summary
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return 0 if (parent is not None and parent.isValid()) or self.summary is None else len(self.summary.rows)

    def columnCount(self, parent=None) -> int:
        return len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if self.summary is None or not index.isValid():
            return None
        row = self.summary.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.name, row.type, shape_str(row.output_shape), f"{row.params:,}",
                    "yes" if row.trainable else "no")[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return row.node_id
        return None


class SummaryPanel(QWidget):
    def __init__(self, editor: Editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.model = SummaryModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((150, 150, 120, 100)):
            self.table.setColumnWidth(col, width)
        self.totals = QLabel(self)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self.summary: Summary | None = None
        editor.refreshed.connect(self.refresh)
        self.table.clicked.connect(self._clicked)
        self.refresh()

    def refresh(self) -> None:
        s = summarize(self.editor.design, self.editor.analysis)
        self.summary = s
        self.model.set_summary(s)
        self.totals.setText(
            f"  Total params: <b>{s.total_params:,}</b> · trainable {s.trainable_params:,} · "
            f"non-trainable {s.non_trainable_params:,} · MACs per sample: <b>{human(s.macs)}</b>"
            f" · output {shape_str(s.output_shape)}")

    def _clicked(self, index) -> None:
        node_id = self.model.data(index, Qt.ItemDataRole.UserRole)
        if node_id:
            self.editor.go_to_level(0)  # the table lists the design's top level
            self.editor.reveal(node_id)
