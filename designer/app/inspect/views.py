"""The Inspect workspace's views, one per tab. Each shows arrays computed by designer.viz and
can give the same picture the CLI draws (`picture()`, a PIL image) for "Export PNG"."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.app.inspect.tiles import ScaleLegend, TileGrid, outlined
from designer.viz.display import as_picture
from designer.viz.render import (
    heat_colors,
    overlay,
    render_activations,
    render_attribution,
    render_confusion,
    render_filters,
    render_top_patches,
    scale_strip,
)

PAGE_CHANNELS = 8
FILTER_PX = 96  # filters are the smallest pictures: a 5x5 kernel gets 19 pixels per weight


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


def message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setObjectName("inspect-message")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class FiltersView(QWidget):
    """A convolution's filters, with an epoch slider over the run's per-epoch filters."""

    epoch_changed = Signal(int)
    shared_changed = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tiles = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.message = message_label()
        self.shared = QCheckBox("One scale for all filters")
        self.shared.setToolTip("Gray is a zero weight everywhere, so weak filters look weak")
        self.shared.toggled.connect(self.shared_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("epoch-slider")
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._slid)
        self.epoch_label = QLabel()
        self.epochs: list[int] = []
        self.legend = ScaleLegend()
        self.grid = TileGrid()
        bar = QHBoxLayout()
        bar.addWidget(self.shared)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Epoch"))
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.epoch_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.legend)
        layout.addWidget(self.message)
        layout.addWidget(scrolled(self.grid), 1)

    def set_epochs(self, epochs: list[int], current: int | None, why_not: str = "") -> None:
        """The run's stored epochs (empty: no history for this node; `why_not` says why)."""
        self.epochs = list(epochs)
        self.slider.blockSignals(True)
        self.slider.setEnabled(bool(epochs))
        self.slider.setRange(0, max(0, len(epochs) - 1))
        if epochs:
            self.slider.setValue(epochs.index(current) if current in epochs else len(epochs) - 1)
        self.slider.blockSignals(False)
        self.epoch_label.setText(f"{self.epoch}" if epochs else "-")
        self.slider.setToolTip(why_not or "Step through the filters after each epoch")

    @property
    def epoch(self) -> int | None:
        return self.epochs[self.slider.value()] if self.epochs else None

    def _slid(self, _value: int) -> None:
        self.epoch_label.setText(f"{self.epoch}")
        self.epoch_changed.emit(self.epoch)

    def show_filters(self, tiles, when: str = "") -> None:
        self.tiles = tiles
        self.message.setText("")
        n, per, kh, kw = tiles.weights.shape
        how = {
            "rgb": "RGB tiles",
            "channels": "one tile per input channel" if per > 1 else "gray tiles",
            "mean": "the mean over the input channels",
        }[tiles.mode]
        self.title.setText(
            f"<b>{tiles.node_name}</b>: {n} filters of {kh}x{kw}, {per} input "
            f"channel(s) each, shown as {how}{when}"
        )
        lo, hi = tiles.value_range
        if tiles.shared:
            self.legend.show_scale(
                scale_strip(),
                f"{tiles.scale[0]:.3g}",
                f"{tiles.scale[1]:.3g}",
                "one scale for all: gray is 0",
            )
        else:
            self.legend.show_scale(
                scale_strip(),
                "min",
                "max",
                f"each tile from its own min to max; weights {lo:.3g} .. {hi:.3g}",
            )
        if tiles.mode == "channels" and per > 1:
            self.grid.show_tiles(
                [tiles.tiles[i, j] for i in range(n) for j in range(per)],
                per,
                row_labels=[str(i) for i in range(n)],
                min_px=FILTER_PX,
            )
        else:
            self.grid.show_tiles(
                [tiles.tiles[i, 0] for i in range(n)],
                min(n, 12),
                captions=[str(i) for i in range(n)],
                min_px=FILTER_PX,
            )

    def show_message(self, text: str) -> None:
        self.tiles = None
        self.title.setText("")
        self.grid.clear()
        self.message.setText(text)

    def picture(self):
        return render_filters(self.tiles) if self.tiles is not None else None


class ProgressRow(QWidget):
    """A compute button, a progress bar and a cancel button."""

    def __init__(self, text: str, parent=None) -> None:
        super().__init__(parent)
        self.compute = QPushButton(text)
        self.cancel = QPushButton("Cancel")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.compute)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.compute.setEnabled(not running)
        self.cancel.setEnabled(running)
        if not running:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")

    def show_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} of {total} images")


