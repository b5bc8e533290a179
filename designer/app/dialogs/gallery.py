"""File → New from template: the template catalog with title, year, params, MACs and
description. Params and MACs are computed a template per event-loop turn (the big ones take a
moment to build), and kept for the session. A second tab offers the shipped experiments
(templates/experiments), which open in the New experiment form."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.core.registry import shape_str
from designer.core.summary import human, summarize
from designer.templates import Template, list_templates

_STATS: dict[str, tuple[int, int] | str] = {}  # template name -> (params, MACs) or why not


def template_stats(t: Template) -> tuple[int, int] | str:
    if t.name not in _STATS:
        try:
            s = summarize(t.build())
            _STATS[t.name] = (s.total_params, s.macs)
        except Exception as exc:  # noqa: BLE001 - a broken template must not break the gallery
            _STATS[t.name] = f"cannot build: {exc}"
    return _STATS[t.name]


def has_imagenet_weights(t: Template) -> bool:
    """torchvision has pretrained weights of this template's architecture."""
    from designer_templates._imagenet import link_for

    link = link_for(t, dict(link_options(t)))
    return link is not None and link.model is not None


def link_options(t: Template) -> dict:
    """The options torchvision's pretrained model implies (e.g. SqueezeNet's version)."""
    from designer_templates._imagenet import link_for

    link = link_for(t, {})
    return dict(link.pretrained_options) if link is not None else {}


class TemplateGallery(QDialog):
    COLUMNS = ("Template", "Year", "Params", "MACs")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New from template")
        self.resize(860, 480)
        self.templates = sorted(list_templates(), key=lambda t: (t.year or 9999, t.title))
        self.table = QTableWidget(len(self.templates), len(self.COLUMNS), self)
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, t in enumerate(self.templates):
            cells = (t.title, str(t.year or ""), "…", "…")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, col, item)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setMinimumWidth(320)
        self.pretrained = QCheckBox(
            "with torchvision's ImageNet weights (downloaded once, or from a file)"
        )
        self.pretrained.setObjectName("gallery-pretrained")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.create_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        networks = QWidget()
        body = QHBoxLayout(networks)
        body.addWidget(self.table, 3)
        body.addWidget(self.details, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(networks, "Networks")
        self.tabs.addTab(self._experiments_page(), "Experiments")
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.pretrained)
        layout.addWidget(buttons)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.table.itemDoubleClicked.connect(lambda _item: self.accept())
        self._pending = list(range(len(self.templates)))
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._fill_next)
        self._timer.start()
        if self.templates:
            self.table.selectRow(0)

    def _experiments_page(self) -> QWidget:
        from designer.training.experiment import ExperimentError, list_experiments

        try:
            self.experiments = list_experiments()
        except ExperimentError:  # a broken shipped file must not break the gallery
            self.experiments = []
        self.experiment_table = QTableWidget(len(self.experiments), 3, self)
        self.experiment_table.setObjectName("gallery-experiments")
        self.experiment_table.setHorizontalHeaderLabels(("Experiment", "Base", "Runs"))
        self.experiment_table.verticalHeader().hide()
        self.experiment_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.experiment_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.experiment_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.experiment_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        for row, exp in enumerate(self.experiments):
            runs = len(exp.plan(offline=exp.offline is not None))
            cells = (exp.title, exp.template or exp.source, str(runs))
            for col, text in enumerate(cells):
                self.experiment_table.setItem(row, col, QTableWidgetItem(text))
        self.experiment_details = QLabel(self)
        self.experiment_details.setWordWrap(True)
        self.experiment_details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.experiment_details.setMinimumWidth(320)
        self.experiment_table.itemSelectionChanged.connect(self._show_experiment)
        self.experiment_table.itemDoubleClicked.connect(lambda _item: self.accept())
        page = QWidget()
        body = QHBoxLayout(page)
        body.addWidget(self.experiment_table, 3)
        body.addWidget(self.experiment_details, 2)
        if self.experiments:
            self.experiment_table.selectRow(0)
        return page

    def _show_experiment(self) -> None:
        row = self.experiment_table.currentRow()
        if 0 <= row < len(self.experiments):
            exp = self.experiments[row]
            offline = f"\n\nOffline: {exp.offline.note}" if exp.offline and exp.offline.note else ""
            self.experiment_details.setText(f"{exp.title}\n\n{exp.description}{offline}")

    def _tab_changed(self, index: int) -> None:
        experiments = index == 1
        self.create_button.setText("Open experiment…" if experiments else "Create")
        self.pretrained.setVisible(not experiments)

    def chosen_experiment(self):
        """The shipped Experiment chosen on the Experiments tab, or None."""
        row = self.experiment_table.currentRow()
        if self.tabs.currentIndex() != 1 or not 0 <= row < len(self.experiments):
            return None
        return self.experiments[row]

    def done_filling(self) -> bool:
        return not self._pending

    def _fill_next(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        row = self._pending.pop(0)
        stats = template_stats(self.templates[row])
        if isinstance(stats, tuple):
            self.table.item(row, 2).setText(human(stats[0]))
            self.table.item(row, 3).setText(human(stats[1]))
        else:
            self.table.item(row, 2).setText("—")
            self.table.item(row, 2).setToolTip(stats)
        if row == self.table.currentRow():
            self._show_details()

    def chosen(self) -> tuple[str, bool] | None:
        """(template name, with ImageNet weights) as chosen."""
        row = self.table.currentRow()
        if not 0 <= row < len(self.templates):
            return None
        return self.templates[row].name, self.pretrained.isEnabled() and self.pretrained.isChecked()

    def _show_details(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.templates):
            return
        t = self.templates[row]
        has_weights = has_imagenet_weights(t)
        self.pretrained.setEnabled(has_weights)
        self.pretrained.setToolTip(
            "" if has_weights else f"torchvision has no ImageNet weights for {t.title}"
        )
        stats = _STATS.get(t.name)
        numbers = (
            f"{stats[0]:,} parameters · {human(stats[1])} MACs per sample"
            if isinstance(stats, tuple)
            else (stats or "counting…")
        )
        parts = [f"<h3>{t.title}</h3>"]
        if t.year or t.paper:
            parts.append(f"<p><b>{t.year or ''}</b> {('· ' + t.paper) if t.paper else ''}</p>")
        parts.append(f"<p>{t.description}</p>")
        if t.input_shape:
            parts.append(f"<p>Input {shape_str(tuple(t.input_shape))}</p>")
        parts.append(f"<p>{numbers}</p>")
        if t.accuracy:
            acc = ", ".join(f"{k} {v}" for k, v in t.accuracy.items())
            parts.append(f"<p>ImageNet accuracy: {acc}</p>")
        if t.tags:
            parts.append(f"<p style='color:gray'>{', '.join(t.tags)}</p>")
        self.details.setText("".join(parts))
