"""View > Previews: keeps the canvas's node previews in step with the design, the pinned sample
and the weights, computing them on a background thread (designer.app.inspect.jobs.Job) so the
canvas never waits.

Every refresh of the editor (an edit, undo, another design) asks for new previews once per
event-loop turn; the engine (designer.viz.previews) recomputes only what changed. While a run
trains, each finished epoch points the engine at the run's latest weights (last.safetensors),
so feature maps sharpen as the loss falls. Previews show on the design's own graph; inside a
block the canvas shows none (a block's preview is its output, on its node).

Nothing here imports torch before the first pass, which starts START_MS after the window is
up: the app opens as fast as before, then loads torch and the sample images in the background.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from designer.app.inspect.jobs import Job
from designer.app.previews.strip import SampleStrip
from designer.core.serialization import clone

LARGE_DESIGN = 200  # top-level nodes above which previews start off
STRIP = 12  # sample images in the strip
START_MS = 400  # the first pass waits this long after the window is built
SWITCH_INTERVAL = 0.001  # seconds; the UI's 10 ms timer must not fire 5 ms late
TRAIN_LIMIT = 256  # training images prepared (for the normalization): ResNet's 224 x 224 x 3
# digits would be 1 GB in full, for a strip of twelve test images
# The Training workspace's settings that choose the sample images (not lr, epochs, ...).
DATA_FIELDS = (
    "dataset",
    "data_dir",
    "val_fraction",
    "test_fraction",
    "split_seed",
    "preprocessing",
)


def default_on(design) -> bool:
    """Previews start on, except on designs over LARGE_DESIGN nodes (a 700-node DenseNet);
    NETDESIGNER_PREVIEWS=on/off decides instead when set (tests, scripts)."""
    forced = os.environ.get("NETDESIGNER_PREVIEWS", "").lower()
    if forced in ("on", "off"):
        return forced == "on"
    return len(design.nodes) <= LARGE_DESIGN


class CanvasPreviews(QObject):
    updated = Signal()  # new previews are on the canvas
    enabled_changed = Signal(bool)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.editor = window.editor
        self.scene = window.scene
        self.strip = SampleStrip()
        self.strip.setVisible(False)  # until previews are on
        self.strip.picked.connect(self.pin_sample)
        self.job = Job(self)
        self.enabled = False
        self.user_choice: bool | None = None  # the user's View > Previews, once toggled
        self.shown: dict = {}  # node id -> (Preview, QImage or None), the latest pass
        self.samples = None  # designer.app.inspect.session.Samples of the strip
        self.samples_key = None
        self.sample_index = 0
        self.weights: Path | None = None  # a run's latest weights; None: the design's own
        self.message = ""  # why the last pass failed, if it did
        self.passes = 0  # passes shown (screenshots and tests wait for one)
        self._engine = None
        self._engine_lock = threading.Lock()
        self._ready = False  # the first pass may start (START_MS after the window is built)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # edits of one event-loop turn make one pass
        self._timer.timeout.connect(self._start)
        self.editor.refreshed.connect(self._refreshed)
        self.editor.document_changed.connect(self._document_changed)
        self._start_timer = QTimer(self)  # a child: it dies with the window
        self._start_timer.setSingleShot(True)
        self._start_timer.timeout.connect(self._begin)
        self._start_timer.start(START_MS)
        self._document_changed()

    # -- switching on and off -----------------------------------------------------------------
    def set_enabled(self, on: bool, by_user: bool = True) -> None:
        if by_user:
            self.user_choice = on
        if on == self.enabled:
            return
        self.enabled = on
        self.strip.setVisible(on)
        if on:
            self.schedule()
        else:
            self.job.cancel()
            self.scene.show_previews(None)
        self.enabled_changed.emit(on)

    def _document_changed(self) -> None:
        self.weights = None  # another design: its own weights, not the last run's
        self.shown = {}  # its node ids may be the last design's
        # Switched off by the user: off for every design; a large design starts off anyway.
        on = default_on(self.editor.design) and self.user_choice is not False
        self.set_enabled(on, by_user=False)
        self.schedule()

    def _refreshed(self) -> None:
        """The canvas may have new items (another graph shown): the latest previews at once,
        new ones when computed."""
        if self.enabled:
            if not self.editor.frames:
                self.scene.show_previews(self.shown)
            self.schedule()

    def _begin(self) -> None:
        self._ready = True
        self.schedule()

    # -- what is previewed -----------------------------------------------------------------------
    def pin_sample(self, index: int) -> None:
        self.sample_index = index
        if self.samples is not None:
            self.strip.mark(self.samples, index)
        self.schedule()

    def follow_training(self, workspace) -> None:
        """The Training workspace's data (its choice of dataset and split) for the samples,
        and the latest weights of the runs it starts after each epoch."""
        workspace.form.changed.connect(lambda _config: self.schedule())
        controller = workspace.controller
        controller.event.connect(lambda event: self._run_event(controller, event))

    def _data_config(self):
        """The Training workspace's settings once it exists (None: the design's defaults)."""
        workspace = self.window_.training
        if workspace is None:
            return None
        return workspace.form.config or workspace.form._base

    def _run_event(self, controller, event) -> None:
        if event.kind == "epoch" and controller.run_dir is not None:
            self.refresh_from_run(controller.run_dir)

    def refresh_from_run(self, run_dir: str | Path) -> None:
        from designer.training.rundir import RunDir

        self.weights = Path(run_dir) / RunDir.LAST
        self.schedule()

    # -- computing ---------------------------------------------------------------------------------
    def schedule(self) -> None:
        """Ask for previews of the design as it is now (once per event-loop turn)."""
        if self.enabled:
            self._timer.start()

    def _start(self) -> None:
        if not (self.enabled and self._ready):
            return
        if self.editor.frames:  # inside a block: its nodes have no previews
            self.scene.show_previews(None)
            return
        design = clone(self.editor.design)  # a snapshot: edits go on while the thread works
        path, weights, index = self.editor.path, self.weights, self.sample_index
        config = self._data_config()
        data = None if config is None else [getattr(config, f) for f in DATA_FIELDS]
        key = (design.input_shape, repr(design.metadata.get("training")), repr(data))
        known = self.samples if key == self.samples_key else None

        def work(report):
            from designer.app.inspect.session import InspectError

            # The pass runs Python between its torch operations: the UI thread then waits for
            # the interpreter lock up to the switch interval, 5 ms by default, every time.
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))

            engine = self._get_engine()
            samples, problem = known, ""
            if samples is None:
                try:
                    samples = load_samples(design, config)
                except InspectError as exc:
                    samples, problem = None, str(exc)
            engine.set_sample(_sample(samples, index) if samples is not None else None)
            engine.use_weights(weights)
            previews = engine.update(design, path, check=report)
            return key, samples, problem, previews

        self.job.start(work, self._done, self._failed)

    def _get_engine(self):
        with self._engine_lock:  # a superseded pass and its successor may both get here
            if self._engine is None:
                from designer.viz.previews import PreviewEngine

                self._engine = PreviewEngine()
            return self._engine

    @property
    def engine(self):
        """The engine, once a pass has made it (tests count its recomputations)."""
        return self._engine

    def _done(self, result) -> None:
        from designer.app.canvas.preview_item import preview_image

        key, samples, problem, previews = result
        weights = self.weights_text()
        if samples is not None and samples is not self.samples:
            self.samples, self.samples_key = samples, key
            self.sample_index = min(self.sample_index, len(samples.x) - 1)
            self.strip.show_samples(samples, self.sample_index, STRIP, weights)
        elif samples is not None:
            self.strip.mark(samples, self.sample_index, weights)
        else:
            self.samples, self.samples_key = None, None
            self.strip.show_problem(problem)
        self.message = problem
        shown = {}
        for nid, preview in previews.items():
            old = self.shown.get(nid)
            if old is not None and old[0] is preview:
                shown[nid] = old  # unchanged: its picture is made already
            else:
                pixels = preview.pixels
                shown[nid] = (preview, preview_image(pixels) if pixels is not None else None)
        self.shown = shown
        if self.enabled and not self.editor.frames:
            self.scene.show_previews(shown)
        self.passes += 1
        self.updated.emit()

    def weights_text(self) -> str:
        """Which weights the previews show, in words."""
        if self.weights is not None:
            return f"the latest weights of run {self.weights.parent.name}"
        own = self._engine.weights_file if self._engine is not None else None
        return f"the design's weights ({own.name})" if own else "fresh, untrained weights"

    def _failed(self, message: str) -> None:
        if message != "cancelled":
            self.message = message
            self.strip.label.setText(f"Previews failed: {message}")

    def dispose(self) -> None:
        """Stop the background pass (the window is closing)."""
        self._timer.stop()
        self._start_timer.stop()
        self.job.cancel()
        self.job.wait(10.0)


def load_samples(design, config=None):
    """The test images of the design's data (`config`: the Training workspace's settings);
    when that data cannot be loaded here (ImageNet templates: no such files offline), the
    bundled digits, saying so in `samples.note`. InspectError when neither loads."""
    from designer.app.inspect.session import InspectError, samples_for
    from designer.training.config import config_for_design

    config = config or config_for_design(design)
    try:
        samples = samples_for(design, config, any_head=True, train_limit=TRAIN_LIMIT)
        samples.note = ""
        return samples
    except InspectError as exc:
        if config.dataset == "digits":
            raise
        why = str(exc)
    digits = config.with_changes(dataset="digits", data_dir=None)
    samples = samples_for(design, digits, any_head=True, train_limit=TRAIN_LIMIT)
    samples.note = f"the digits: {config.dataset} cannot be loaded here ({why})"
    return samples


def _sample(samples, index: int):
    """The engine's Sample for test image `index` of the strip's split."""
    from designer.viz.display import as_picture
    from designer.viz.previews import Sample

    i = min(index, len(samples.x) - 1)
    label = int(samples.y[i])
    name = samples.classes[label] if label < len(samples.classes) else str(label)
    return Sample(
        samples.x[i],
        as_picture(samples.shown[i]),
        tuple(samples.classes),
        f"{samples.name} test {i}",
        label=name,
    )
