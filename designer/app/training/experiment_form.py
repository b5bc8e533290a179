"""Run → New experiment…: a form that writes an experiment file (designer.training.experiment):
the base (the design on the canvas, or a template with its options), the factors (a training
setting, a layer's parameter or a template option, each with its values), how to combine them,
the seeds per combination and the training settings. The experiment's own reader checks what
the form writes, and every run is built, so what the form accepts is what `netdesigner
experiment` accepts; a refused value turns its row red with the engine's reason. Save writes the
file; Run trains it in the Training workspace. A shipped experiment or a file opens into it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.app.panels.fields import ERROR_STYLE, INVALID_STYLE
from designer.app.training.settings_form import SettingsForm
from designer.core.atomic import atomic_write_text
from designer.core.design import Design
from designer.training.config import ConfigError, TrainConfig, config_for_design
from designer.training.experiment import (
    FORMAT,
    TARGETS,
    VERSION,
    Experiment,
    ExperimentError,
    experiment_from_dict,
    list_experiments,
    load_experiment,
)

KINDS = {
    "setting": "training setting",
    "edit": "layer parameter",
    "option": "template option",
    "levels": "levels from the file",
}
COMBINE_TEXT = {
    "grid": "every combination (grid)",
    "list": "listed combinations",
    "random": "N random combinations",
}
# Settings a factor can vary: the flat ones (the seed is the experiment's "seeds").
SETTING_TARGETS = tuple(
    f.name for f in fields(TrainConfig) if f.name not in ("seed", "preprocessing", "augmentation")
)
BASE_DESIGN_FILE = "base-design.json"  # the canvas design, written into the experiment's folder
EXPERIMENT_FILTER = "Experiments (*.json);;All files (*)"


@dataclass
class ExperimentChoice:
    """What the form hands the workspace: the experiment file's contents, the design on the
    canvas when that is the base (written as BASE_DESIGN_FILE beside the runs), and the file
    the experiment was saved to or opened from (its folder resolves a base design file)."""

    data: dict[str, Any]
    design: Design | None
    path: str | None


def runs_at_once_limit() -> tuple[int, str]:
    """How many of an experiment's runs may train at once here, and why no more."""
    try:
        import torch

        gpus = torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no usable torch build: the CPU then
        gpus = 0
    if gpus <= 1:
        return 1, (
            "1: one run at a time, as this machine has no GPU to give a second run (on a CPU, "
            "two runs at once would each take twice as long)"
            if gpus == 0
            else "1: this machine has one GPU"
        )
    return 1, (
        f"1: this machine has {gpus} GPUs, but the app trains an experiment's runs one after "
        f"another; save the experiment and run `netdesigner experiment FILE --out DIR "
        f"--at-once {gpus}` to train {gpus} side by side, one per GPU"
    )


def parse_values(text: str) -> list[Any]:
    """A factor's values as typed: '0.02, 0.04' -> [0.02, 0.04], 'plain, batchnorm' -> two
    texts, true/false; a JSON list (e.g. [[16, 32], [32, 64]]) as it is. ValueError says why."""
    text = text.strip()
    if not text:
        raise ValueError("list the values, separated by commas")
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list ({exc.msg} at column {exc.colno})") from None
        if not isinstance(value, list):
            raise ValueError("not a JSON list")
        return value
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError("an empty value between two commas")
        try:
            values.append(json.loads(part))
        except json.JSONDecodeError:
            values.append(part)
    return values


def format_values(values: list[Any]) -> str:
    if any(isinstance(v, (list, dict)) for v in values):
        return json.dumps(values)
    return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in values)


def parse_option(text: str) -> Any:
    """A template option's value as typed: JSON (true, 0.5, [16, 32]), else text; the
    experiment's reader checks its type against the option's default."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def parse_combinations(text: str) -> list[dict[str, str]]:
    """One combination a line: 'lr=0.02, variant=plain'."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        combo = {}
        for part in line.split(","):
            name, eq, label = part.partition("=")
            if not eq or not name.strip() or not label.strip():
                raise ValueError(f"line {number}: write each part as FACTOR=LEVEL, e.g. lr=0.02")
            combo[name.strip()] = label.strip()
        out.append(combo)
    return out