class PatchesView(QWidget):
    """Per channel, the 9 test images that excite it most, cropped to the receptive field; a
    click shows the whole image with that field outlined."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result = None
        self.shown = None  # the display images the patches were cut from
        self.labels = None
        self.classes: list[str] = []
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.message = message_label()
        self.progress = ProgressRow("Find top patches")
        self.first = QSpinBox()
        self.first.setPrefix("channels from ")
        self.first.setMinimum(0)
        self.first.valueChanged.connect(self._page)
        self.prev = QPushButton("◀ Previous")
        self.next = QPushButton("Next ▶")
        self.prev.clicked.connect(lambda: self.first.setValue(self.first.value() - PAGE_CHANNELS))
        self.next.clicked.connect(lambda: self.first.setValue(self.first.value() + PAGE_CHANNELS))
        self.page_label = QLabel()
        self.grid = TileGrid()
        self.grid.tile_clicked.connect(self.show_detail)
        self.detail = QLabel()
        self.detail.setObjectName("patch-detail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.detail_text = message_label()
        self.detail_text.setMinimumWidth(240)
        self.detail_text.setText(
            "Click a patch to see its whole image with the receptive field outlined."
        )
        pager = QHBoxLayout()
        for w in (self.first, self.prev, self.next, self.page_label):
            pager.addWidget(w)
        pager.addStretch(1)
        side = QVBoxLayout()
        side.addWidget(self.detail)
        side.addWidget(self.detail_text)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(scrolled(self.grid), 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.title)
        layout.addLayout(pager)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.first, self.prev, self.next):
            w.setEnabled(on)

    def clear(self, text: str = "") -> None:
        self.result = None
        self.title.setText("")
        self.grid.clear()
        self.detail.clear()
        self.page_label.setText("")
        self.message.setText(text)
        self._set_enabled(False)

    def show_result(self, result, shown, labels, classes) -> None:
        self.result, self.shown, self.labels, self.classes = result, shown, labels, classes
        channels = len(result.channels)
        self.message.setText("")
        self.title.setText(
            f"<b>{result.node_name}</b>: top {result.values.shape[1]} test images "
            f"per channel ({result.field_text}; blue = outside the image)"
        )
        self.first.blockSignals(True)
        self.first.setMaximum(max(0, channels - 1))
        self.first.setSingleStep(PAGE_CHANNELS)
        self.first.setValue(min(self.first.value(), max(0, channels - 1)))
        self.first.blockSignals(False)
        self._set_enabled(True)
        self._page()

    def page_channels(self) -> list[int]:
        if self.result is None:
            return []
        start = self.first.value()
        return list(range(start, min(start + PAGE_CHANNELS, len(self.result.channels))))

    def _page(self) -> None:
        if self.result is None:
            return
        rows = self.page_channels()
        k = self.result.values.shape[1]
        tiles, captions = [], []
        for ci in rows:
            for j in range(k):
                missing = self.result.image_index[ci, j] < 0
                tiles.append(None if missing else self.result.patches[ci, j])
                captions.append("" if missing else f"{self.result.values[ci, j]:.2f}")
        self.grid.show_tiles(
            tiles,
            k,
            captions=captions,
            clickable=True,
            row_labels=[f"ch {self.result.channels[c]}" for c in rows],
        )
        total = len(self.result.channels)
        self.page_label.setText(f"{rows[0]}..{rows[-1]} of {total} channels" if rows else "")
        self.prev.setEnabled(self.first.value() > 0)
        self.next.setEnabled(self.first.value() + PAGE_CHANNELS < total)

    def show_detail(self, index: int) -> None:
        rows = self.page_channels()
        k = self.result.values.shape[1]
        ci, j = rows[index // k], index % k
        image = int(self.result.image_index[ci, j])
        box = tuple(int(v) for v in self.result.boxes[ci, j])
        picture = as_picture(self.shown[image])
        self.detail.setPixmap(outlined(picture, box))
        label = int(self.labels[image]) if self.labels is not None else None
        name = self.classes[label] if label is not None and label < len(self.classes) else label
        top, left, bottom, right = box
        h, w = picture.shape[:2]
        beyond = top < 0 or left < 0 or bottom > h or right > w
        self.detail_text.setText(
            f"test image {image} (class {name}); channel {self.result.channels[ci]} peaks at "
            f"{self.result.values[ci, j]:.3g}, unit ({self.result.position[ci, j, 0]}, "
            f"{self.result.position[ci, j, 1]}); its receptive field spans rows {top}..{bottom - 1}"
            f" and columns {left}..{right - 1}" + (", drawn clipped to the image" if beyond else "")
        )

    def picture(self):
        if self.result is None:
            return None
        rows = self.page_channels()
        page = type(self.result)(
            **{
                **vars(self.result),
                **{
                    name: getattr(self.result, name)[rows]
                    for name in (
                        "channels",
                        "values",
                        "image_index",
                        "position",
                        "boxes",
                        "patches",
                    )
                },
            }
        )
        return render_top_patches(page)


class ActivationsView(QWidget):
    """A node's output for the chosen sample, every channel on one scale."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.maps = None
        self.input = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.legend = ScaleLegend()
        self.message = message_label()
        self.grid = TileGrid()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.legend)
        layout.addWidget(self.message)
        layout.addWidget(scrolled(self.grid), 1)

    def show_maps(self, maps, picture: np.ndarray, source: str) -> None:
        self.maps, self.input = maps, picture
        self.message.setText("")
        c, h, w = maps.maps.shape
        lo, hi = maps.value_range
        self.title.setText(f"<b>{maps.node_name}</b>: {c} channel(s) of {h}x{w} for {source}")
        self.legend.show_scale(
            scale_strip(), f"{lo:.3g}", f"{hi:.3g}", "one scale for all channels"
        )
        span = hi - lo if hi > lo else 1.0
        tiles = [(m - lo) / span for m in maps.maps]
        columns = 16 if h * w > 1 else 32
        self.grid.show_tiles(
            tiles,
            min(columns, c),
            captions=[str(i) for i in range(c)],
            min_px=48 if h * w > 1 else 20,
        )

    def show_message(self, text: str) -> None:
        self.maps = None
        self.title.setText("")
        self.grid.clear()
        self.message.setText(text)

    def picture(self):
        return render_activations(self.maps, self.input) if self.maps is not None else None


