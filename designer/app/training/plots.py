"""Live training curves with pyqtgraph: step loss with its moving average, epoch losses and
accuracies, and the learning rate, for the live run and any runs overlaid beside it.

Events append to growing numpy buffers; a QTimer pushes dirty curves to their PlotDataItems at
25 Hz, not once per event, and one plot per tick; the axes move in steps
(designer.app.plots.ranges) and are cached as pixmaps, so a tick repaints a curve and not the
tick text; pyqtgraph's own peak downsampling and clip-to-view keep a curve of 100k steps cheap
to draw. Hovering a plot shows each curve's value at the cursor; the right-click
menu's "Export..." (pyqtgraph's) saves a plot as PNG, SVG or CSV.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

# pyqtgraph 0.14's LabelItem creates its text item (which can ask for the size hint, e.g. when a
# legend gains an entry while its layout is active) before it sets _sizeHint; a class-level
# default answers that early call the way the method does for an unknown hint.
if not hasattr(pg.LabelItem, "_sizeHint"):
    pg.LabelItem._sizeHint = {}
from designer.app.plots import PALETTE
from designer.app.plots.ranges import settled_range
from designer.training.curves import ema, seconds_at

REFRESH_MS = 40
X_AXES = ("step", "epoch", "time")
DEFAULT_SMOOTHING = 0.99


class Buffer:
    """A float64 array that grows by doubling, so appending per event stays O(1)."""

    def __init__(self) -> None:
        self._data = np.empty(256)
        self.size = 0

    def append(self, value: float | None) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.empty(len(self._data))])
        self._data[self.size] = np.nan if value is None else value
        self.size += 1

    @property
    def values(self) -> np.ndarray:
        return self._data[: self.size]


STEP_SERIES = ("step", "loss", "loss_ema", "lr")
STEP_PLOTS = frozenset({"step_loss", "lr"})  # what a step record changes
EPOCH_PLOTS = frozenset({"epoch_loss", "accuracy"})  # what an epoch record changes
ALL_PLOTS = STEP_PLOTS | EPOCH_PLOTS
PLOT_ORDER = ("step_loss", "epoch_loss", "accuracy", "lr")
EPOCH_SERIES = (
    "epoch",
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "lr",
    "seconds",
)


class RunCurves:
    """One run's metrics as arrays: its step records and its epoch records (the same dicts as
    metrics.jsonl lines and as the worker's events)."""

    def __init__(self, key: str, name: str, color: str) -> None:
        self.key, self.name, self.color = key, name, color
        self.steps = {k: Buffer() for k in STEP_SERIES}
        self.epochs = {k: Buffer() for k in EPOCH_SERIES}
        self.steps_per_epoch: int | None = None
        self.epochs_planned: int | None = None  # from the start record of a live run
        self.dirty: set[str] = set(ALL_PLOTS)  # the plots this run's curves must be redrawn in

    def add(self, record: dict) -> None:
        kind = record.get("kind")
        if kind == "step":
            for k in STEP_SERIES:
                self.steps[k].append(record.get(k))
            if record.get("batches"):
                self.steps_per_epoch = int(record["batches"])
        elif kind == "epoch":
            for k in EPOCH_SERIES:
                self.epochs[k].append(record.get(k))
            if self.steps_per_epoch is None:
                steps = self.steps["step"].values
                if len(steps):  # the steps of the first epoch, counted from the records
                    self.steps_per_epoch = int(steps[-1]) // max(1, int(record.get("epoch", 1)))
        elif kind == "start" and record.get("steps_per_epoch"):
            self.steps_per_epoch = int(record["steps_per_epoch"])
            self.epochs_planned = record.get("epochs")
        else:
            return
        self.dirty |= STEP_PLOTS if kind == "step" else ALL_PLOTS

    def x_end(self, axis: str) -> float | None:
        """The x of the run's last planned step, on the step or epoch axis (None: unknown)."""
        if not self.epochs_planned or axis == "time":
            return None
        if axis == "epoch":
            return float(self.epochs_planned)
        return float(self.epochs_planned * self.steps_per_epoch) if self.steps_per_epoch else None

    def epoch_x(self, axis: str) -> np.ndarray:
        epochs = self.epochs["epoch"].values
        if axis == "epoch" or not self.steps_per_epoch:
            return epochs
        return self._x(epochs * self.steps_per_epoch, axis)

    def step_x(self, axis: str) -> np.ndarray:
        return self._x(self.steps["step"].values, axis)

    def _x(self, steps: np.ndarray, axis: str) -> np.ndarray:
        per_epoch = self.steps_per_epoch
        if axis == "step" or not per_epoch:
            return steps
        if axis == "epoch":
            return steps / per_epoch
        epochs = {
            int(e): {"seconds": s}
            for e, s in zip(self.epochs["epoch"].values, self.epochs["seconds"].values)
        }
        return seconds_at(steps, per_epoch, epochs)


