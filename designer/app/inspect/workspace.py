"""The Inspect workspace: looking inside the design with the weights of your choice, for the node
selected on the canvas (or picked here, inside blocks too): filters with their history over a
run's epochs, top-9 patches, activation maps, Grad-CAM and saliency, a run's confusion matrix
with the images of each cell, and gradient checks. Every view exports PNG.

A thin Qt shell: what is looked at is an InspectSession (Qt-free); the pictures are computed by
designer.viz; slow work runs on a thread (jobs.Job) with progress and cancel."""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from pathlib import Path

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.app.dialogs.prompts import with_suffix
from designer.app.inspect.jobs import Job
from designer.app.inspect.session import InspectError, InspectSession, weights_sources
from designer.app.inspect.tiles import TileGrid
from designer.app.inspect.views import (
    ActivationsView,
    AttributionView,
    ConfusionView,
    FiltersView,
    GradientsView,
    PatchesView,
)
from designer.viz import VizError, activation_maps, confusion_matrix, filter_tiles, walk
from designer.viz.attribution import grad_cam, saliency
from designer.viz.display import as_picture
from designer.viz.gradients import check_node
from designer.viz.nodes import CONV_TYPES, SEP
from designer.viz.render import save_png
from designer.viz.top_patches import top_patches

STRIP = 24  # test images in the sample strip
TOP_K = 9


