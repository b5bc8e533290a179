"""The Runs list: every run of the design (and any run folder the user opened), with its status,
results and what changed from the run before; selecting several overlays their curves. Per run:
rename, delete, open its folder, resume, compare settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
)

from designer.app.training.controller import format_seconds
from designer.training.runs import RunInfo, describe_diff, settings_diff

COLUMNS = (
    "Name",
    "Status",
    "When",
    "Epochs",
    "Best val. acc.",
    "Test acc.",
    "Duration",
    "Changes from the run before",
)
PATH_ROLE = Qt.ItemDataRole.UserRole


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


class RunsTable(QTableWidget):
    """Rows of RunInfo; emits what the user asks for, the workspace does it."""

    selection_changed_runs = Signal(list)  # [Path] of the selected runs
    rename_requested = Signal(object, str)  # path, new name
    delete_requested = Signal(list)  # [Path]
    resume_requested = Signal(object)  # path
    use_weights_requested = Signal(object)  # path
    export_requested = Signal(object)  # path

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("runs-table")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemSelectionChanged.connect(lambda: self.selection_changed_runs.emit(self.selected()))
        self.itemChanged.connect(self._item_changed)
        self.runs: list[RunInfo] = []
        self.current_fingerprint: str | None = None
        self.live: Path | None = None

    def show_runs(self, runs: list[RunInfo], fingerprint: str | None, live: Path | None) -> None:
        """Fill the table, keeping the selection (by path)."""
        selected = set(self.selected())
        self.runs, self.current_fingerprint, self.live = runs, fingerprint, live
        self.blockSignals(True)
        self.setRowCount(len(runs))
        previous = None
        for row, run in enumerate(runs):
            status = "training…" if live is not None and run.path == live else run.status
            changes = describe_diff(settings_diff(previous.config, run.config)) if previous else ""
            cells = (
                run.name,
                status,
                run.when(),
                f"{run.epochs_run}/{run.epochs}",
                percent(run.best_val_accuracy),
                percent(run.test_accuracy),
                format_seconds(run.seconds) if run.seconds is not None else "—",
                changes,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(PATH_ROLE, str(run.path))
                flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
                if col == 0 and status != "training…":
                    flags |= Qt.ItemFlag.ItemIsEditable
                item.setFlags(flags)
                self.setItem(row, col, item)
            stale = fingerprint is not None and run.fingerprint not in (None, fingerprint)
            name = self.item(row, 0)
            name.setToolTip(
                f"{run.path}\n"
                + (
                    "Trained on another version of the network than the one on the canvas"
                    if stale
                    else ""
                )
            )
            if stale:
                font = QFont(name.font())
                font.setItalic(True)
                name.setFont(font)
                name.setText(f"{run.name} ≠")
            if run.status in ("failed", "crashed", "diverged"):
                self.item(row, 1).setForeground(QBrush(QColor("#e03131")))
            if run.message:
                self.item(row, 1).setToolTip(run.message)
            previous = run
        self.blockSignals(False)
        self.select_paths(selected, notify=False)

    def select_paths(self, paths, notify: bool = True) -> None:
        """Select the rows of these runs (and only those)."""
        from PySide6.QtCore import QItemSelectionModel

        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.blockSignals(not notify)
        self.clearSelection()
        for row, run in enumerate(self.runs):
            if run.path in paths:
                self.selectionModel().select(self.model().index(row, 0), flags)
        self.blockSignals(False)

    def update_live(self, epoch: int, epochs: int, best_val_accuracy: float | None) -> None:
        """The live run's row after an epoch, without re-reading every run (cheap enough to do
        while training, so the window never stutters)."""
        for row, run in enumerate(self.runs):
            if self.live is not None and run.path == self.live:
                self.blockSignals(True)
                self.item(row, 3).setText(f"{epoch}/{epochs}")
                if best_val_accuracy is not None:
                    self.item(row, 4).setText(percent(best_val_accuracy))
                self.blockSignals(False)
                return

    def selected(self) -> list[Path]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        return [self.runs[r].path for r in rows if r < len(self.runs)]

    def run_at(self, row: int) -> RunInfo | None:
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            run = self.run_at(item.row())
            if run is not None and item.text() != run.name:
                self.rename_requested.emit(run.path, item.text())

    def _menu(self, pos) -> None:
        run = self.run_at(self.rowAt(pos.y()))
        if run is None:
            return
        live = self.live is not None and run.path == self.live
        menu = QMenu(self)
        menu.addAction(
            "Rename", lambda: self.editItem(self.item(self.rowAt(pos.y()), 0))
        ).setEnabled(not live)
        menu.addAction("Resume", lambda: self.resume_requested.emit(run.path)).setEnabled(
            run.resumable and not live
        )
        menu.addAction(
            "Use these weights in the design", lambda: self.use_weights_requested.emit(run.path)
        ).setEnabled(
            not live
            and any((run.path / f).exists() for f in ("best.safetensors", "last.safetensors"))
        )
        menu.addAction(
            "Export trained model…", lambda: self.export_requested.emit(run.path)
        ).setEnabled(not live)
        menu.addAction(
            "Open folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(run.path)))
        )
        menu.addSeparator()
        paths = self.selected() if run.path in self.selected() else [run.path]
        menu.addAction(
            f"Delete {'run' if len(paths) == 1 else f'{len(paths)} runs'}…",
            lambda: self.delete_requested.emit(paths),
        ).setEnabled(not any(self.live is not None and p == self.live for p in paths))
        menu.exec(self.viewport().mapToGlobal(pos))
        menu.deleteLater()


class SettingsComparison(QTableWidget):
    """Side-by-side settings of the selected runs: one row per setting, differences highlighted
    (only the differing ones unless ``show_all``)."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def compare(self, runs: list[RunInfo]) -> None:
        from designer.training.runs import flat_settings

        flats = [flat_settings(r.config) for r in runs]
        keys = sorted(set().union(*flats)) if flats else []
        differing = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
        shown = differing + [k for k in keys if k not in differing]
        self.setColumnCount(len(runs))
        self.setRowCount(len(shown))
        self.setHorizontalHeaderLabels([r.name for r in runs])
        self.setVerticalHeaderLabels(shown)
        highlight = QBrush(QColor(255, 236, 153))
        for row, key in enumerate(shown):
            for col, flat in enumerate(flats):
                value = flat.get(key)
                item = QTableWidgetItem("—" if value is None else str(value))
                if key in differing:
                    item.setBackground(highlight)
                self.setItem(row, col, item)