def configure_pyqtgraph() -> None:
    """The look of every plot in the app: light background, dark text, smooth lines."""
    pg.setConfigOptions(antialias=True, background="w", foreground="#333")


def adopt_popups(owner: QWidget, before: set) -> None:
    """Give the parentless menus and forms pyqtgraph made since ``before`` a Qt parent, so they
    are deleted with the plots' window instead of lingering as top-level widgets (they keep
    their popup window flags, so they still open as menus)."""
    for widget in QApplication.topLevelWidgets():
        if (
            widget not in before
            and widget is not owner
            and widget.parent() is None
            and not widget.isVisible()
            and widget is not owner.window()
        ):
            widget.setParent(owner, widget.windowFlags())


class _Plot:
    """One PlotWidget with a legend and a hover read-out of every curve at the cursor."""

    def __init__(
        self, title: str, y_label: str, *, log_y: bool = False, y_max: float | None = None
    ) -> None:
        self.widget = pg.PlotWidget(title=title)
        self.item = self.widget.getPlotItem()
        self.item.showGrid(x=True, y=True, alpha=0.25)
        self.item.setLabel("left", y_label)
        self.item.getAxis("left").enableAutoSIPrefix(False)  # 0.9, not "900 (x0.001)"
        self.item.setDownsampling(auto=True, mode="peak")
        self.item.setClipToView(True)
        self.item.setLogMode(y=log_y)
        self.log_y = log_y
        self.legend = self.item.addLegend(
            offset=(-10, 10), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200)
        )
        # Text is what costs in a repaint: axes (with their grid), legend and title are kept as
        # pixmaps and redrawn only when they change.
        cached = [self.item.getAxis(side) for side in ("left", "bottom")]
        for part in (*cached, self.legend, self.item.titleLabel):
            part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # The range follows the data in steps (see follow()), until the user zooms or pans;
        # the plot's "A" button goes back to following.
        self.item.vb.disableAutoRange()
        self.following = True
        self.y_max = y_max  # the largest value the series can take (accuracy: 1)
        self._range: tuple = (None, None)
        self.item.vb.sigRangeChangedManually.connect(self._zoomed_by_user)
        self.item.autoBtn.clicked.connect(self._follow_again)
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.hover = pg.TextItem(anchor=(0, 1), color="#333", fill=pg.mkBrush(255, 255, 255, 220))
        self.hover.setZValue(100)
        self.item.addItem(self.hover, ignoreBounds=True)
        self.hover.hide()
        self.widget.scene().sigMouseMoved.connect(self._hovered)

    def follow(self, refit: bool = False, x_end: float | None = None) -> None:
        """Move the range to hold the data, when it no longer holds it well (or ``refit``).
        ``x_end``, where the runs shown will end (a live run's last step), fixes the x range
        from the start; every value shown (loss, accuracy, rate) is at least 0."""
        if not self.following:
            return
        bounds = self._data_bounds()
        if bounds is None:
            return
        old = (None, None) if refit else self._range
        if x_end is not None and 0 <= bounds[0][0] and bounds[0][1] <= x_end:
            x = (0.0, float(x_end))
        else:
            x = settled_range(old[0], *bounds[0], floor=0.0)
        y = settled_range(old[1], *bounds[1], floor=0.0, ceiling=self.y_max)
        if (x, y) != self._range:
            self._range = (x, y)
            self.item.vb.setRange(xRange=x, yRange=y, padding=0)

    def _data_bounds(self) -> tuple | None:
        """((x min, x max), (y min, y max)) of every curve's whole data, in view coordinates.
        (Not the ViewBox's childrenBounds: with clip-to-view those are the bounds of what is
        in view already, and a range fitted to them would never grow.)"""
        lows, highs = [], []
        for item in self.curves.values():
            x, y = item.getOriginalDataset()
            if x is None or not len(x):
                continue
            if self.log_y:
                with np.errstate(divide="ignore", invalid="ignore"):
                    y = np.log10(y)
            keep = np.isfinite(x) & np.isfinite(y)
            if keep.any():
                x, y = x[keep], y[keep]
                lows.append((x.min(), y.min()))
                highs.append((x.max(), y.max()))
        if not lows:
            return None
        low, high = np.min(lows, axis=0), np.max(highs, axis=0)
        return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))

    def _zoomed_by_user(self, *_args) -> None:
        self.following = False

    def _follow_again(self) -> None:
        self.item.vb.disableAutoRange()  # pyqtgraph's button turned exact auto-range on
        self.following = True
        self.follow(refit=True)

    def curve(
        self,
        key: tuple[str, str],
        label: str,
        color: str,
        *,
        dashed: bool = False,
        width: float = 2.0,
        alpha: int = 255,
    ) -> pg.PlotDataItem:
        item = self.curves.get(key)
        if item is None:
            qcolor = pg.mkColor(color)
            qcolor.setAlpha(alpha)
            style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            item = self.item.plot(
                [], [], pen=pg.mkPen(qcolor, width=width, style=style), name=label
            )
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            self.curves[key] = item
        return item

    def remove_curve(self, key: tuple[str, str]) -> None:
        item = self.curves.pop(key, None)
        if item is not None:
            self.item.removeItem(item)
            self.legend.removeItem(item)

    def remove(self, run_key: str) -> None:
        for key in [k for k in self.curves if k[0] == run_key]:
            item = self.curves.pop(key)
            self.item.removeItem(item)
            self.legend.removeItem(item)

    def _hovered(self, pos) -> None:
        if not self.item.sceneBoundingRect().contains(pos) or not self.curves:
            self.hover.hide()
            return
        point = self.item.vb.mapSceneToView(pos)
        lines = []
        for item in self.curves.values():
            x, y = item.getOriginalDataset()
            if x is None or not len(x):
                continue
            i = int(np.clip(np.searchsorted(x, point.x()), 0, len(x) - 1))
            if np.isfinite(y[i]):
                lines.append(f"{item.name()}: {y[i]:.4g}  (x {x[i]:.4g})")
        if not lines:
            self.hover.hide()
            return
        self.hover.setText("\n".join(lines))
        self.hover.setPos(point)
        self.hover.show()