class InspectWorkspace(QWidget):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("inspect-workspace")
        self.setAcceptDrops(True)
        self.window_ = window
        self.editor = window.editor
        self.prompts = window.prompts
        self.session = InspectSession()
        self.key: str | None = None  # the node looked at
        self.sample: int | None = 0  # index into the test split, or None: a file
        self.dropped: tuple | None = None  # (path, input, display image) of a dropped file
        self._dirty = True
        self._seen = None
        self._sources = []
        self._results: dict[str, tuple] = {}  # view -> (what it was computed for, result)
        self.patch_job = Job(self)
        self.confusion_job = Job(self)
        self.gradient_job = Job(self)
        self.data_job = Job(self)
        self._when_loaded: dict = {}  # actions asked for while the test split loads (by name)

        self.nodes = QComboBox()
        self.nodes.setObjectName("inspect-node")
        self.nodes.setMinimumContentsLength(28)
        self.nodes.setToolTip(
            "The node to look at; follows the canvas selection. Nodes inside "
            "blocks are listed under their block."
        )
        self.nodes.currentIndexChanged.connect(self._node_picked)
        self.sources = QComboBox()
        self.sources.setObjectName("inspect-weights")
        self.sources.setMinimumContentsLength(30)
        self.sources.currentIndexChanged.connect(self._source_picked)
        self.refresh_button = QPushButton("Refresh runs")
        self.refresh_button.clicked.connect(self.reload)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the current view as a PNG picture")
        self.export_button.clicked.connect(self.export_view)
        self.note = QLabel()
        self.note.setObjectName("inspect-note")
        self.note.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Node"))
        bar.addWidget(self.nodes, 1)
        bar.addWidget(QLabel("Weights"))
        bar.addWidget(self.sources, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)

        self.filters = FiltersView()
        self.patches = PatchesView()
        self.activations = ActivationsView()
        self.attribution = AttributionView()
        self.confusion = ConfusionView()
        self.gradients = GradientsView()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("inspect-tabs")
        for view, title in (
            (self.filters, "Filters"),
            (self.patches, "Top patches"),
            (self.activations, "Activations"),
            (self.attribution, "Grad-CAM && saliency"),
            (self.confusion, "Confusion"),
            (self.gradients, "Gradient check"),
        ):
            self.tabs.addTab(view, title)
        self.tabs.currentChanged.connect(lambda _i: self.update_view())

        self.strip = TileGrid()
        self.strip.tile_clicked.connect(self.pick_sample)
        self.strip_label = QLabel("Sample: loading the test split…")
        self.strip_label.setWordWrap(True)
        strip_area = QScrollArea()
        strip_area.setWidget(self.strip)
        strip_area.setWidgetResizable(True)
        strip_area.setFixedHeight(96)
        strip_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.strip_label)
        layout.addWidget(strip_area)

        self.filters.epoch_changed.connect(lambda _e: self.update_view())
        self.filters.shared_changed.connect(lambda _s: self.update_view())
        self.attribution.class_changed.connect(self.update_view)
        self.patches.progress.compute.clicked.connect(self.find_patches)
        self.patches.progress.cancel.clicked.connect(self.patch_job.cancel)
        self.patch_job.state_changed.connect(self.patches.progress.set_running)
        self.confusion.progress.compute.clicked.connect(self.compute_confusion)
        self.confusion.progress.cancel.clicked.connect(self.confusion_job.cancel)
        self.confusion_job.state_changed.connect(self.confusion.progress.set_running)
        self.gradients.button.clicked.connect(lambda: self.check_gradients())
        self.editor.refreshed.connect(self._design_changed)
        self.editor.document_changed.connect(self._design_changed)
        self.editor.scene.selection_changed.connect(self.follow_selection)
        window.files.saved.connect(lambda _p: self._design_changed())
        self._design_changed()  # remembers what the design is now
        self.reload()

    # -- what is looked at ---------------------------------------------------------------------
    def runs_folder(self) -> Path:
        from designer.app.training.workspace import unsaved_runs_folder
        from designer.training.runs import runs_folder_for

        if self.editor.path:
            return runs_folder_for(self.editor.path)
        return unsaved_runs_folder(self.editor.design.name)

    def _design_changed(self) -> None:
        """After an edit (not a move or a walk into a block): look again when shown."""
        from designer.core.serialization import dumps
        from designer.training.runs import network_fingerprint

        try:
            seen = (network_fingerprint(dumps(self.editor.design)), self.editor.path)
        except (TypeError, ValueError):
            seen = None
        if seen is not None and seen == self._seen:
            return
        self._seen = seen
        self._dirty = True
        if self.isVisible():
            self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def reload(self) -> None:
        """Take the design as it is now, list the weights to choose from and redraw."""
        self._dirty = False
        self.session.refresh(self.editor.design, self.editor.path)
        previous = self.session.source
        self._sources = weights_sources(self.session.design, self.editor.path, self.runs_folder())
        self.sources.blockSignals(True)
        self.sources.clear()
        for s in self._sources:
            self.sources.addItem(s.label, s.key)
        index = max(0, self.sources.findData(previous.key))
        self.sources.setCurrentIndex(index)
        self.sources.blockSignals(False)
        self.session.set_source(self._sources[index])
        self._results.clear()
        self._fill_nodes()
        self._load_samples()
        self.update_view()

    def _source_picked(self, index: int) -> None:
        if 0 <= index < len(self._sources):
            self.session.set_source(self._sources[index])
            self._results.clear()
            self._load_samples()
            self.update_view()

    def select_source(self, run: Path | None, which: str | None = None) -> None:
        """Show these weights (None: the design's own); refreshes the list of runs first."""
        self.reload()
        key = "design" if run is None else f"{Path(run)}::{which}"
        index = self.sources.findData(key)
        if index < 0:
            raise InspectError(f"no weights {key} among the runs of this design")
        self.sources.setCurrentIndex(index)

    def _fill_nodes(self) -> None:
        self.nodes.blockSignals(True)
        self.nodes.clear()
        try:
            model = self.session.model()
        except InspectError:
            model = None
        keys = []
        if model is not None:
            for place in walk(model.design, model.analysis):
                indent = "    " * (len(place.levels) - 1)
                text = f"{indent}{place.label} ({place.node.type})"
                self.nodes.addItem(text, place.key)
                keys.append(place.key)
        if self.key not in keys:
            convs = [k for k in keys if model.place(k).node.type in CONV_TYPES] if model else []
            self.key = convs[0] if convs else (keys[0] if keys else None)
        if self.key is not None:
            self.nodes.setCurrentIndex(self.nodes.findData(self.key))
        self.nodes.blockSignals(False)

    def _node_picked(self, index: int) -> None:
        key = self.nodes.itemData(index)
        if key is not None and key != self.key:
            self.key = key
            self.update_view()

    def select_node(self, key: str) -> None:
        """Look at the node with this key (ids down the blocks, as the canvas's breadcrumb)."""
        index = self.nodes.findData(key)
        if index < 0:
            raise InspectError(f"no node {key!r} in the design")
        self.nodes.setCurrentIndex(index)

    def canvas_key(self, node_id: str) -> str:
        """The key of a node of the graph the canvas shows (inside the open blocks)."""
        return SEP.join([*(f.node_id for f in self.editor.frames), node_id])

    def follow_selection(self) -> None:
        ids = self.editor.scene.selected_node_ids()
        if len(ids) == 1:
            key = self.canvas_key(ids[0])
            if self.nodes.findData(key) >= 0:
                self.select_node(key)

    # -- the sample -------------------------------------------------------------------------------
    def _load_samples(self) -> None:
        self.strip.clear()
        try:
            self.session.model()  # built here, on the UI thread, before the thread asks for it
        except InspectError as exc:
            self.strip_label.setText(f"No test images: {exc}")
            return
        if self.session.has_samples():
            self._samples_loaded(self.session.samples())
            return
        self.strip_label.setText("Sample: loading the test split…")
        self.data_job.start(
            lambda report: self.session.samples(), self._samples_loaded, self._samples_failed
        )

    def _samples_loaded(self, samples) -> None:
        n = min(STRIP, len(samples.x))
        tiles = [as_picture(samples.shown[i]) for i in range(n)]
        self.strip.show_tiles(
            tiles,
            n,
            captions=[
                samples.classes[int(samples.y[i])]
                if int(samples.y[i]) < len(samples.classes)
                else str(int(samples.y[i]))
                for i in range(n)
            ],
            min_px=48,
            clickable=True,
        )
        self.attribution.set_classes(samples.classes)
        self._say_sample()
        self.update_view()
        # What was asked for while the test split loaded runs now (once each).
        pending, self._when_loaded = self._when_loaded, {}
        for action in pending.values():
            action()

    def _samples_failed(self, message: str) -> None:
        self.strip_label.setText(f"No test images: {message}")
        self.update_view()

    def _say_sample(self) -> None:
        if self.dropped is not None:
            what = f"the image file {os.path.basename(self.dropped[0])}"
        else:
            s = self.session.samples()
            label = int(s.y[self.sample])
            what = f"test image {self.sample} of {s.name} (class {s.classes[label]})"
        self.strip_label.setText(
            f"Sample: {what}. Click another below, or drop an image file on this workspace."
        )

    def pick_sample(self, index: int) -> None:
        self.sample, self.dropped = index, None
        self._say_sample()
        self.update_view()

    def use_image(self, path: str) -> None:
        """Use an image file as the sample, resized and converted to the design's input."""
        try:
            x, shown = self.session.image_input(path)
        except InspectError as exc:
            self.prompts.error("Cannot use the image", str(exc))
            return
        self.dropped = (path, x, shown)
        self._say_sample()
        self.update_view()

    def sample_input(self) -> tuple[torch.Tensor, torch.Tensor, str]:
        """(network input, display image, words) of the chosen sample."""
        if self.dropped is not None:
            path, x, shown = self.dropped
            return x, shown, os.path.basename(path)
        s = self.session.samples()
        i = min(self.sample or 0, len(s.x) - 1)
        return s.x[i], s.shown[i], f"test image {i}"

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.use_image(urls[0])

    # -- the views --------------------------------------------------------------------------------
    def update_view(self) -> None:
        """Redraw the current tab for the node, weights and sample chosen."""
        try:
            model = self.session.model()
            self.note.setText(self.session.note)
            self.note.setStyleSheet("color: #b15c00;" if model.fresh else "")
        except InspectError as exc:
            self.note.setText(f"Nothing to show: {exc}")
            self.note.setStyleSheet("color: #b00020;")
            return
        if self.key is None:
            return
        view = self.tabs.currentWidget()
        try:
            if view is self.filters:
                self._show_filters(model)
            elif view is self.activations:
                self._show_activations(model)
            elif view is self.attribution:
                self._show_attribution(model)
            elif view is self.patches:
                self._show_stored("patches")
            elif view is self.confusion:
                self._show_stored("confusion")
            elif view is self.gradients:
                self._show_stored("gradients")
        except (VizError, InspectError) as exc:
            if hasattr(view, "show_message"):
                view.show_message(str(exc))
            else:
                view.clear(str(exc))

    def _samples_ready(self) -> bool:
        return self.session.has_samples() and not self.data_job.running

    def _show_filters(self, model) -> None:
        place = model.place(self.key)
        if place.node.type not in CONV_TYPES:
            self.filters.show_message(
                f"{place.label} is a {place.node.type}: filters belong to "
                "convolutions. Pick a Conv2d in the node list."
            )
            self.filters.set_epochs([], None)
            return
        history = self.session.filter_history(self.key)
        if history is not None:
            self.filters.set_epochs(history.epochs, self.filters.epoch)
        else:
            module = self.session.history_module()
            why = (
                f"the run keeps the per-epoch filters of {module} only"
                if module
                else "pick a run's weights to step through its epochs"
            )
            self.filters.set_epochs([], None, why)
        epoch = self.filters.epoch
        weights = history.weights[epoch] if history is not None and epoch is not None else None
        tiles = filter_tiles(
            model, self.key, weights=weights, shared=self.filters.shared.isChecked()
        )
        when = f", after epoch {epoch}" if epoch else (", before training" if epoch == 0 else "")
        self.filters.show_filters(tiles, when)

    def _show_activations(self, model) -> None:
        if not self._samples_ready() and self.dropped is None:
            self.activations.show_message("Waiting for the test split…")
            return
        x, shown, source = self.sample_input()
        maps = activation_maps(model, self.key, x)
        self.activations.show_maps(maps, as_picture(shown), source)

    def _show_attribution(self, model) -> None:
        if not self._samples_ready() and self.dropped is None:
            self.attribution.show_message("Waiting for the test split…")
            return
        if self.session.design.task != "classification":
            self.attribution.show_message(
                "Grad-CAM and saliency explain a class score; this design is not a classifier."
            )
            return
        x, shown, source = self.sample_input()
        place = model.place(self.key)
        target = self.attribution.target
        results, note = [], ""
        if place.node.type in CONV_TYPES:
            results.append(grad_cam(model, self.key, x, target))
        else:
            note = (
                f"Grad-CAM needs a convolution and {place.label} is a {place.node.type}; "
                "pick a Conv2d for it. Saliency does not depend on the node."
            )
        results.append(saliency(model, x, target))
        self.attribution.show_results(results, as_picture(shown), source, note)

    def _what(self) -> tuple:
        return (
            self.session.source.key,
            self.key,
            self.session.design.revision if self.session.design else None,
        )

    def _show_stored(self, name: str) -> None:
        """A result computed earlier, if it is still of the weights, design (and node) shown;
        else what to press."""
        stored = self._results.get(name)
        now = self._what()
        fresh = stored is not None and (
            stored[0][::2] == now[::2] if name == "confusion" else stored[0] == now
        )
        if name == "patches":
            if fresh:
                self.patches.show_result(*stored[1])
            else:
                self.patches.clear(
                    "Press Find top patches to rank the test images for every "
                    "channel of this node (one pass over the test split)."
                )
        elif name == "confusion":
            if fresh:
                self.confusion.show_confusion(*stored[1])
            else:
                self.confusion.clear(
                    "Press Compute to classify the test split with these "
                    "weights; then click a cell to see its images."
                )
        elif fresh:
            self.gradients.show_result(stored[1])
        elif not self.gradient_job.running:
            self.gradients.show_message(
                "Press Check gradients (or use Check gradients in a "
                "node's context menu on the canvas)."
            )

    # -- background work ---------------------------------------------------------------------------
    def find_patches(self) -> None:
        """Top-9 patches of every channel of the node over the test split, on a thread."""
        if not self._samples_ready():
            self.patches.clear("Waiting for the test split… (the patches follow when it is here)")
            self._run_when_loaded("patches", self.find_patches)
            return
        try:
            model = self.session.model()
            samples = self.session.samples()
        except InspectError as exc:
            self.patches.clear(str(exc))
            return
        key, what = self.key, self._what()
        self.patches.clear("Ranking the test images…")
        # The thread hooks its own copy: the views keep using the model meanwhile.
        own = replace(model, module=copy.deepcopy(model.module))

        def work(report):
            return top_patches(
                own, key, samples.x, samples.shown, k=TOP_K, batch_size=64, progress=report
            )

        def done(result):
            self._results["patches"] = (
                what,
                (result, samples.shown, samples.y.numpy(), samples.classes),
            )
            if self.tabs.currentWidget() is self.patches:
                self._show_stored("patches")

        self.patch_job.start(
            work,
            done,
            lambda msg: self.patches.clear(
                "Cancelled." if msg == "cancelled" else f"Cannot find top patches: {msg}"
            ),
            self.patches.progress.show_progress,
        )

    def compute_confusion(self) -> None:
        if not self._samples_ready():
            self.confusion.clear("Waiting for the test split… (the matrix follows when it is here)")
            self._run_when_loaded("confusion", self.compute_confusion)
            return
        try:
            model = self.session.model()
            samples = self.session.samples()
        except InspectError as exc:
            self.confusion.clear(str(exc))
            return
        if self.session.design.task != "classification":
            self.confusion.clear("A confusion matrix needs a classifier.")
            return
        what = self._what()

        module = copy.deepcopy(model.module).eval()

        def work(report):
            predicted = []
            with torch.inference_mode():
                for start in range(0, len(samples.x), 256):
                    predicted.append(module(samples.x[start : start + 256]).argmax(dim=1))
                    report(min(start + 256, len(samples.x)), len(samples.x))
            pred = torch.cat(predicted)
            conf = confusion_matrix(module, samples.x, samples.y, samples.classes)
            return conf, pred.numpy(), samples.y.numpy(), samples.shown

        def done(result):
            self._results["confusion"] = (what, result)
            if self.tabs.currentWidget() is self.confusion:
                self._show_stored("confusion")

        self.confusion_job.start(
            work,
            done,
            lambda msg: self.confusion.clear(
                "Cancelled." if msg == "cancelled" else f"Cannot compute: {msg}"
            ),
            self.confusion.progress.show_progress,
        )

    def _run_when_loaded(self, name: str, action) -> None:
        """Run ``action`` once the test split has loaded (a repeated request counts once)."""
        self._when_loaded[name] = action

    def show_confusion_cell(self, run: Path, which: str, row: int, column: int) -> None:
        """The test images of one cell of a run's confusion matrix (from the Training tab's
        Results): these weights, the Confusion view, computed if needed, then the cell."""
        self.select_source(run, which)
        self.tabs.setCurrentWidget(self.confusion)
        self.confusion.pending_cell = (row, column)
        stored = self._results.get("confusion")
        if stored is not None and stored[0][::2] == self._what()[::2]:
            self.confusion.show_confusion(*stored[1])
        elif self._samples_ready():
            self.compute_confusion()
        else:  # the test split is loading: compute when it is there
            self._run_when_loaded("confusion", self.compute_confusion)

    def check_gradients(self, key: str | None = None) -> None:
        """Gradient check of the node (default: the one looked at), shown in its tab."""
        if key is not None:
            self.select_node(key)
        self.tabs.setCurrentWidget(self.gradients)
        try:
            model = self.session.model()
        except InspectError as exc:
            self.gradients.show_message(str(exc))
            return
        key, what = self.key, self._what()
        label = model.place(key).label
        self.gradients.set_running(True, label)

        def done(result):
            self.gradients.set_running(False)
            self._results["gradients"] = (what, result)
            if self.tabs.currentWidget() is self.gradients:
                self._show_stored("gradients")

        def failed(message):
            self.gradients.set_running(False)
            self.gradients.show_message(f"Cannot check the gradients of {label}: {message}")

        self.gradient_job.start(lambda report: check_node(model, key), done, failed)

    # -- export ------------------------------------------------------------------------------------
    def export_view(self) -> None:
        view = self.tabs.currentWidget()
        picture = view.picture()
        if picture is None:
            self.prompts.error("Nothing to export", "This view shows no picture yet.")
            return
        tab = self.tabs.tabText(self.tabs.currentIndex()).replace("&&", "and")
        stem = f"{self.session.design.name}_{tab}".replace(" ", "_").lower()
        base = os.path.dirname(self.editor.path) if self.editor.path else os.getcwd()
        path = self.prompts.save_path(
            "Export view", os.path.join(base, f"{stem}.png"), "PNG images (*.png)"
        )
        if not path:
            return
        path = with_suffix(path, ".png")
        try:
            save_png(picture, path)
        except VizError as exc:
            self.prompts.error("Cannot export", str(exc))
            return
        self.editor.message.emit(f"Wrote {path}")

    def dispose(self) -> None:
        """Stop background work (the window is closing)."""
        for job in (self.patch_job, self.confusion_job, self.gradient_job, self.data_job):
            job.cancel()
            job.wait(5.0)
