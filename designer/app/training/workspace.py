"""The Training workspace: the data, the settings, run control with progress, live curves, the
Runs list with overlays and settings comparison, and each run's results.

It trains the design as it is when Train is pressed (a copy goes to the worker and into the run's
design.json); the user keeps editing meanwhile, and the Runs list marks runs whose network
differs from the one on the canvas. Runs live in ``runs/<design>/`` beside the saved design
file, or in a per-user folder while the design is unsaved (saving offers to move them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.app.training.controller import RunController
from designer.app.training.data_panel import DataPanel
from designer.app.training.experiment_view import ExperimentResultsView
from designer.app.training.plots import TrainingPlots
from designer.app.training.results import ResultsView
from designer.app.training.runs_panel import RunGroup, RunsTable, SettingsComparison
from designer.app.training.search_panel import SearchPanel, SearchPlan
from designer.app.training.settings_form import SettingsForm
from designer.core.serialization import dumps, loads
from designer.training.config import ConfigError, TrainConfig, config_for_design
from designer.training.events import event_to_dict
from designer.training.rundir import RunDirError
from designer.training.runs import (
    RunInfo,
    delete_run,
    list_runs,
    move_runs,
    network_fingerprint,
    new_run_path,
    read_metrics,
    read_run,
    rename_run,
    runs_folder_for,
)

UNSAVED_RUNS_ENV = "NETDESIGNER_UNSAVED_RUNS"
OVERFIT_SAMPLES = 20
OVERFIT_MAX_EPOCHS = 200


def unsaved_runs_folder(design_name: str) -> Path:
    """Where the runs of a design that has no file yet go (per user)."""
    base = os.environ.get(UNSAVED_RUNS_ENV) or os.path.join(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation), "runs"
    )
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in design_name.lower()) or "design"
    return Path(base) / slug


class TrainingWorkspace(QWidget):
    status_text = Signal(str)  # progress for the status bar (shown while another tab is open)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("training-workspace")
        self.window_ = window
        self.editor = window.editor
        self.prompts = window.prompts
        self.controller = RunController(self)
        self.extra_runs: list[Path] = []  # run folders opened from elsewhere (Runs → Open)
        self.runs: list[RunInfo] = []
        self._design_for: int | None = None

        design = self.editor.design
        self.form = SettingsForm(self._default_config(design))
        self.data = DataPanel()
        self.plots = TrainingPlots()
        self.runs_table = RunsTable()
        self.results = ResultsView()
        self.comparison = SettingsComparison()
        self.search_panel = SearchPanel()
        self.search: SearchPlan | None = None
        self.experiment_view = ExperimentResultsView()
        self.job = None  # the ExperimentJob being run (designer.app.training.experiment_job)
        self._stage2 = None  # (stage 1 run, stage 2 design, settings, run) while stage 1 trains
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)

        # -- control bar
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("train-button")
        self.train_button.setToolTip("Train the design as it is now (F5)")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this step, keeping a checkpoint to resume from")
        self.resume_button = QPushButton("Resume run")
        self.resume_button.setToolTip("Continue the selected (or last) stopped or crashed run")
        self.overfit_button = QPushButton(f"Overfit {OVERFIT_SAMPLES} samples")
        self.overfit_button.setToolTip("Sanity check: can the design learn 20 samples by heart?")
        self.progress = QProgressBar()
        self.progress.setObjectName("training-progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setObjectName("training-state")
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(lambda: self.resume_run())
        self.overfit_button.clicked.connect(self.overfit)
        bar = QHBoxLayout()
        for b in (
            self.train_button,
            self.pause_button,
            self.stop_button,
            self.resume_button,
            self.overfit_button,
        ):
            bar.addWidget(b)
        bar.addWidget(self.progress, 1)

        # -- layout: settings on the left, plots and runs on the right
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.data)
        column.addWidget(self.form)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(390)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.runs_table, "Runs")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.experiment_view, "Experiment")
        self.tabs.addTab(self.comparison, "Compare settings")
        self.tabs.addTab(self.search_panel, "Search")
        self.tabs.addTab(self.log, "Log")
        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.state_label)
        top_layout.addWidget(self.plots, 1)
        right.addWidget(top)
        right.addWidget(self.tabs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([410, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        # -- wiring
        self.form.changed.connect(self._config_changed)
        self.data.source_changed.connect(self._source_changed)
        self.data.fix_head.connect(self.fix_head)
        self.controller.event.connect(self._event)
        self.controller.progress.connect(self._progress)
        self.controller.ended.connect(self._ended)
        self.controller.state_changed.connect(self._update_buttons)
        self.plots.save_requested.connect(self.save_plot)
        self.results.keep_changed.connect(self.set_kept)
        self.results.cell_clicked.connect(self.show_cell_images)
        self.search_panel.apply_requested.connect(self.apply_search_result)
        self.runs_table.selection_changed_runs.connect(self._selection_changed)
        self.runs_table.rename_requested.connect(self.rename)
        self.runs_table.delete_requested.connect(self.delete)
        self.runs_table.resume_requested.connect(self.resume_run)
        self.runs_table.use_weights_requested.connect(self.use_weights)
        self.runs_table.export_requested.connect(self.export_run)
        self.runs_table.group_clicked.connect(self.show_experiment)
        self.experiment_view.runs_clicked.connect(lambda paths: self.runs_table.select_paths(paths))
        self.editor.document_changed.connect(self._document_changed)
        self.editor.refreshed.connect(self._design_refreshed)
        window.files.saved.connect(self._saved)
        self._folder = self.runs_folder()
        self._document_changed()

    # -- where runs are -----------------------------------------------------------------------
    def runs_folder(self) -> Path:
        if self.editor.path:
            return runs_folder_for(self.editor.path)
        return unsaved_runs_folder(self.editor.design.name)

    def refresh_runs(self) -> None:
        from designer.training.experiment_run import experiment_folders

        runs = list_runs(self.runs_folder())
        groups = [
            RunGroup(path, list_runs(path), len(record.get("runs", [])))
            for path, record in experiment_folders(self.runs_folder())
        ]
        known = {r.path for r in runs} | {r.path for g in groups for r in g.runs}
        for path in self.extra_runs:
            if path not in known and path.exists():
                try:
                    runs.append(read_run(path))
                except RunDirError:
                    continue
        self.runs = runs + [r for g in groups for r in g.runs]
        live = self.controller.run_dir if self.controller.running else None
        self.runs_table.show_runs(runs, self._fingerprint(), live, groups)

    def _fingerprint(self) -> str | None:
        try:
            return network_fingerprint(dumps(self.editor.design))
        except (TypeError, ValueError):
            return None

    def open_run_folder(self, path: str | None = None) -> bool:
        """Add a run directory (or a folder of runs, e.g. the CLI's) to the list."""
        path = path or self.prompts.open_folder("Open run folder", str(self.runs_folder()))
        if not path:
            return False
        return self.show_run_folder(path)

    def show_run_folder(self, path: str | Path) -> bool:
        folder = Path(path).resolve()
        try:
            found = [read_run(folder).path]
        except RunDirError:
            found = [r.path for r in list_runs(folder)]
        if not found:
            self.prompts.error(
                "Open run folder",
                f"{folder} holds no training run (a run folder "
                "has a config.json, as netdesigner train --run-dir writes).",
            )
            return False
        self.extra_runs.extend(p for p in found if p not in self.extra_runs)
        self.refresh_runs()
        self.runs_table.select_paths(set(found))
        return True

    # -- the design ---------------------------------------------------------------------------
    def _default_config(self, design) -> TrainConfig:
        try:
            return config_for_design(design)
        except ConfigError as exc:
            self.editor.message.emit(
                f"The design's training settings are not valid ({exc}); using the defaults"
            )
            return TrainConfig()

    def _document_changed(self) -> None:
        """Another design is open: its template's settings, its runs."""
        if id(self.editor.design) == self._design_for:
            return
        self._design_for = id(self.editor.design)
        config = self._default_config(self.editor.design)
        self.form.set_config(config)
        self.extra_runs = []
        self._folder = self.runs_folder()
        self.plots.clear()
        if self.controller.running:  # the live run keeps its curves
            self.plots.add_run(
                str(self.controller.run_dir),
                self.controller.run_dir.name,
                read_metrics(self.controller.run_dir),
            )
        self._design_refreshed()
        self.refresh_runs()

    def _design_refreshed(self) -> None:
        self.data.set_head_classes(self._head_classes())
        self._mark_stale()

    def _mark_stale(self) -> None:
        if self.runs:
            live = self.controller.run_dir if self.controller.running else None
            grouped = {r.path for g in self.runs_table.groups for r in g.runs}
            self.runs_table.show_runs(
                [r for r in self.runs if r.path not in grouped],
                self._fingerprint(),
                live,
                self.runs_table.groups,
            )

    def _head_classes(self) -> int | None:
        analysis = self.editor.analysis
        design = self.editor.design
        if design.task != "classification" or analysis.problems:
            return None
        info = analysis.info.get(analysis.output_id)
        shape = info.shape if info is not None else None
        return shape[0] if shape is not None and len(shape) == 1 else None

    def fix_head(self, classes: int) -> None:
        """Set the design's classes and the head layer's outputs to ``classes``: one undo step."""
        from designer.core import commands as cmds

        head = self._head_layer()
        editor = self.editor
        with editor.stack.macro(f"Set the head to {classes} classes"):
            editor.stack.push(cmds.SetDesignSetting("num_classes", classes))
            if head is not None:
                key = "out_features" if head.type == "Linear" else "out_channels"
                editor.stack.push(cmds.SetNodeAttr(head.id, f"params.{key}", classes))
        editor.stack.end_merge()
        editor.message.emit(
            f"The head now gives {classes} classes"
            + (f" ({head.name})" if head is not None else "")
        )

    def _head_layer(self):
        """The layer whose outputs are the class scores (designer.core.head), or None."""
        from designer.core.head import head_node, scores_node

        head = head_node(self.editor.design)
        return None if head is None else scores_node(self.editor.design, self.editor.analysis, head)

    # -- settings -----------------------------------------------------------------------------
    def _config_changed(self, config: TrainConfig | None) -> None:
        if config is not None:
            self.data.set_source(
                config.dataset,
                config.data_dir,
                (config.val_fraction, config.test_fraction, config.split_seed),
            )
            self.data.set_augmentation(config.augmentation)
        self._update_buttons()

    def _source_changed(self, dataset: str, data_dir) -> None:
        config = self.form.config or self.form._base
        self.form.set_config(config.with_changes(dataset=dataset, data_dir=data_dir))

    # -- run control --------------------------------------------------------------------------
    def _why_not_ready(self) -> str | None:
        if self.controller.running:
            return "A run is in progress; stop it first."
        if self.form.config is None:
            return "A training setting is not valid (shown in red)."
        if self.editor.analysis.problems:
            n = len(self.editor.analysis.problems)
            return f"The design has {n} problem{'s' if n != 1 else ''}; see the Problems panel."
        return self.data.head_mismatch

    def train(self, *, overfit: bool = False) -> bool:
        problem = self._why_not_ready()
        if problem:
            self._say(problem, error=True)
            return False
        config = self.form.config
        prefix = "run"
        if overfit:
            config = config.with_changes(
                overfit_samples=OVERFIT_SAMPLES,
                epochs=OVERFIT_MAX_EPOCHS,
                early_stopping_patience=0,
            )
            prefix = "overfit"
        design = loads(dumps(self.editor.design))  # the design as it is now
        run_dir = new_run_path(self.runs_folder(), prefix)
        self._start(design, config, run_dir, kind="overfit" if overfit else "train")
        return True

    def overfit(self) -> bool:
        return self.train(overfit=True)

    def _start(self, design, config, run_dir: Path, *, resume: bool = False, kind: str = "train"):
        self.log.appendPlainText(f"{'Resuming' if resume else 'Starting'} {run_dir}")
        self.controller.start(design, config, run_dir, resume=resume, kind=kind)
        records = read_metrics(run_dir) if resume else []
        self.plots.add_run(str(run_dir), run_dir.name, records)
        self.progress.setFormat("starting…")
        self._say(f"{'Resuming' if resume else 'Training'} {run_dir.name}…")
        self._update_buttons()

    # -- hyperparameter search ----------------------------------------------------------------
    def start_search(self, choice=None) -> bool:
        """Ask for the ranges and the budget, then train the trials one after another."""
        from designer.training.model import has_dropout
        from designer.training.runs import new_search_name

        problem = self._why_not_ready()
        if problem:
            self._say(problem, error=True)
            return False
        choice = choice or self.prompts.search_settings()
        if choice is None:
            return False
        space, trials, epochs, seed = choice
        folder = self.runs_folder()
        self.search = SearchPlan(
            new_search_name(folder), space, trials, epochs, seed, has_dropout(self.editor.design)
        )
        self._search_base = self.form.config
        self._search_design = loads(dumps(self.editor.design))
        self.tabs.setCurrentWidget(self.search_panel)
        self._next_trial()
        return True

    def _next_trial(self) -> None:
        plan = self.search
        run_dir, params = plan.next_trial(self.runs_folder())
        config = self._search_base.with_changes(epochs=plan.epochs, **params)
        self._start(self._search_design, config, run_dir)
        self._show_search()

    def _show_search(self) -> None:
        if self.search is not None:
            self.search_panel.show_trials(self.search, {r.path: r for r in self.runs})

    # -- experiments --------------------------------------------------------------------------
    def new_experiment(self, choice=None, experiment=None) -> bool:
        """Run → New experiment…: the form (designer.app.training.experiment_form; opened on
        ``experiment`` when given, e.g. a shipped one from the gallery), then run."""
        if self.controller.running:
            self._say("A run is in progress; stop it first.", error=True)
            return False
        config = self.form.config or self.form._base
        choice = choice or self.prompts.new_experiment(
            self.editor.design, self.editor.path, config, experiment
        )
        return choice is not None and self.start_experiment(choice)

    def start_experiment(self, choice) -> bool:
        """Train an experiment (an ExperimentChoice) in ``<runs folder>/<its name>``: its runs
        one at a time on the worker of single runs, resumable as the CLI's (finished runs are
        not trained again, stopped ones continue)."""
        from designer.app.training.experiment_form import BASE_DESIGN_FILE
        from designer.app.training.experiment_job import ExperimentJob
        from designer.core.serialization import save_design
        from designer.training.experiment import ExperimentError, experiment_from_dict
        from designer.training.experiment_results import write_results
        from designer.training.experiment_run import prepare_experiment

        if self.controller.running:
            self._say("A run is in progress; stop it first.", error=True)
            return False
        folder = Path(choice.path).parent if choice.path else self.runs_folder()
        try:
            experiment = experiment_from_dict(choice.data, choice.path or "the experiment", folder)
            name = experiment.name
            out = self.runs_folder() / name
            if choice.design is not None:
                experiment = experiment.with_design(loads(dumps(choice.design)))
            prepared = prepare_experiment(experiment, out)
            if choice.design is not None:  # the runs' folder says what they varied
                save_design(experiment.base_design, out / BASE_DESIGN_FILE)
            write_results(experiment, prepared.plan, out, prepared.offline)
        except (ExperimentError, OSError) as exc:
            self.prompts.error("Cannot run the experiment", str(exc))
            return False
        self.job = ExperimentJob(experiment, prepared)
        self.runs_table.expanded.add(out)
        self.refresh_runs()
        self.show_experiment(out)
        skipped = self.job.done
        self.log.appendPlainText(
            f"Experiment {name}: {self.job.total} runs in {out}"
            + (f"; {skipped} finished before, not trained again" if skipped else "")
            + (" (offline: the reduced variant)" if prepared.offline else "")
        )
        return self._next_experiment_run()

    def _next_experiment_run(self) -> bool:
        job = self.job
        nxt = job.next_run()
        if nxt is None:
            self._experiment_finished()
            return False
        self._start(nxt.design, nxt.config, nxt.path, resume=nxt.resume)
        self._say(
            f"Experiment {job.experiment.name}: {'continuing' if nxt.resume else 'training'} "
            f"{nxt.path.name} (run {job.position} of {job.total})…"
        )
        return True

    def _experiment_run_ended(self, end) -> None:
        from designer.training.experiment_results import write_results

        job = self.job
        job.run_ended(end.status)
        try:
            write_results(job.experiment, job.prepared.plan, job.out, job.prepared.offline)
        except OSError as exc:
            self.log.appendPlainText(f"cannot write the results: {exc}")
        self.refresh_runs()
        self.show_experiment(job.out)
        self._next_experiment_run()

    def _experiment_finished(self) -> None:
        job, self.job = self.job, None
        done = job.done
        if done == job.total:
            text = f"Experiment {job.experiment.name}: all {job.total} runs finished"
            if not job.trained:
                text += " (before: nothing was trained again)"
            self._say(text)
        elif job.stopped:
            self._say(
                f"Experiment {job.experiment.name} stopped: {done} of {job.total} runs "
                "finished. Run it again to continue where it stopped."
            )
        else:
            self._say(
                f"Experiment {job.experiment.name} ended: {done} of {job.total} runs finished; "
                "the others failed or crashed (their status in the Runs list says why)",
                error=True,
            )
        self.status_text.emit(f"Experiment {job.experiment.name}: {done}/{job.total} runs")
        self.progress.setFormat(f"experiment: {done}/{job.total} runs")
        self.tabs.setCurrentWidget(self.experiment_view)
        self._update_buttons()

    def show_experiment(self, folder: Path) -> None:
        """An experiment's results table (its folder's results.json)."""
        self.experiment_view.show_folder(folder)
        self.tabs.setCurrentWidget(self.experiment_view)

    # -- two-stage fine-tuning ----------------------------------------------------------------
    def fine_tune(self, plan=None) -> bool:
        """Stage 1 (head only), then stage 2 (everything, lr × factor) from stage 1's weights."""
        from designer.app.training.fine_tune import stage_dirs
        from designer.core.transfer import TransferError
        from designer.training.runs import new_run_path

        problem = self._why_not_ready()
        if problem:
            self._say(problem, error=True)
            return False
        plan = plan or self.prompts.two_stage(self.form.config.lr)
        if plan is None:
            return False
        design = loads(dumps(self.editor.design))
        try:
            first = plan.stage1_design(design)
        except TransferError as exc:
            self.prompts.error("Fine-tune in two stages", str(exc))
            return False
        config = self.form.config
        name = new_run_path(self.runs_folder(), "finetune").name
        run1, run2 = stage_dirs(self.runs_folder(), name)
        self._stage2 = (
            run1,
            plan.stage2_design(design),
            config.with_changes(epochs=plan.stage2_epochs, lr=config.lr * plan.lr_factor),
            run2,
        )
        self._start(first, config.with_changes(epochs=plan.stage1_epochs), run1)
        return True

    def _start_stage2(self, end) -> bool:
        """After stage 1: stage 2 from its kept weights (not after a failed or stopped stage 1)."""
        from designer.training.rundir import RunDir

        run1, design, config, run2 = self._stage2
        self._stage2 = None
        if not end.ok:
            self._say(f"Stage 1 ended {end.status}; stage 2 was not started", error=True)
            return False
        _, weights = RunDir(run1).kept_weights()
        self.log.appendPlainText(f"Stage 2 starts from {weights}")
        self.controller.start(design, config, run2, weights=weights)
        self.plots.add_run(str(run2), run2.name)
        self._say(f"Training {run2.name} (stage 2, from {run1.name}'s weights)…")
        self._update_buttons()
        return True

    def apply_search_result(self, params: dict) -> None:
        """The best trial's settings become the form's (the other settings stay)."""
        config = (self.form.config or self.form._base).with_changes(**params)
        self.form.set_config(config)
        described = ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items()
        )
        self._say(f"Applied the best trial's settings: {described}")

    def toggle_pause(self) -> None:
        if self.controller.paused:
            self.controller.resume()
        else:
            self.controller.pause()

    def stop(self) -> None:
        if self.search is not None and not self.search.finished:
            self.search.stopped = True  # no further trials
        if self.job is not None:
            self.job.stopped = True  # no further runs; this one keeps its checkpoint
        if self.controller.running:
            self.controller.stop()
            self._say("Stopping after this step (a checkpoint is kept, so the run can be resumed)…")

    def resume_run(self, path: Path | None = None) -> bool:
        """Continue a stopped, cancelled or crashed run from its checkpoint."""
        if self.controller.running:
            self._say("A run is in progress; stop it first.", error=True)
            return False
        if path is None:
            chosen = [r for r in self.runs if r.path in self.runs_table.selected() and r.resumable]
            candidates = chosen or [r for r in self.runs if r.resumable]
            if not candidates:
                self._say("No stopped or crashed run to resume.", error=True)
                return False
            path = candidates[-1].path
        self._start(None, None, Path(path), resume=True)
        return True

    # -- events -------------------------------------------------------------------------------
    def _event(self, event) -> None:
        key = str(self.controller.run_dir)
        kind = event.kind
        if kind in ("step", "epoch", "start"):
            self.plots.add_record(key, event_to_dict(event))
        if kind == "start":
            self.log.appendPlainText(
                f"{event.dataset}: {event.train_samples} training, {event.val_samples} validation, "
                f"{event.test_samples} test samples; {event.trainable_params:,} trainable "
                f"parameters on {event.device}"
            )
            self.refresh_runs()
        elif kind == "log":
            self.log.appendPlainText(event.message)
        elif kind == "epoch":
            process = self.controller.process
            best = process.best_val_accuracy if process is not None else None
            live = next((r for r in self.runs if r.path == self.controller.run_dir), None)
            if live is not None:  # in memory: re-reading every run each epoch would stutter
                live.epochs_run, live.best_val_accuracy = event.epoch, best
            self.runs_table.update_live(event.epoch, event.epochs, best)
            if self.search is not None:
                self._show_search()
            val = (
                ""
                if event.val_accuracy is None
                else f", validation accuracy {event.val_accuracy:.4f}"
            )
            self.log.appendPlainText(
                f"epoch {event.epoch}/{event.epochs}: loss {event.train_loss:.4f}"
                f"{val}{' (best)' if event.best else ''}"
            )

    def _progress(self, p) -> None:
        # QProgressBar.setValue repaints at once (~3 ms, ten times a second): with updates off
        # the new value and text are painted with the rest of the window, in one pass.
        text = p.text()
        if self.job is not None and self.job.current is not None:
            text = f"{self.job.text(p.eta_seconds)} · {text}"
        self.progress.setUpdatesEnabled(False)
        try:
            if p.steps_total:
                self.progress.setRange(0, p.steps_total)
                self.progress.setValue(p.step)
            self.progress.setFormat(text)
        finally:
            self.progress.setUpdatesEnabled(True)  # schedules one ordinary repaint
        self.status_text.emit(f"Training {self.controller.run_dir.name}: {text}")
        self.pause_button.setText("Resume" if p.paused else "Pause")

    def _ended(self, end) -> None:
        run_dir = self.controller.run_dir
        self.plots.refresh(everything=True)  # the last points, without waiting for the ticks
        self.refresh_runs()
        self.progress.setFormat(end.status)
        if end.status == "crashed":
            self._say(
                f"{run_dir.name} crashed — {end.message}. Press Resume run to continue it "
                "from its last checkpoint.",
                error=True,
            )
        elif end.ok:
            acc = (
                ""
                if end.test_accuracy is None
                else f"; test accuracy {100 * end.test_accuracy:.2f}%"
            )
            self._say(f"{run_dir.name} {end.status.replace('_', ' ')}{acc}")
        else:
            self._say(
                f"{run_dir.name} {end.status}: {end.message}", error=end.status != "cancelled"
            )
        self.log.appendPlainText(f"{end.status}: {end.message}" if end.message else end.status)
        self.status_text.emit(f"{run_dir.name}: {end.status}")
        self.runs_table.select_paths({run_dir})
        run = next((r for r in self.runs if r.path == run_dir), None)
        self.results.show_run(run)
        if self.job is not None and self.job.current_path == run_dir:
            self._experiment_run_ended(end)
            return
        if self._stage2 is not None and self._stage2[0] == run_dir and self._start_stage2(end):
            return
        searching = self.search is not None and run_dir in [p for p, _ in self.search.started]
        if searching:
            self._show_search()
            if not self.search.finished and end.status != "cancelled":
                self._next_trial()
                return
            self.tabs.setCurrentWidget(self.search_panel)
        elif end.ok or end.overfit:
            self.tabs.setCurrentWidget(self.results)
        self._update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.state_label.setText(text)
        self.state_label.setStyleSheet("color: #e03131;" if error else "")
        self.editor.message.emit(text)

    def _update_buttons(self) -> None:
        running = self.controller.running
        self.train_button.setEnabled(not running and self.form.config is not None)
        self.overfit_button.setEnabled(not running and self.form.config is not None)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and any(r.resumable for r in self.runs))
        if not running:
            self.pause_button.setText("Pause")

    def save_plot(self, widget, kind: str) -> None:
        from designer.app.dialogs.prompts import with_suffix
        from designer.app.plots.export import save_plot_data, save_plot_widget

        title = widget.getPlotItem().titleLabel.text or "plot"
        stem = "".join(c if c.isalnum() else "_" for c in title.split(" (")[0].lower()).strip("_")
        filters = {
            "png": "PNG images (*.png)",
            "svg": "SVG drawings (*.svg)",
            "csv": "CSV files (*.csv)",
        }
        path = self.prompts.save_path(
            "Save plot", str(self.runs_folder() / f"{stem}.{kind}"), filters[kind]
        )
        if not path:
            return
        path = with_suffix(path, f".{kind}")
        try:
            if kind == "csv":
                save_plot_data(widget, path)
            else:
                save_plot_widget(widget, path, title)
        except OSError as exc:
            self.prompts.error("Cannot save the plot", f"{path}: {exc.strerror or exc}")
            return
        self.editor.message.emit(f"Wrote {path}")

    # -- the runs list ------------------------------------------------------------------------
    def _selection_changed(self, paths: list[Path]) -> None:
        live = str(self.controller.run_dir) if self.controller.running else None
        for key in list(self.plots.runs):
            if key != live and Path(key) not in paths:
                self.plots.remove_run(key)
        for path in paths:
            if str(path) not in self.plots.runs:
                self.plots.add_run(str(path), path.name, read_metrics(path))
        chosen = [r for r in self.runs if r.path in paths]
        self.results.show_run(chosen[-1] if chosen else None)
        self.comparison.compare(chosen)
        self._update_buttons()

    def rename(self, path: Path, name: str) -> None:
        try:
            new = rename_run(path, name)
        except RunDirError as exc:
            self.prompts.error("Cannot rename the run", str(exc))
            self.refresh_runs()
            return
        self.extra_runs = [new if p == path else p for p in self.extra_runs]
        if str(path) in self.plots.runs:
            self.plots.remove_run(str(path))
            self.plots.add_run(str(new), new.name, read_metrics(new))
        self.refresh_runs()

    def delete(self, paths: list[Path]) -> None:
        names = ", ".join(p.name for p in paths)
        if not self.prompts.confirm(
            "Delete runs",
            f"Delete {names} and everything in "
            f"{'its folder' if len(paths) == 1 else 'their folders'}? "
            "This cannot be undone.",
            "Delete",
        ):
            return
        for path in paths:
            try:
                delete_run(path)
            except RunDirError as exc:
                self.prompts.error("Cannot delete the run", str(exc))
            self.plots.remove_run(str(path))
        self.extra_runs = [p for p in self.extra_runs if p not in paths]
        self.refresh_runs()

    def use_weights(self, path: Path) -> bool:
        """Copy a run's kept weights beside the design file and make them the design's own
        (one undoable step: undo forgets them again; the copied file stays)."""
        from designer.core import commands as cmds
        from designer.interop.weights import WEIGHTS_KEY

        if not self.editor.path:
            self.prompts.error(
                "Use these weights",
                "Save the design first: its weights are kept in a file beside it.",
            )
            return False
        run = read_run(path)
        if run.fingerprint is not None and run.fingerprint != self._fingerprint():
            self.prompts.error(
                "Use these weights",
                f"{run.name} trained another version of the "
                "network than the one on the canvas, so its weights do not fit.",
            )
            return False
        from designer.training.rundir import RunDir

        try:
            which, source = RunDir(path).kept_weights(None)
        except RunDirError as exc:
            self.prompts.error("Use these weights", str(exc))
            return False
        target = Path(self.editor.path).with_suffix(".safetensors")
        if target.exists() and not self.prompts.confirm(
            "Use these weights",
            f"Replace {target.name}, the weights beside the design, by "
            f"the {which} weights of {run.name}?",
            "Replace",
        ):
            return False
        import shutil

        from designer.core.atomic import atomic_path

        try:
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        except OSError as exc:
            self.prompts.error("Use these weights", f"{target}: {exc.strerror or exc}")
            return False
        from designer.interop.weights import FRESH_KEY

        metadata = {k: v for k, v in self.editor.design.metadata.items() if k != FRESH_KEY}
        metadata[WEIGHTS_KEY] = target.name  # every layer's weights are trained ones now
        self.editor.push(
            cmds.SetDesignSetting("metadata", metadata, text=f"Use the weights of {run.name}")
        )
        self._say(f"The design now starts from the {which} weights of {run.name} ({target.name})")
        return True

    def export_run(self, path: Path) -> None:
        from designer.app.training.background import BackgroundTask
        from designer.app.training.export_dialog import export_run
        from designer.training.rundir import RunDir

        answer = self.prompts.export_run(path, RunDir(path).kept() or "best")
        if answer is None:
            return
        which, outputs = answer
        if not outputs:
            self._say("Nothing to export: no file was chosen.", error=True)
            return
        self._say(f"Exporting {path.name}…")
        self.exporting = getattr(self, "exporting", None) or BackgroundTask(self)
        self.exporting.start(
            lambda: export_run(path, which, outputs),
            self._exported,
            lambda message: self._say(f"Export failed: {message}", error=True),
            (Exception,),
        )

    def show_cell_images(self, path: Path, row: int, column: int) -> None:
        """The test images of a confusion-matrix cell, in the Inspect tab's Confusion view."""
        from designer.training.rundir import RunDir

        inspect = self.window_.show_inspect()
        inspect.show_confusion_cell(path, RunDir(path).kept(), row, column)

    def set_kept(self, path: Path, which: str) -> None:
        from designer.training.rundir import RunDir

        try:
            RunDir(path).set_kept(which)
        except RunDirError as exc:
            self.prompts.error("Which weights the run keeps", str(exc))
        self.refresh_runs()
        self.results.show_run(next((r for r in self.runs if r.path == path), None))

    def _exported(self, lines: list[str]) -> None:
        for line in lines:
            self.log.appendPlainText(line)
        self._say(f"Exported {len(lines) - 1} file(s); see the Log tab")

    # -- saving and closing -------------------------------------------------------------------
    def dispose(self) -> None:
        """The window is closing: no more redraws."""
        self.plots.dispose()

    def _saved(self, path: str) -> None:
        old, new = self._folder, runs_folder_for(path)
        self._folder = new
        if old == new or not list_runs(old):
            self.refresh_runs()
            return
        if self.controller.running and self.controller.run_dir.parent == old:
            self.refresh_runs()
            return  # moving a folder a worker is writing into would lose its files
        if self.prompts.confirm(
            "Move runs",
            f"Move this design's runs from {old} to {new}, beside the saved file?",
            "Move",
        ):
            try:
                move_runs(old, new)
            except RunDirError as exc:
                self.prompts.error("Cannot move the runs", str(exc))
        self.refresh_runs()

    def confirm_close(self) -> bool:
        """Closing the app while training: stop (keeping a checkpoint), keep training in the
        background until the run completes, or stay. True when the window may close."""
        if not self.controller.running:
            return True
        job = self.job
        what = (
            f"The experiment {job.experiment.name} is still training (run {job.position} of "
            f"{job.total})"
            if job is not None
            else f"{self.controller.run_dir.name} is still training"
        )
        answer = self.prompts.choose(
            "Training in progress",
            f"{what}. Stop it (a checkpoint is kept, so it can be resumed), or keep it training "
            "in the background until it completes?",
            [("stop", "Stop training"), ("background", "Keep training in the background")],
        )
        if answer is None:
            return False
        run_dir = self.controller.run_dir
        if job is not None:
            job.stopped = True
        self.controller.stop_now()
        if answer == "background":
            if job is not None:
                continue_experiment_in_background(job.experiment, job.out)
            else:
                continue_in_background(run_dir)
        return True