class AttributionView(QWidget):
    """Grad-CAM of the chosen convolution and saliency, for the sample and a class."""

    class_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.results: list = []
        self.input = None
        self.classes = QComboBox()
        self.classes.setObjectName("attribution-class")
        self.classes.currentIndexChanged.connect(lambda _i: self.class_changed.emit())
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.message = message_label()
        self.legend = ScaleLegend()
        self.legend.show_scale(heat_colors(scale_strip()), "none", "most")
        self.grid = TileGrid()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Explain class"))
        bar.addWidget(self.classes)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.title)
        layout.addWidget(self.legend)
        layout.addWidget(self.message)
        layout.addWidget(scrolled(self.grid), 1)

    def set_classes(self, classes: list[str]) -> None:
        current = self.target
        self.classes.blockSignals(True)
        self.classes.clear()
        self.classes.addItem("the predicted class", None)
        for i, name in enumerate(classes):
            self.classes.addItem(f"{i}: {name}" if name != str(i) else name, i)
        index = self.classes.findData(current) if current is not None else 0
        self.classes.setCurrentIndex(max(index, 0))
        self.classes.blockSignals(False)

    @property
    def target(self) -> int | None:
        return self.classes.currentData()

    def show_results(self, results: list, picture: np.ndarray, source: str, note: str = "") -> None:
        self.results, self.input = results, picture
        self.message.setText(note)
        first = results[0]
        self.title.setText(
            f"{first.title.split(' for ')[-1].capitalize()} for {source}; "
            f"the model's scores: {_scores(first.scores)}"
        )
        tiles, captions = [], []
        for r in results:
            name = "Grad-CAM" if r.method == "grad-cam" else "saliency"
            tiles += [picture, heat_colors(r.heat), overlay(picture, r.heat)]
            flat = " (flat: empty)" if r.peak == 0 else ""
            captions += ["input", f"{name}{flat}", f"{name} over the image"]
        self.grid.show_tiles(tiles, 3, captions=captions, min_px=160)

    def show_message(self, text: str) -> None:
        self.results = []
        self.title.setText("")
        self.grid.clear()
        self.message.setText(text)

    def picture(self):
        if not self.results:
            return None
        from PIL import Image

        parts = [render_attribution(r, self.input) for r in self.results]
        width = max(p.width for p in parts)
        out = Image.new("RGB", (width, sum(p.height for p in parts)), (255, 255, 255))
        y = 0
        for p in parts:
            out.paste(p, (0, y))
            y += p.height
        return out


def _scores(scores: np.ndarray, top: int = 3) -> str:
    order = np.argsort(-scores)[:top]
    return ", ".join(f"{int(i)}: {scores[i]:.2f}" for i in order)


