"""The end of a run: its test figures (and which weights they come from), the best epoch, the
confusion matrix with per-class accuracy. Rows are true classes, columns predicted ones."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
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

from designer.app.training.runs_panel import percent
from designer.training.runs import RunInfo


class ResultsView(QWidget):
    keep_changed = Signal(object, str)  # run path, "best" | "last"
    cell_clicked = Signal(object, int, int)  # run path, true class, predicted class

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunInfo | None = None
        self.keep = QComboBox()
        self.keep.setObjectName("results-keep")
        self.keep.addItem("the best epoch's weights (by validation)", "best")
        self.keep.addItem("the last epoch's weights", "last")
        self.keep.setToolTip(
            "Which weights the run keeps: its test figures, exports and "
            "'use these weights' take these"
        )
        self.keep.activated.connect(self._keep_chosen)
        keep_row = QHBoxLayout()
        self.keep_label = QLabel("The run keeps")
        keep_row.addWidget(self.keep_label)
        keep_row.addWidget(self.keep)
        keep_row.addStretch(1)
        self.summary = QLabel("Train a run, or select one in the Runs list, to see its results.")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("results-summary")
        self.matrix = QTableWidget()
        self.matrix.setObjectName("confusion-matrix")
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.matrix.hide()
        self.matrix.cellClicked.connect(self._cell_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(keep_row)
        layout.addWidget(self.matrix, 1)

    def _cell_clicked(self, row: int, column: int) -> None:
        if self.run is not None and column < self.matrix.rowCount():
            self.cell_clicked.emit(self.run.path, row, column)

    def _keep_chosen(self) -> None:
        if self.run is not None:
            self.keep_changed.emit(self.run.path, self.keep.currentData())

    def show_run(self, run: RunInfo | None) -> None:
        self.run = run
        both = run is not None and all(
            isinstance((run.result.get("test") or {}).get(w), dict) for w in ("best", "last")
        )
        self.keep.setVisible(both)
        self.keep_label.setVisible(both)
        if both:
            self.keep.setCurrentIndex(0 if run.result.get("kept", "best") == "best" else 1)
        if run is None:
            self.summary.setText("Select a run to see its results.")
            self.matrix.hide()
            return
        r = run.result
        lines = [f"<b>{run.name}</b>: {run.status}" + (f" — {run.message}" if run.message else "")]
        if run.test_accuracy is not None or run.test_loss is not None:
            kept = r.get("kept")
            source = f" (the {kept} weights)" if kept else ""
            loss = "—" if run.test_loss is None else f"{run.test_loss:.4f}"
            lines.append(f"Test accuracy <b>{percent(run.test_accuracy)}</b>, loss {loss}{source}")
        for which, figures in (r.get("test") or {}).items():
            if isinstance(figures, dict) and figures.get("accuracy") is not None:
                lines.append(
                    f"&nbsp;&nbsp;{which} weights: accuracy {percent(figures['accuracy'])},"
                    f" loss {figures.get('loss', float('nan')):.4f}"
                )
        if run.best_epoch is not None:
            lines.append(
                f"Best epoch {run.best_epoch} (validation accuracy "
                f"{percent(run.best_val_accuracy)})"
            )
        overfit = r.get("overfit")
        if overfit:
            verdict = (
                "reached 100% training accuracy"
                if overfit.get("reached")
                else "did NOT reach 100% training accuracy: check the design and settings"
            )
            lines.append(
                f"Overfit check on {overfit.get('samples')} samples: {verdict}"
                + (f" (epoch {overfit['epoch']})" if overfit.get("epoch") else "")
            )
        self.summary.setText("<br>".join(lines))
        self._matrix(r.get("classes") or [], r.get("confusion"))

    def _matrix(self, classes: list[str], confusion) -> None:
        if not confusion:
            self.matrix.hide()
            return
        n = len(confusion)
        classes = classes if len(classes) == n else [str(i) for i in range(n)]
        self.matrix.setRowCount(n)
        self.matrix.setColumnCount(n + 1)
        self.matrix.setHorizontalHeaderLabels([f"→ {c}" for c in classes] + ["class accuracy"])
        self.matrix.setVerticalHeaderLabels(classes)
        peak = max((max(row) for row in confusion), default=1) or 1
        for i, row in enumerate(confusion):
            total = sum(row)
            for j, count in enumerate(row):
                item = QTableWidgetItem(str(count))
                strength = count / peak
                colour = QColor(49, 130, 189) if i == j else QColor(224, 49, 49)
                colour.setAlphaF(0.08 + 0.7 * strength if count else 0.0)
                item.setBackground(QBrush(colour))
                item.setToolTip(
                    f"{count} test image(s) of class {classes[i]} predicted as "
                    f"{classes[j]}; click to see them"
                )
                self.matrix.setItem(i, j, item)
            self.matrix.setItem(i, n, QTableWidgetItem(percent(row[i] / total if total else None)))
        self.matrix.show()