class TrainingPlots(QWidget):
    """The four plots, the smoothing slider and the x-axis choice; runs are added by key."""

    changed = Signal()
    save_requested = Signal(object, str)  # the PlotWidget, "png" | "svg" | "csv"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        before = set(QApplication.topLevelWidgets())
        configure_pyqtgraph()
        self.step_loss = _Plot("Loss per step (moving average)", "loss")
        self.epoch_loss = _Plot("Loss per epoch (dashed: training, solid: validation)", "loss")
        self.accuracy = _Plot(
            "Accuracy (dashed: training, solid: validation)", "accuracy", y_max=1.0
        )
        self.lr = _Plot("Learning rate", "learning rate")
        self.plots = (self.step_loss, self.epoch_loss, self.accuracy, self.lr)
        self.runs: dict[str, RunCurves] = {}
        self.smoothing = DEFAULT_SMOOTHING
        self.x_axis = "step"
        self._next = 0  # the plot the next timer refresh starts looking at

        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 999)
        self.smooth_slider.setValue(round(DEFAULT_SMOOTHING * 1000))
        self.smooth_slider.setToolTip("Moving-average coefficient of the step loss (0: raw)")
        self.smooth_label = QLabel()
        self.smooth_slider.valueChanged.connect(self._smoothing_moved)
        self.x_combo = QComboBox()
        self.x_combo.addItems(["by step", "by epoch", "by time (s)"])
        self.x_combo.currentIndexChanged.connect(lambda i: self.set_x_axis(X_AXES[i]))

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smooth_slider, 1)
        controls.addWidget(self.smooth_label)
        controls.addSpacing(16)
        controls.addWidget(QLabel("x axis"))
        controls.addWidget(self.x_combo)
        grid = QGridLayout()
        for i, plot in enumerate(self.plots):
            grid.addWidget(plot.widget, i // 2, i % 2)
            self._add_save_actions(plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        self._smoothing_moved(self.smooth_slider.value())

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._popups_before = before
        adopt_popups(self, before)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # pyqtgraph's legends make one more parentless widget when first shown
        QTimer.singleShot(0, lambda: adopt_popups(self, self._popups_before))

    def _add_save_actions(self, plot: _Plot) -> None:
        """Our own save entries in the plot's right-click menu, instead of pyqtgraph's export
        dialog (its SVG exporter fails on the paths Qt 6.10+ writes)."""
        plot.widget.scene().contextMenu = []
        menu = plot.item.vb.menu
        menu.addSeparator()
        for kind, text in (
            ("png", "Save plot as PNG…"),
            ("svg", "Save plot as SVG…"),
            ("csv", "Save data as CSV…"),
        ):
            menu.addAction(text, lambda kind=kind, w=plot.widget: self.save_requested.emit(w, kind))

    # -- runs ---------------------------------------------------------------------------------
    def add_run(self, key: str, name: str, records: list[dict] = ()) -> RunCurves:
        """Show a run (replacing what was shown under ``key``), with its records so far."""
        self.remove_run(key)
        used = {r.color for r in self.runs.values()}
        color = next((c for c in PALETTE if c not in used), PALETTE[len(self.runs) % len(PALETTE)])
        run = RunCurves(key, name, color)
        for record in records:
            run.add(record)
        self.runs[key] = run
        self._redraw_all()  # one run or several: the raw loss is drawn only for one
        return run

    def add_record(self, key: str, record: dict) -> None:
        run = self.runs.get(key)
        if run is not None:
            run.add(record)

    def remove_run(self, key: str) -> None:
        if self.runs.pop(key, None) is not None:
            for plot in self.plots:
                plot.remove(key)
                plot.follow(refit=True)
            self._redraw_all()

    def clear(self) -> None:
        for key in list(self.runs):
            self.remove_run(key)

    def rename_run(self, key: str, name: str) -> None:
        run = self.runs.get(key)
        if run is not None:
            records_name = run.name
            if records_name != name:
                run.name = name
                for plot in self.plots:
                    plot.remove(key)
                run.dirty = set(ALL_PLOTS)
                self.refresh(everything=True)

    # -- display ------------------------------------------------------------------------------
    def set_x_axis(self, axis: str) -> None:
        self.x_axis = axis
        label = {"step": "step", "epoch": "epoch", "time": "seconds"}[axis]
        for plot in self.plots:
            plot.item.setLabel("bottom", label)
        self._redraw_all()

    def _smoothing_moved(self, value: int) -> None:
        self.smoothing = value / 1000
        self.smooth_label.setText(f"{self.smoothing:.3f}")
        for run in self.runs.values():
            run.dirty.add("step_loss")

    def _redraw_all(self) -> None:
        for run in self.runs.values():
            run.dirty = set(ALL_PLOTS)
        self.refresh(everything=True)

    def refresh(self, everything: bool = False) -> None:
        """Push changed curves to their plots: from the timer, one plot per call (the one
        after the last drawn that has changes), so no tick repaints all four; ``everything``
        draws every changed plot at once (a run added, the axis changed, a run ended)."""
        order = PLOT_ORDER[self._next :] + PLOT_ORDER[: self._next]
        drawn = False
        for i, name in enumerate(order):
            runs = [r for r in self.runs.values() if name in r.dirty]
            if not runs:
                continue
            several = len(self.runs) > 1
            for run in runs:
                run.dirty.discard(name)
                self._draw(name, run, several)
            self.plot(name).follow(refit=everything, x_end=self._x_end())
            drawn = True
            if not everything:
                self._next = (PLOT_ORDER.index(name) + 1) % len(PLOT_ORDER)
                break
        if drawn:
            self.changed.emit()

    def _x_end(self) -> float | None:
        """Where the runs shown end on the x axis, when every one of them says so."""
        ends = [run.x_end(self.x_axis) for run in self.runs.values()]
        return None if not ends or None in ends else max(ends)

    def plot(self, name: str) -> _Plot:
        return self.plots[PLOT_ORDER.index(name)]

    def _draw(self, name: str, run: RunCurves, several: bool) -> None:
        k, c = run.key, run.color
        if name == "step_loss":
            sx, loss = run.step_x(self.x_axis), run.steps["loss"].values
            if not several:  # the raw loss, faint, behind its average (busy with several runs)
                self.step_loss.curve((k, "raw"), f"{run.name} (raw)", c, width=1, alpha=70).setData(
                    sx, loss
                )
            else:
                self.step_loss.remove_curve((k, "raw"))
            self.step_loss.curve((k, "ema"), run.name, c).setData(sx, ema(loss, self.smoothing))
        elif name == "lr":
            self.lr.curve((k, "lr"), run.name, c).setData(
                run.step_x(self.x_axis), run.steps["lr"].values
            )
        else:
            plot, train, val = (
                (self.epoch_loss, "train_loss", "val_loss")
                if name == "epoch_loss"
                else (self.accuracy, "train_accuracy", "val_accuracy")
            )
            ex, e = run.epoch_x(self.x_axis), run.epochs
            plot.curve((k, train), f"{run.name} training", c, dashed=True).setData(
                ex, e[train].values
            )
            plot.curve((k, val), f"{run.name} validation", c).setData(ex, e[val].values)

    def dispose(self) -> None:
        """The window is closing: no more redraws."""
        self._timer.stop()

    def point_counts(self) -> dict[str, int]:
        """How many points each plot holds (tests and the status bar)."""
        out = {}
        for name, plot in zip(("step_loss", "epoch_loss", "accuracy", "lr"), self.plots):
            out[name] = sum(
                len(x)
                for item in plot.curves.values()
                if (x := item.getOriginalDataset()[0]) is not None
            )
        return out
