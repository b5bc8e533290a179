"""Pictures for the Inspect views: numpy tiles (H x W or H x W x ch in 0..1, NaN = outside the
image) as crisp pixmaps, a grid of them that reports clicks, and a value-scale legend."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from designer.viz.render import to_rgb8

MIN_TILE = 64  # a 5x5 kernel is shown 65 pixels across (13 screen pixels per weight)
MAX_TILE = 160


def tile_factor(h: int, w: int, min_px: int = MIN_TILE, max_px: int = MAX_TILE) -> int:
    """The integer upscale that makes a tile at least `min_px` (at most `max_px`) across."""
    longest = max(h, w, 1)
    return max(1, min(math.ceil(min_px / longest), max(1, max_px // longest)))


def tile_pixmap(tile: np.ndarray, factor: int | None = None) -> QPixmap:
    """A tile upscaled with nearest-neighbour by `factor` (default: tile_factor)."""
    rgb = np.ascontiguousarray(to_rgb8(tile))
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    f = factor or tile_factor(h, w)
    return QPixmap.fromImage(image).scaled(
        w * f, h * f, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation
    )


def outlined(tile: np.ndarray, box: tuple[int, int, int, int], size: int = 224) -> QPixmap:
    """A whole image with a box (top, left, bottom, right in its pixels) outlined; the box is
    clipped to the image, as far as it reaches."""
    h, w = tile.shape[:2]
    factor = max(1, size // max(h, w))
    pix = tile_pixmap(tile, factor)
    top, left, bottom, right = box
    top, left = max(top, 0), max(left, 0)
    bottom, right = min(bottom, h), min(right, w)
    painter = QPainter(pix)
    painter.setPen(QPen(QColor(255, 64, 32), 2))
    painter.drawRect(
        QRect(
            left * factor,
            top * factor,
            max(1, (right - left) * factor) - 1,
            max(1, (bottom - top) * factor) - 1,
        )
    )
    painter.end()
    return pix


class _Tile(QLabel):
    clicked = Signal(int)

    def __init__(self, index: int, parent=None) -> None:
        super().__init__(parent)
        self.index = index
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.index)
        super().mousePressEvent(event)


class TileGrid(QWidget):
    """Tiles in rows of `columns`, each with an optional caption, rows with optional labels."""

    tile_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        self.tiles: list[_Tile] = []

    def clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        self.tiles = []

    def show_tiles(
        self,
        tiles: list[np.ndarray | None],
        columns: int,
        *,
        captions: list[str] | None = None,
        row_labels: list[str] | None = None,
        min_px: int = MIN_TILE,
        clickable: bool = False,
    ) -> None:
        self.clear()
        shown = [t for t in tiles if t is not None]
        if not shown:
            return
        h = max(t.shape[0] for t in shown)
        w = max(t.shape[1] for t in shown)
        factor = tile_factor(h, w, min_px)
        first = 1 if row_labels else 0
        for i, tile in enumerate(tiles):
            r, c = divmod(i, columns)
            if row_labels and c == 0 and r < len(row_labels):
                label = QLabel(row_labels[r])
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.grid.addWidget(label, 2 * r, 0)
            cell = _Tile(i)
            if tile is not None:
                cell.setPixmap(tile_pixmap(tile, factor))
                if clickable:
                    cell.setCursor(Qt.CursorShape.PointingHandCursor)
                    cell.clicked.connect(self.tile_clicked)
            self.grid.addWidget(cell, 2 * r, first + c)
            self.tiles.append(cell)
            if captions and i < len(captions) and captions[i]:
                caption = QLabel(captions[i])
                caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                caption.setObjectName("tile-caption")
                self.grid.addWidget(caption, 2 * r + 1, first + c)
        self.grid.setRowStretch(2 * math.ceil(len(tiles) / columns) + 1, 1)
        self.grid.setColumnStretch(first + columns, 1)


class ScaleLegend(QWidget):
    """A colour ramp with the values at its ends (and a note)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.low = QLabel()
        self.ramp = QLabel()
        self.high = QLabel()
        self.note = QLabel()
        self.note.setWordWrap(True)
        for w in (self.low, self.ramp, self.high):
            row.addWidget(w)
        row.addWidget(self.note, 1)

    def show_scale(self, ramp: np.ndarray, low: str, high: str, note: str = "") -> None:
        """`ramp`: a 1 x N (x 3) strip of 0..1 values or colours."""
        strip = np.repeat(np.asarray(ramp, dtype=np.float32)[:1], 12, axis=0)
        self.ramp.setPixmap(
            tile_pixmap(strip, 1).scaled(
                160,
                12,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self.low.setText(low)
        self.high.setText(high)
        self.note.setText(note)
