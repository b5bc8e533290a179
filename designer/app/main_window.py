"""The main window (minimal until the editor lands): the design's summary and problems."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.core.analysis import analyze
from designer.core.design import Design
from designer.core.summary import human, summarize


class MainWindow(QMainWindow):
    def __init__(self, design: Design, path: str | None = None) -> None:
        super().__init__()
        self.design = design
        self.path = path
        self.setWindowTitle(f"{design.name} - Network Designer")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.title = QLabel(central)
        self.table = QTableWidget(0, 5, central)
        self.table.setHorizontalHeaderLabels(["Layer", "Type", "Output shape", "Params", "Trainable"])
        self.problems = QLabel(central)
        self.problems.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.problems)
        self.setCentralWidget(central)
        design.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        res = analyze(self.design)
        s = summarize(self.design, res)
        self.title.setText(f"<b>{self.design.name}</b> — input {' x '.join(map(str, self.design.input_shape))}")
        self.table.setRowCount(len(s.rows))
        for i, r in enumerate(s.rows):
            shape = "?" if r.output_shape is None else " x ".join(map(str, r.output_shape))
            for j, v in enumerate([r.name, r.type, shape, f"{r.params:,}", "yes" if r.trainable else "no"]):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        self.problems.setText("\n".join(str(p) for p in res.problems) or "No problems.")
        self.statusBar().showMessage(f"{human(s.total_params)} params, {human(s.macs)} MACs")