class FactorRow(QWidget):
    """One factor: its name, what it varies, and its values; or, for a factor read from a file
    whose levels each set several things, those levels as they are."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, targets: dict[str, list[str]], raw: dict | None = None) -> None:
        super().__init__()
        self.setObjectName("experiment-factor")
        self.raw = raw if raw is not None and not _simple(raw) else None
        self.name = QLineEdit()
        self.name.setPlaceholderText("name")
        self.name.setMaximumWidth(140)
        self.kind = QComboBox()
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setMinimumWidth(180)
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, e.g. 0.02, 0.04, 0.08")
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip("Remove this factor")
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        self.problem = QLabel()
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        for w in (self.name, self.kind, self.target):
            line.addWidget(w)
        line.addWidget(self.values, 1)
        line.addWidget(remove)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addLayout(line)
        column.addWidget(self.problem)
        if self.raw is not None:
            self.name.setText(self.raw.get("name", ""))
            self.kind.addItem(KINDS["levels"], "levels")
            self.target.addItem("each level sets several things")
            labels = [lv.get("label", "?") for lv in self.raw.get("levels", [])]
            self.values.setText(", ".join(labels))
            self.values.setCursorPosition(0)  # the first labels, not the last
            for w in (self.kind, self.target, self.values):
                w.setEnabled(False)
            self.values.setToolTip(json.dumps(self.raw.get("levels", []), indent=1)[:2000])
        else:
            self.set_targets(targets)
            if raw is not None:
                kind = next(t for t in TARGETS if t in raw)
                self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
                self._fill_targets()
                self.target.setCurrentText(raw[kind])
                self.name.setText(raw.get("name", ""))
                self.values.setText(format_values(raw.get("levels", [])))
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.target.currentTextChanged.connect(self._target_changed)
        self.name.textEdited.connect(lambda _t: self.changed.emit())
        self.values.textEdited.connect(lambda _t: self.changed.emit())
        self._target_changed(self.target.currentText())

    def set_targets(self, targets: dict[str, list[str]]) -> None:
        """What each kind of factor can vary for the current base (a template's options only
        with a template base)."""
        if self.raw is not None:
            return
        self._targets = targets
        kind = self.kind.currentData()
        self.kind.blockSignals(True)
        self.kind.clear()
        for key in TARGETS:
            if targets.get(key):
                self.kind.addItem(KINDS[key], key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.blockSignals(False)
        self._fill_targets()

    def _fill_targets(self) -> None:
        text = self.target.currentText()
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(self._targets.get(self.kind.currentData(), []))
        if text:
            self.target.setCurrentText(text)
        self.target.blockSignals(False)

    def _kind_changed(self) -> None:
        self.target.setCurrentText("")
        self._fill_targets()
        self._target_changed(self.target.currentText())

    def _target_changed(self, text: str) -> None:
        self.name.setPlaceholderText(text.rsplit(".", 1)[-1] or "name")
        self.changed.emit()

    def factor_name(self) -> str:
        return self.name.text().strip() or self.name.placeholderText()

    def to_dict(self) -> dict[str, Any]:
        """The factor as the file holds it; ValueError when its values cannot be read."""
        if self.raw is not None:
            return {**self.raw, "name": self.name.text().strip() or self.raw.get("name", "")}
        return {
            "name": self.factor_name(),
            self.kind.currentData(): self.target.currentText().strip(),
            "levels": parse_values(self.values.text()),
        }

    def target_key(self) -> tuple[str | None, str]:
        return self.kind.currentData(), self.target.currentText().strip()

    def show_problem(self, problem: str | None) -> None:
        self.values.setStyleSheet(INVALID_STYLE if problem else "")
        self.values.setToolTip(problem or "")
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))


def _simple(raw: dict) -> bool:
    """A factor the form can edit: one target, plain values (no labelled ones)."""
    return any(t in raw for t in TARGETS) and not any(
        isinstance(v, dict) for v in raw.get("levels", [])
    )


class ExperimentDialog(QDialog):
    """The form. ``choice()`` is the experiment to run after exec() returned Run (accepted)."""

    def __init__(self, design: Design, design_path: str | None, config: TrainConfig, parent=None):
        super().__init__(parent)
        self.setObjectName("experiment-dialog")
        self.setWindowTitle("New experiment")
        self.resize(900, 640)
        self.canvas_design = design
        self.design_path = design_path
        self.canvas_config = config
        self.path: str | None = None  # the file saved to or opened from
        self._kept: dict[str, Any] = {}  # what the file held that the form does not show
        self._seed_list: list[int] | None = None
        self.experiment: Experiment | None = None  # the last one that passed the checks
        self.factor_rows: list[FactorRow] = []
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self.check)

        # -- starting points
        self.shipped = QComboBox()
        self.shipped.setObjectName("experiment-shipped")
        self.shipped.addItem("Open a shipped experiment…", None)
        for exp in list_experiments():
            self.shipped.addItem(exp.title, exp.source)
        self.shipped.activated.connect(self._open_shipped)
        open_file = QPushButton("Open file…")
        open_file.clicked.connect(lambda: self.open_file())
        self.name = QLineEdit("experiment-1")
        self.name.setObjectName("experiment-name")
        self.name.setToolTip("The experiment's folder of runs, under the design's runs folder")
        self.title = QLineEdit()
        self.title.setPlaceholderText("title")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("What it compares, and what the course found")
        self.description.setFixedHeight(54)

        # -- base
        self.base_canvas = QRadioButton("The design on the canvas")
        self.base_template = QRadioButton("A template:")
        self.base_file = QRadioButton("A design file:")
        self.base_file.hide()
        self.base_canvas.setChecked(True)
        self.template = QComboBox()
        from designer.templates import list_templates

        for t in sorted(list_templates(), key=lambda t: t.title):
            self.template.addItem(t.title, t.name)
        self.file_label = QLabel()
        self.file_label.hide()
        for w in (self.base_canvas, self.base_template, self.base_file):
            w.toggled.connect(lambda on: on and self._base_changed())
        self.template.currentIndexChanged.connect(lambda _i: self._base_changed())
        base_row = QHBoxLayout()
        base_row.addWidget(self.base_canvas)
        base_row.addWidget(self.base_template)
        base_row.addWidget(self.template, 1)
        base_row.addWidget(self.base_file)
        base_row.addWidget(self.file_label, 1)

        # -- factors
        self.factor_box = QVBoxLayout()
        self.factor_box.setSpacing(4)
        add = QPushButton("Add factor")
        add.setObjectName("experiment-add-factor")
        add.clicked.connect(lambda: self.add_factor())
        self.combine = QComboBox()
        for key, text in COMBINE_TEXT.items():
            self.combine.addItem(text, key)
        self.samples = QSpinBox()
        self.samples.setRange(1, 100_000)
        self.samples.setValue(4)
        self.samples.setPrefix("N = ")
        self.combinations = QPlainTextEdit()
        self.combinations.setPlaceholderText("one combination a line: lr=0.02, variant=plain")
        self.combinations.setFixedHeight(70)
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 100)
        self.seeds.setSuffix(" seed(s) per combination")
        limit, why = runs_at_once_limit()
        self.runs_at_once = QSpinBox()
        self.runs_at_once.setRange(1, limit)
        self.runs_at_once.setEnabled(limit > 1)
        self.runs_at_once.setToolTip(why)
        self.runs_at_once_why = QLabel(why)
        self.runs_at_once_why.setWordWrap(True)
        self.runs_at_once_why.setStyleSheet("color: gray;")
        combine_row = QHBoxLayout()
        combine_row.addWidget(self.combine)
        combine_row.addWidget(self.samples)
        combine_row.addStretch(1)
        combine_row.addWidget(self.seeds)
        factors_page = QWidget()
        page = QVBoxLayout(factors_page)
        page.addWidget(QLabel("Base:"))
        page.addLayout(base_row)
        page.addWidget(QLabel("Factors (each varies one thing over its values):"))
        page.addLayout(self.factor_box)
        page.addWidget(add)
        page.addLayout(combine_row)
        page.addWidget(self.combinations)
        at_once = QFormLayout()
        at_once.addRow("Runs at once", self.runs_at_once)
        at_once.addRow("", self.runs_at_once_why)
        page.addLayout(at_once)
        page.addStretch(1)

        # -- template options and training settings
        self.options_page = QWidget()
        self.options_form = QFormLayout(self.options_page)
        self.option_fields: dict[str, tuple[QLineEdit, Any]] = {}
        self.settings = SettingsForm(config)
        settings_scroll = QScrollArea()
        settings_scroll.setWidget(self.settings)
        settings_scroll.setWidgetResizable(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(factors_page, "Factors")
        self.tabs.addTab(settings_scroll, "Training settings")
        self.tabs.addTab(self.options_page, "Template options")

        # -- the verdict and the buttons
        self.summary = QLabel()
        self.summary.setObjectName("experiment-summary")
        self.summary.setWordWrap(True)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(lambda: self.save())
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("experiment-run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self._run)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.shipped, 1)
        top.addWidget(open_file)
        names = QFormLayout()
        names.addRow("Name", self.name)
        names.addRow("Title", self.title)
        names.addRow("Description", self.description)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.run_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(names)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

        for signal in (
            self.name.textEdited,
            self.title.textEdited,
            self.description.textChanged,
            self.combinations.textChanged,
            self.settings.changed,
        ):
            signal.connect(lambda *_: self.changed())
        self.combine.currentIndexChanged.connect(lambda _i: self._combine_changed())
        self.samples.valueChanged.connect(lambda _v: self.changed())
        self.seeds.valueChanged.connect(lambda _v: self.changed())
        self._base_changed()
        self._combine_changed()
        self.check()

    # -- the base -------------------------------------------------------------------------------
    def base_kind(self) -> str:
        if self.base_template.isChecked():
            return "template"
        return "file" if self.base_file.isChecked() else "canvas"

    def base_design(self) -> Design | None:
        """The design the factors apply to, as the base is now (None: it cannot be built)."""
        kind = self.base_kind()
        if kind == "canvas":
            return self.canvas_design
        try:
            if kind == "file":
                from designer.core.serialization import load_design

                return load_design(self._kept["base"]["design_path"])
            from designer.templates import new_from_template

            return new_from_template(self.template.currentData(), **self._template_options())
        except Exception:  # noqa: BLE001 - the checks name the problem; here only targets
            return None

    def _template_options(self) -> dict[str, Any]:
        from designer.templates import get_template
        from designer.training.experiment import template_options

        try:
            return template_options(get_template(self.template.currentData()), self.options())
        except Exception:  # noqa: BLE001 - shown by the checks
            return {}

    def options(self) -> dict[str, Any]:
        """The template options that differ from the template's defaults."""
        out = {}
        for key, (field, default) in self.option_fields.items():
            value = parse_option(field.text())
            shown = list(default) if isinstance(default, tuple) else default
            if value != shown:
                out[key] = value
        return out

    def _base_changed(self, options: dict | None = None) -> None:
        template = self.base_kind() == "template"
        self.template.setEnabled(template)
        self._fill_options(options or {})
        design = self.base_design()
        if self.base_kind() == "canvas":
            self.settings.set_config(self.canvas_config)
        elif design is not None:
            try:
                self.settings.set_config(config_for_design(design))
            except ConfigError:
                pass
        targets = self._targets(design)
        for row in self.factor_rows:
            row.set_targets(targets)
        self.changed()

    def _fill_options(self, values: dict) -> None:
        from designer.templates import get_template, option_defaults

        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self.option_fields = {}
        if self.base_kind() != "template":
            self.options_form.addRow(QLabel("Only a template base has options."))
            return
        defaults = option_defaults(get_template(self.template.currentData()))
        if not defaults:
            self.options_form.addRow(QLabel("This template has no options."))
        for key, default in defaults.items():
            value = values.get(key, list(default) if isinstance(default, tuple) else default)
            field = QLineEdit(value if isinstance(value, str) else json.dumps(value))
            field.textEdited.connect(lambda _t: self._options_edited())
            self.options_form.addRow(key, field)
            self.option_fields[key] = (field, default)

    def _options_edited(self) -> None:
        targets = self._targets(self.base_design())
        for row in self.factor_rows:
            row.set_targets(targets)
        self.changed()

    def _targets(self, design: Design | None) -> dict[str, list[str]]:
        from designer.core.registry import get_spec
        from designer.templates import get_template, option_defaults

        edits = []
        if design is not None:
            for node in design.nodes.values():
                edits += [f"{node.name}.{p.name}" for p in get_spec(node.type).params]
        options = (
            list(option_defaults(get_template(self.template.currentData())))
            if self.base_kind() == "template"
            else []
        )
        return {"setting": list(SETTING_TARGETS), "edit": edits, "option": options}

    # -- factors --------------------------------------------------------------------------------
    def add_factor(
        self, kind: str = "setting", target: str = "lr", values: str = "", raw: dict | None = None
    ) -> FactorRow:
        row = FactorRow(self._targets(self.base_design()), raw)
        if raw is None:
            row.kind.setCurrentIndex(max(0, row.kind.findData(kind)))
            row.target.setCurrentText(target)
            row.values.setText(values)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self._remove_factor)
        self.factor_box.addWidget(row)
        self.factor_rows.append(row)
        self.changed()
        return row

    def _remove_factor(self, row: FactorRow) -> None:
        self.factor_rows.remove(row)
        self.factor_box.removeWidget(row)
        row.deleteLater()
        self.changed()

    def _combine_changed(self) -> None:
        mode = self.combine.currentData()
        self.samples.setVisible(mode == "random")
        self.combinations.setVisible(mode == "list")
        self.changed()

    # -- the file -------------------------------------------------------------------------------
    def data(self, for_file: str | None = None) -> dict[str, Any]:
        """The experiment file's contents; ValueError (row, message) for a value that cannot
        be read. A canvas base names BASE_DESIGN_FILE (the workspace writes it beside the runs)
        or, saved as ``for_file``, the design's own file."""
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        data["name"] = self.name.text().strip()
        if self.title.text().strip():
            data["title"] = self.title.text().strip()
        if self.description.toPlainText().strip():
            data["description"] = self.description.toPlainText().strip()
        kind = self.base_kind()
        if kind == "template":
            data["base"] = {"template": self.template.currentData()}
            if self.options():
                data["base"]["options"] = self.options()
        elif kind == "file":
            data["base"] = {"design": self._kept["base"]["design"]}
        elif for_file is not None and self.design_path:
            data["base"] = {"design": _relative(self.design_path, Path(for_file).parent)}
        else:
            data["base"] = {"design": BASE_DESIGN_FILE}
        data["settings"] = self._settings_diff()
        if "edits" in self._kept:
            data["edits"] = self._kept["edits"]
        factors = []
        for row in self.factor_rows:
            try:
                factors.append(row.to_dict())
            except ValueError as exc:
                raise ValueError(row, str(exc)) from None
        data["factors"] = factors
        mode = self.combine.currentData()
        data["combine"] = mode
        if mode == "random":
            data["samples"] = self.samples.value()
            data["sample_seed"] = self._kept.get("sample_seed", 0)
        elif mode == "list":
            try:
                data["combinations"] = parse_combinations(self.combinations.toPlainText())
            except ValueError as exc:
                raise ValueError(None, f"the combinations: {exc}") from None
        seeds = self.seeds.value()
        keep = self._seed_list is not None and len(self._seed_list) == seeds
        data["seeds"] = self._seed_list if keep else seeds
        if "offline" in self._kept:
            data["offline"] = self._kept["offline"]
        return data

    def _settings_diff(self) -> dict[str, Any]:
        """The training settings that differ from the base design's own (the file stays short
        and says what the experiment chose)."""
        config = self.settings.config or self.settings._base
        design = self.base_design()
        try:
            defaults = config_for_design(design).to_dict() if design is not None else {}
        except ConfigError:
            defaults = {}
        return {k: v for k, v in config.to_dict().items() if k != "seed" and defaults.get(k) != v}

    def _experiment(self, data: dict[str, Any], source: str) -> Experiment:
        folder = Path(self.path).parent if self.path else Path(".")
        if self.base_kind() == "file":
            folder = Path(self._kept["base"]["folder"])
        experiment = experiment_from_dict(data, source, folder)
        if self.base_kind() == "canvas":
            experiment = experiment.with_design(self.canvas_design)
        return experiment

    def changed(self) -> None:
        self._check_timer.start()

    def check(self) -> Experiment | None:
        """Read the form as the experiment file and build every run; a problem turns the row
        it belongs to red (or the summary). Returns the experiment when it passes."""
        self._check_timer.stop()
        for row in self.factor_rows:
            row.show_problem(None)
        for field in (self.name, *(f for f, _ in self.option_fields.values())):
            _mark(field, None)
        self.experiment = None
        if self.settings.config is None:
            return self._refuse("A training setting is not valid (see Training settings).")
        try:
            data = self.data()
        except ValueError as exc:
            row, message = exc.args
            return self._refuse(message, row)
        source = "the experiment"
        try:
            experiment = self._experiment(data, source)
            offline = experiment.needs_offline()
            plan = experiment.check(offline)
        except ExperimentError as exc:
            message = str(exc).removeprefix(f"{source}: ")
            return self._refuse(message, self._row_of(message))
        combos = len({run.combination for run in plan})
        seeds = len(experiment.seeds)
        text = (
            f"{len(plan)} run{'s' if len(plan) != 1 else ''}: {combos} combination"
            f"{'s' if combos != 1 else ''} × {seeds} seed{'s' if seeds != 1 else ''}"
        )
        if offline:
            text += " — offline: " + (experiment.offline.note or "the reduced variant")
        self.summary.setText(text)
        self.summary.setStyleSheet("")
        self.run_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.experiment = experiment
        return experiment

    def _row_of(self, message: str) -> FactorRow | None:
        """The factor a problem belongs to: named by its place, its edit or its setting."""
        match = re.search(r"factors\[(\d+)\]", message)
        if match and int(match.group(1)) < len(self.factor_rows):
            return self.factor_rows[int(match.group(1))]
        for row in self.factor_rows:
            kind, target = row.target_key()
            if target and (
                (kind == "edit" and f"the edit {target}:" in message)
                or (kind == "setting" and f"'{target}'" in message)
                or (kind == "option" and f"option {target} " in message)
                or (kind == "option" and f"option '{target}'" in message)
            ):
                return row
        return None

    def _refuse(self, message: str, row: FactorRow | None = None) -> None:
        if row is not None:
            row.show_problem(message)
        if message.startswith("'name'"):
            _mark(self.name, message)
        for key, (field, _default) in self.option_fields.items():
            if f"option {key} " in message or f"option '{key}'" in message:
                _mark(field, message)
        self.summary.setText(message)
        self.summary.setStyleSheet(ERROR_STYLE)
        self.run_button.setEnabled(False)
        self.save_button.setEnabled(False)

    # -- loading --------------------------------------------------------------------------------
    def load(self, experiment: Experiment) -> None:
        """Show an experiment read from a file (what the form cannot show is kept as it is)."""
        data = experiment.data
        self.path = experiment.source
        self.name.setText(experiment.name)
        self.title.setText(experiment.title)
        self.description.setPlainText(experiment.description)
        self._kept = {k: data[k] for k in ("edits", "offline", "sample_seed") if k in data}
        for row in list(self.factor_rows):
            self._remove_factor(row)
        options = dict(data["base"].get("options", {}))
        if experiment.template is not None:
            self.template.blockSignals(True)
            self.template.setCurrentIndex(max(0, self.template.findData(experiment.template)))
            self.template.blockSignals(False)
            self.base_template.blockSignals(True)
            self.base_template.setChecked(True)
            self.base_template.blockSignals(False)
        else:
            self._kept["base"] = {
                "design": data["base"]["design"],
                "design_path": str(experiment.design_path),
                "folder": str(Path(experiment.source).parent),
            }
            self.file_label.setText(str(experiment.design_path))
            for w in (self.base_file, self.file_label):
                w.show()
            self.base_file.blockSignals(True)
            self.base_file.setChecked(True)
            self.base_file.blockSignals(False)
        self._base_changed(options)
        design = self.base_design()
        if design is not None:
            try:
                self.settings.set_config(config_for_design(design, data.get("settings", {})))
            except ConfigError:
                pass
        for raw in data.get("factors", []):
            self.add_factor(raw=raw)
        self.combine.setCurrentIndex(max(0, self.combine.findData(experiment.combine)))
        self.samples.setValue(max(1, experiment.samples))
        self.combinations.setPlainText(
            "\n".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in experiment.combinations)
        )
        seeds = data.get("seeds", 1)
        self._seed_list = list(seeds) if isinstance(seeds, list) else None
        self.seeds.setValue(len(experiment.seeds))
        self.setWindowTitle(f"Experiment — {experiment.title}")
        self.check()

    def _open_shipped(self, index: int) -> None:
        source = self.shipped.itemData(index)
        self.shipped.setCurrentIndex(0)
        if source:
            self.open_file(source)

    def open_file(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open experiment", self.path or "", EXPERIMENT_FILTER
            )
            if not path:
                return False
        try:
            experiment = load_experiment(path)
        except ExperimentError as exc:
            self._refuse(str(exc))
            return False
        self.load(experiment)
        return True

    def save(self, path: str | None = None) -> bool:
        """Write the experiment file (asks where when ``path`` is None)."""
        if self.base_kind() == "canvas" and not self.design_path:
            self._refuse(
                "Save the design first: the experiment file names the design file it varies."
            )
            return False
        if path is None:
            suggested = self.path or str(
                Path(self.design_path or ".").parent / f"{self.name.text().strip()}.json"
            )
            path, _ = QFileDialog.getSaveFileName(
                self, "Save experiment", suggested, EXPERIMENT_FILTER
            )
            if not path:
                return False
        if self.check() is None:
            return False
        path = path if Path(path).suffix else f"{path}.json"
        try:
            atomic_write_text(path, json.dumps(self.data(for_file=path), indent=2) + "\n")
        except OSError as exc:
            self._refuse(f"Cannot write {path}: {exc.strerror or exc}")
            return False
        self.path = path
        self.summary.setText(f"{self.summary.text()} — saved to {path}")
        return True

    def _run(self) -> None:
        if self.check() is not None:
            self.accept()

    def choice(self) -> ExperimentChoice | None:
        """The experiment to run, as the form holds it now (None when it does not pass)."""
        if self.check() is None:
            return None
        canvas = self.base_kind() == "canvas"
        return ExperimentChoice(self.data(), self.canvas_design if canvas else None, self.path)


def _mark(field: QLineEdit, problem: str | None) -> None:
    field.setStyleSheet(INVALID_STYLE if problem else "")
    field.setToolTip(problem or "")


def _relative(path: str, folder: Path) -> str:
    import os

    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive (Windows)
        return str(path)