class ConfusionView(QWidget):
    """The run's confusion matrix on the test split; a click on a cell shows its images."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.confusion = None
        self.predicted = None
        self.labels = None
        self.shown = None
        self.pending_cell: tuple[int, int] | None = None  # shown once the matrix is computed
        self.progress = ProgressRow("Compute confusion matrix")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.message = message_label()
        self.table = QTableWidget()
        self.table.setObjectName("confusion-table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellClicked.connect(self.show_cell)
        self.cell_title = QLabel("Click a cell to see its test images.")
        self.cell_title.setWordWrap(True)
        self.cell = TileGrid()
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        right = QVBoxLayout()
        right.addWidget(self.cell_title)
        right.addWidget(scrolled(self.cell), 1)
        body.addLayout(right, 1)
        layout.addLayout(body, 1)

    def clear(self, text: str = "") -> None:
        self.confusion = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.cell.clear()
        self.title.setText("")
        self.message.setText(text)

    def show_confusion(self, confusion, predicted, labels, shown) -> None:
        self.confusion, self.predicted, self.labels, self.shown = (
            confusion,
            predicted,
            labels,
            shown,
        )
        self.message.setText("")
        pending, self.pending_cell = self.pending_cell, None
        m = confusion.matrix
        k = len(confusion.classes)
        self.title.setText(
            f"accuracy {confusion.accuracy:.1%} on {int(m.sum())} test images; "
            "rows: true class, columns: predicted"
        )
        self.table.setRowCount(k)
        self.table.setColumnCount(k)
        self.table.setHorizontalHeaderLabels(confusion.classes)
        self.table.setVerticalHeaderLabels(confusion.classes)
        rows = m.sum(axis=1)
        from PySide6.QtGui import QBrush, QColor

        for i in range(k):
            for j in range(k):
                item = QTableWidgetItem(str(int(m[i, j])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                frac = m[i, j] / rows[i] if rows[i] else 0.0
                color = [int(255 + (c - 255) * frac) for c in (33, 102, 172)]
                item.setBackground(QBrush(QColor(*color)))
                item.setForeground(
                    QBrush(QColor(255, 255, 255) if frac > 0.5 else QColor(20, 20, 20))
                )
                self.table.setItem(i, j, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if pending is not None:
            self.show_cell(*pending)

    def cell_images(self, row: int, column: int) -> list[int]:
        """Test images of true class `row` predicted as `column`."""
        hits = (self.labels == row) & (self.predicted == column)
        return [int(i) for i in np.flatnonzero(hits)]

    def show_cell(self, row: int, column: int) -> None:
        if self.confusion is None:
            return
        images = self.cell_images(row, column)
        names = self.confusion.classes
        kind = "correct" if row == column else "misclassified"
        self.cell_title.setText(
            f"{len(images)} {kind} test image(s): true {names[row]}, "
            f"predicted {names[column]}" + (" (first 64)" if len(images) > 64 else "")
        )
        tiles = [as_picture(self.shown[i]) for i in images[:64]]
        self.cell.show_tiles(tiles, 8, captions=[f"#{i}" for i in images[:64]], min_px=48)

    def picture(self):
        return render_confusion(self.confusion, "test") if self.confusion is not None else None


class GradientsView(QWidget):
    """The gradient check of a node: passed, or the worst mismatch."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result = None
        self.button = QPushButton("Check gradients")
        self.button.setToolTip(
            "torch.autograd.gradcheck in float64 on a small random input of "
            "the node's input shape, w.r.t. the input and every parameter"
        )
        self.busy = QProgressBar()
        self.busy.setRange(0, 1)
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(160)
        self.text = message_label()
        self.text.setObjectName("gradient-result")
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.busy)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.text)
        layout.addStretch(1)

    def set_running(self, running: bool, name: str = "") -> None:
        self.button.setEnabled(not running)
        self.busy.setRange(0, 0 if running else 1)
        if running:
            self.text.setText(f"checking the gradients of {name}…")

    def show_result(self, result) -> None:
        self.result = result
        mark = "✔" if result.passed else "✘"
        self.text.setText(f"{mark} {result.summary}")

    def show_message(self, text: str) -> None:
        self.result = None
        self.text.setText(text)

    def picture(self):
        if self.result is None:
            return None
        from PIL import Image, ImageDraw

        from designer.viz.render import _font

        font = _font()
        text = self.result.summary
        width = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)[2]
        img = Image.new("RGB", (width + 16, 32), (255, 255, 255))
        ImageDraw.Draw(img).text((8, 10), text, fill=(20, 20, 20), font=font)
        return img
