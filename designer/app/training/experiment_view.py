"""An experiment's results in the Training workspace: the rows of
designer.training.experiment_results (one per combination of levels, its seeds summed up),
grouped and coloured by one chosen factor (every row of a level in one colour of
designer.app.plots.PALETTE, the best group first); a click on a row overlays its runs' curves."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.app.plots import PALETTE
from designer.training.experiment_results import ResultRow, format_seconds, read_results

METRICS = ("Best val. acc.", "Test acc.", "Epochs", "Time", "Status")


def mean_spread(mean: float | None, spread: float | None) -> str:
    if mean is None:
        return "—"
    return f"{100 * mean:.2f}%" if spread is None else f"{100 * mean:.2f} ± {100 * spread:.2f}%"


class ExperimentResultsView(QWidget):
    runs_clicked = Signal(list)  # [Path] of the clicked row's runs (one per seed)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("experiment-results")
        self.folder: Path | None = None
        self.factors: list[str] = []
        self.rows: list[ResultRow] = []  # as shown, grouped by the chosen factor
        self.row_colours: list[str] = []  # the palette colour of each shown row
        self.title = QLabel(
            "No experiment chosen: run one (Run → New experiment…) or click an experiment's "
            "row in the Runs list."
        )
        self.title.setWordWrap(True)
        self.colour_by = QComboBox()
        self.colour_by.setObjectName("experiment-colour-by")
        self.colour_by.setToolTip("Group the rows by this factor, one colour per level")
        self.colour_by.currentIndexChanged.connect(lambda _i: self._fill())
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("experiment-results-table")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(self._clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.colour_by)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def show_folder(self, folder: str | Path) -> bool:
        """Show the results.json of an experiment's folder (False when it has none)."""
        self.folder = Path(folder)
        found = read_results(self.folder)
        if found is None:
            self.title.setText(f"{self.folder.name}: no results yet")
            self.factors, self.rows = [], []
            self.table.setRowCount(0)
            return False
        header, rows = found
        offline = " (offline: the reduced variant)" if header.get("offline") else ""
        trained = sum(r["status"] != "not run" for row in rows for r in row.runs)
        total = sum(len(row.runs) for row in rows)
        self.title.setText(f"<b>{header['title']}</b>{offline} — {trained} of {total} runs")
        chosen = self.colour_by.currentText()
        self.factors = list(header["factors"])
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItems(self.factors)
        if chosen in self.factors:
            self.colour_by.setCurrentText(chosen)
        self.colour_by.blockSignals(False)
        self._all = rows
        self._fill()
        return True

    def _fill(self) -> None:
        rows = getattr(self, "_all", [])
        factor = self.colour_by.currentText()
        levels: list[str] = []  # in order of their best row: the best group first
        for row in rows:
            label = row.labels.get(factor, "")
            if label not in levels:
                levels.append(label)
        ranked = {id(row): rank for rank, row in enumerate(rows, start=1)}
        self.rows = sorted(rows, key=lambda r: levels.index(r.labels.get(factor, "")))
        self.row_colours = [
            PALETTE[levels.index(r.labels.get(factor, "")) % len(PALETTE)] for r in self.rows
        ]
        headers = ["Rank", *self.factors, *METRICS]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(self.rows))
        factor_col = 1 + self.factors.index(factor) if factor in self.factors else -1
        bold = QFont(self.table.font())
        bold.setBold(True)
        for i, (row, colour) in enumerate(zip(self.rows, self.row_colours, strict=True)):
            epochs = "—" if row.epochs is None else f"{row.epochs:g}"
            seconds = "—" if row.seconds is None else format_seconds(row.seconds)
            cells = [
                str(ranked[id(row)]),
                *(row.labels.get(f, "") for f in self.factors),
                mean_spread(row.best_val_accuracy, row.best_val_accuracy_std),
                mean_spread(row.test_accuracy, row.test_accuracy_std),
                epochs,
                seconds,
                row.status,
            ]
            tint = QColor(colour)
            tint.setAlpha(55)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(tint))
                item.setToolTip("\n".join(r["name"] for r in row.runs))
                if col == factor_col:
                    item.setForeground(QBrush(QColor(colour).darker(130)))
                    item.setFont(bold)
                if col == 0 or len(self.factors) < col < len(cells) - 1:  # the numbers
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, col, item)

    def paths_of(self, index: int) -> list[Path]:
        """The runs of a shown row that have trained (in this folder, wherever it moved)."""
        return [self.folder / r["name"] for r in self.rows[index].runs if r["status"] != "not run"]

    def _clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.rows):
            self.runs_clicked.emit(self.paths_of(row))
