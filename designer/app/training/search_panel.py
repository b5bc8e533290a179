"""Hyperparameter search in the app: the ranges to sample (the engine's SearchSpace: learning
rate and weight decay log-uniform, dropout uniform, a batch size from a list), trials × epochs,
and a live results table, best validation accuracy first, with "Apply best settings". Each trial
is an ordinary run of the design (search-001-trial-01, ...), so it can be overlaid like any other.
The test split plays no part in the ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.app.panels.fields import ERROR_STYLE
from designer.app.training.runs_panel import percent
from designer.training.config import ConfigError
from designer.training.rundir import RESUMABLE_STATUSES, RunDir, RunDirError
from designer.training.search import SearchSpace, SearchStudy

PARAMS = ("lr", "weight_decay", "dropout", "batch_size")


@dataclass
class SearchPlan:
    """A search in progress: the engine's SearchStudy (Optuna, random sampler) that samples its
    trials, their settings, and which have been started. A trial is told its result when its
    run has one (result.json), before the next trial is asked for."""

    name: str
    space: SearchSpace
    trials: int
    epochs: int
    seed: int
    dropout: bool  # the design has dropout layers to vary
    started: list[tuple[Path, dict]] = field(default_factory=list)  # (run dir, sampled settings)
    stopped: bool = False

    def __post_init__(self) -> None:
        self._study = SearchStudy(
            self.space, dropout=self.dropout, seed=self.seed, epochs=self.epochs
        )
        self._untold: dict[Path, object] = {}  # run dir -> its Optuna trial, not told yet

    @property
    def finished(self) -> bool:
        return self.stopped or len(self.started) >= self.trials

    def next_trial(self, folder: Path) -> tuple[Path, dict]:
        self.tell_finished()
        trial, run_dir, params = self._study.ask(
            lambda number: folder / f"{self.name}-trial-{number + 1:02d}"
        )
        if not self.dropout:
            params.pop("dropout")
        self._untold[run_dir] = trial
        self.started.append((run_dir, params))
        return run_dir, params

    def tell_finished(self) -> None:
        """Tell the study the results of the trials whose runs have ended."""
        for run_dir, trial in list(self._untold.items()):
            try:
                result = RunDir(run_dir).read_json(RunDir.RESULT)
            except RunDirError:
                result = {"status": "failed"}
            if result is not None and result.get("status") not in RESUMABLE_STATUSES:
                self._study.tell(trial, result)
                del self._untold[run_dir]


class SearchDialog(QDialog):
    """The ranges and the budget; accept() only with valid values (the engine's checks)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hyperparameter search")
        default = SearchSpace()
        self.trials = QSpinBox()
        self.trials.setRange(1, 1000)
        self.trials.setValue(8)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(3)
        self.lr = QLineEdit(f"{default.lr[0]:g}, {default.lr[1]:g}")
        self.weight_decay = QLineEdit(f"{default.weight_decay[0]:g}, {default.weight_decay[1]:g}")
        self.dropout = QLineEdit(f"{default.dropout[0]:g}, {default.dropout[1]:g}")
        self.batch_sizes = QLineEdit(", ".join(str(b) for b in default.batch_sizes))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Trials", self.trials)
        form.addRow("Epochs per trial", self.epochs)
        form.addRow("Learning rate (log-uniform)", self.lr)
        form.addRow("Weight decay (log-uniform)", self.weight_decay)
        form.addRow("Dropout (uniform)", self.dropout)
        form.addRow("Batch sizes", self.batch_sizes)
        form.addRow("Seed", self.seed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start search")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Random search (random trials cover a space better than a grid). "
                "Each trial is a run, ranked by validation accuracy."
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.space: SearchSpace | None = None

    def _accept(self) -> None:
        try:
            self.space = parse_space(
                self.lr.text(),
                self.weight_decay.text(),
                self.dropout.text(),
                self.batch_sizes.text(),
            )
        except (ValueError, ConfigError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()

    def choice(self) -> tuple[SearchSpace, int, int, int]:
        return self.space, self.trials.value(), self.epochs.value(), self.seed.value()


def parse_space(lr: str, weight_decay: str, dropout: str, batch_sizes: str) -> SearchSpace:
    """The dialog's texts as a SearchSpace; ValueError or ConfigError name what is wrong."""

    def pair(text: str, name: str) -> tuple[float, float]:
        parts = [p for p in text.replace(",", " ").split() if p]
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"the {name} range must be two numbers, low and high, got {text!r}"
            ) from None
        return low, high

    try:
        sizes = tuple(int(p) for p in batch_sizes.replace(",", " ").split())
    except ValueError:
        raise ValueError(f"the batch sizes must be whole numbers, got {batch_sizes!r}") from None
    return SearchSpace(
        pair(lr, "learning rate"),
        pair(weight_decay, "weight decay"),
        pair(dropout, "dropout"),
        sizes,
    )


class SearchPanel(QWidget):
    """The trials of the current search, best validation accuracy first."""

    apply_requested = Signal(dict)  # the best trial's sampled settings

    COLUMNS = (
        "Rank",
        "Trial",
        "Val. acc.",
        "Val. loss",
        "lr",
        "Weight decay",
        "Dropout",
        "Batch",
        "Status",
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel("No search yet: Run → Hyperparameter search…")
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("search-table")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.apply = QPushButton("Apply best settings")
        self.apply.setEnabled(False)
        self.apply.clicked.connect(lambda: self.apply_requested.emit(self.best))
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.apply)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.best: dict = {}

    def show_trials(self, plan: SearchPlan, runs_by_path: dict) -> None:
        plan.tell_finished()
        rows = []
        for number, (path, params) in enumerate(plan.started, start=1):
            run = runs_by_path.get(path)
            acc = run.best_val_accuracy if run is not None else None
            loss = run.result.get("best_val_loss") if run is not None else None
            status = run.status if run is not None else "starting"
            rows.append((acc, loss, number, params, status))
        rows.sort(
            key=lambda r: (
                -(r[0] if r[0] is not None else -1.0),
                r[1] if r[1] is not None else float("inf"),
                r[2],
            )
        )
        self.table.setRowCount(len(rows))
        for i, (acc, loss, number, params, status) in enumerate(rows):
            drop = params.get("dropout")
            cells = (
                str(i + 1),
                str(number),
                percent(acc),
                "—" if loss is None else f"{loss:.4f}",
                f"{params['lr']:.2e}",
                f"{params['weight_decay']:.2e}",
                "—" if drop is None else f"{drop:.2f}",
                str(params["batch_size"]),
                status,
            )
            for col, text in enumerate(cells):
                self.table.setItem(i, col, QTableWidgetItem(text))
        done = sum(1 for r in rows if r[0] is not None)
        self.title.setText(
            f"{plan.name}: {len(plan.started)}/{plan.trials} trials of "
            f"{plan.epochs} epoch(s)" + (" (stopped)" if plan.stopped else "")
        )
        self.best = rows[0][3] if rows and rows[0][0] is not None else {}
        self.apply.setEnabled(bool(self.best) and done > 0)