def continue_in_background(run_dir: Path) -> subprocess.Popen:
    """Resume a stopped run in a detached `netdesigner train --resume` that outlives the app;
    its output goes to train.log in the run directory."""
    log = open(run_dir / "train.log", "ab")  # noqa: SIM115 - handed to the child process
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "designer",
                "train",
                str(run_dir / "design.json"),
                "--run-dir",
                str(run_dir),
                "--resume",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(run_dir),
        )
    finally:
        log.close()


EXPERIMENT_SPEC = "spec.json"  # the experiment file a background `netdesigner experiment` reads


def continue_experiment_in_background(experiment, out: Path) -> subprocess.Popen:
    """Continue an experiment in a detached `netdesigner experiment` (finished runs are kept,
    the stopped one resumes): its file is written into ``out`` (a base design file by its
    absolute path; the canvas's design is ``out``'s base-design.json); output to experiment.log."""
    import json

    from designer.core.atomic import atomic_write_text

    data = {**experiment.data, "name": experiment.name}
    if experiment.base_design is None and experiment.design_path is not None:
        data["base"] = {"design": str(Path(experiment.design_path).resolve())}
    spec = out / EXPERIMENT_SPEC
    atomic_write_text(spec, json.dumps(data, indent=2) + "\n")
    log = open(out / "experiment.log", "ab")  # noqa: SIM115 - handed to the child process
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "designer", "experiment", str(spec), "--out", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(out),
        )
    finally:
        log.close()
