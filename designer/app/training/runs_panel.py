"""The Runs list: every run of the design (and any run folder the user opened), with its status,
results and what changed from the run before; selecting several overlays their curves. Per run:
rename, delete, open its folder, resume, compare settings. An experiment's runs are grouped
under one row (click it to show or hide them, and to see the experiment's results)."""

from __future__ import annotations

from dataclasses import dataclass
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
from designer.training.experiment_run import FINISHED
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


@dataclass
class RunGroup:
    """An experiment's folder of runs (designer.training.experiment_run.experiment_folders)."""

    path: Path
    runs: list[RunInfo]
    total: int  # the runs the experiment plans

    @property
    def name(self) -> str:
        return self.path.name

    def finished(self) -> int:
        return sum(r.status in FINISHED for r in self.runs)


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
    group_clicked = Signal(object)  # the path of an experiment's folder

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
        self.cellClicked.connect(self._cell_clicked)
        self.runs: list[RunInfo] = []  # every run shown, the grouped ones too
        self.entries: list[RunInfo | RunGroup] = []  # what each row shows
        self.groups: list[RunGroup] = []
        self.expanded: set[Path] = set()  # the groups whose runs are shown
        self.current_fingerprint: str | None = None
        self.live: Path | None = None

    def show_runs(
        self,
        runs: list[RunInfo],
        fingerprint: str | None,
        live: Path | None,
        groups: list[RunGroup] = (),
    ) -> None:
        """Fill the table: the runs, then each group's row and its runs; keeps the selection
        (by path)."""
        selected = set(self.selected())
        self.current_fingerprint, self.live = fingerprint, live
        self.groups = list(groups)
        self.entries = list(runs)
        for group in self.groups:
            self.entries += [group, *group.runs]
        self.runs = [e for e in self.entries if isinstance(e, RunInfo)]
        self.blockSignals(True)
        self.clearSpans()
        self.setRowCount(len(self.entries))
        previous = None
        group = None
        for row, entry in enumerate(self.entries):
            if isinstance(entry, RunGroup):
                group, previous = entry, None
                self._group_row(row, entry)
                continue
            run = entry
            in_group = group is not None
            self.setRowHidden(row, in_group and group.path not in self.expanded)
            status = "training…" if live is not None and run.path == live else run.status
            changes = describe_diff(settings_diff(previous.config, run.config)) if previous else ""
            cells = (
                f"    {run.name}" if in_group else run.name,
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
                if col == 0 and status != "training…" and not in_group:
                    flags |= Qt.ItemFlag.ItemIsEditable  # an experiment's runs keep its names
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
                name.setText(f"{name.text()} ≠")
            if run.status in ("failed", "crashed", "diverged"):
                self.item(row, 1).setForeground(QBrush(QColor("#e03131")))
            if run.message:
                self.item(row, 1).setToolTip(run.message)
            previous = run
        self.blockSignals(False)
        self.select_paths(selected, notify=False)

    def _group_row(self, row: int, group: RunGroup) -> None:
        self.setRowHidden(row, False)
        arrow = "▾" if group.path in self.expanded else "▸"
        text = f"{arrow} experiment {group.name}: {group.finished()} of {group.total} runs finished"
        item = QTableWidgetItem(text)
        item.setData(PATH_ROLE, str(group.path))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(f"{group.path}\nClick to show or hide its runs and see its results")
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
        self.setItem(row, 0, item)
        for col in range(1, self.columnCount()):
            self.setItem(row, col, QTableWidgetItem(""))
            self.item(row, col).setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.setSpan(row, 0, 1, self.columnCount())

    def group_row(self, path: Path) -> int | None:
        return next(
            (i for i, e in enumerate(self.entries) if isinstance(e, RunGroup) and e.path == path),
            None,
        )

    def set_expanded(self, path: Path, expanded: bool) -> None:
        """Show or hide a group's runs."""
        (self.expanded.add if expanded else self.expanded.discard)(path)
        row = self.group_row(path)
        if row is None:
            return
        self.blockSignals(True)
        self._group_row(row, self.entries[row])
        child = row + 1
        while child < len(self.entries) and isinstance(self.entries[child], RunInfo):
            self.setRowHidden(child, not expanded)
            child += 1
        self.blockSignals(False)

    def _cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.entries) and isinstance(self.entries[row], RunGroup):
            path = self.entries[row].path
            self.set_expanded(path, path not in self.expanded)
            self.group_clicked.emit(path)

    def select_paths(self, paths, notify: bool = True) -> None:
        """Select the rows of these runs (and only those), showing a group's runs if needed."""
        from PySide6.QtCore import QItemSelectionModel

        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for group in self.groups:
            if group.path not in self.expanded and any(r.path in paths for r in group.runs):
                self.set_expanded(group.path, True)
        self.blockSignals(not notify)
        self.clearSelection()
        for row, run in enumerate(self.entries):
            if isinstance(run, RunInfo) and run.path in paths:
                self.selectionModel().select(self.model().index(row, 0), flags)
        self.blockSignals(False)

    def update_live(self, epoch: int, epochs: int, best_val_accuracy: float | None) -> None:
        """The live run's row after an epoch, without re-reading every run (cheap enough to do
        while training, so the window never stutters)."""
        for row, run in enumerate(self.entries):
            if isinstance(run, RunInfo) and self.live is not None and run.path == self.live:
                self.blockSignals(True)
                self.item(row, 3).setText(f"{epoch}/{epochs}")
                if best_val_accuracy is not None:
                    self.item(row, 4).setText(percent(best_val_accuracy))
                self.blockSignals(False)
                return

    def selected(self) -> list[Path]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        return [run.path for r in rows if (run := self.run_at(r)) is not None]

    def run_at(self, row: int) -> RunInfo | None:
        entry = self.entries[row] if 0 <= row < len(self.entries) else None
        return entry if isinstance(entry, RunInfo) else None

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
        in_group = any(run in g.runs for g in self.groups)
        menu.addAction(
            "Rename", lambda: self.editItem(self.item(self.rowAt(pos.y()), 0))
        ).setEnabled(not live and not in_group)
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
