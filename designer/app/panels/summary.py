"""The summary panel: the Keras-style table (layer, type, output shape, params, MACs, trainable)
with totals, for the whole design. A table model, so 700 rows cost nothing until shown.

While the design has problems the totals are those of the layers whose shapes are known, marked
partial (0 would say the network is empty)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QSize, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from designer.app.editor import Editor
from designer.core.registry import shape_str
from designer.core.summary import Summary, human, summarize

HEADERS = ("Layer", "Type", "Output shape", "Params", "MACs", "Trainable")
NUMBERS = (3, 4)
ROWS_SHOWN = 8  # the panel asks for room for this many rows
PARTIAL_TIP = (
    "Partial: the totals of the layers whose shapes are known; fix the problems to count the rest."
)


def totals_text(s: Summary) -> str:
    """'1.2M params · 35M MACs', or with '(partial)' while some shapes are unknown."""
    text = f"{human(s.total_params)} params · {human(s.macs)} MACs"
    return text + " (partial)" if s.partial else text


class SummaryModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary: Summary | None = None

    def set_summary(self, summary: Summary) -> None:
        self.beginResetModel()
        self.summary = summary
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return (
            0
            if (parent is not None and parent.isValid()) or self.summary is None
            else len(self.summary.rows)
        )

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
            macs = "" if row.macs is None else human(row.macs)
            # Trainable means nothing for a layer without parameters (ReLU, pooling).
            trainable = ("yes" if row.trainable else "no") if row.params else ""
            return (
                row.name,
                row.type,
                shape_str(row.output_shape),
                f"{row.params:,}",
                macs,
                trainable,
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and row.macs is not None:
            return f"{row.macs:,} multiply-accumulates per sample"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMBERS:
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
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names are the key
        header.setStretchLastSection(False)
        fm = self.fontMetrics()
        widths = ("ClassificationOutput", "512 x 28 x 28", "23,500,000", "12.3M", "Trainable")
        for col, sample in enumerate(widths, start=1):
            self.table.setColumnWidth(col, fm.horizontalAdvance(sample) + 24)
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
        partial = (
            (" <span style='color:#e03131'>(partial: the layers whose shapes are known)</span>")
            if s.partial
            else ""
        )
        self.totals.setText(
            f"  Total params: <b>{s.total_params:,}</b> · trainable {s.trainable_params:,} · "
            f"non-trainable {s.non_trainable_params:,} · MACs per sample: <b>{human(s.macs)}</b>"
            f" · output {shape_str(s.output_shape)}{partial}"
        )
        self.totals.setToolTip(PARTIAL_TIP if s.partial else "")

    def sizeHint(self) -> QSize:
        """Room for ROWS_SHOWN rows under the header, with the totals line."""
        row = self.table.verticalHeader().defaultSectionSize()
        height = self.table.horizontalHeader().sizeHint().height() + ROWS_SHOWN * row
        return QSize(600, height + self.totals.sizeHint().height() + 8)

    def _clicked(self, index) -> None:
        node_id = self.model.data(index, Qt.ItemDataRole.UserRole)
        if node_id:
            self.editor.go_to_level(0)  # the table lists the design's top level
            self.editor.reveal(node_id)
