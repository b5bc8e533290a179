"""The sample strip under the canvas: the first test images of the design's data, the pinned
one framed; a click pins another. Its tiles are made when the images arrive (the tile code
needs torch, which the app loads only after its window is up)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

TILE_PX = 48  # sample tiles are at least (small images) or at most this many pixels


class SampleStrip(QWidget):
    picked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("preview-strip")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 8, 2)
        self.label = QLabel("Previews: loading the sample images…")
        self.label.setObjectName("preview-strip-label")
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(220)
        self.label.setMaximumWidth(380)
        row.addWidget(self.label)
        self.row = row
        self.grid = None  # a designer.app.inspect.tiles.TileGrid, once there are images
        self.chosen = 0
        self.weights = "fresh, untrained weights"  # which weights the previews show

    def show_samples(self, samples, chosen: int, count: int, weights: str = "") -> None:
        from designer.app.inspect.tiles import TileGrid
        from designer.viz.display import as_picture

        if self.grid is None:
            self.grid = TileGrid(self)
            self.grid.grid.setContentsMargins(0, 0, 0, 0)
            self.grid.tile_clicked.connect(self.picked)
            self.row.addWidget(self.grid, 1)
        import torch.nn.functional as F

        n = min(count, len(samples.x))
        shown = samples.shown[:n]
        h, w = shown.shape[-2:]
        if max(h, w) > TILE_PX:  # ResNet's 224 x 224: a strip of thumbnails, not of images
            size = (max(1, round(h * TILE_PX / max(h, w))), max(1, round(w * TILE_PX / max(h, w))))
            shown = F.interpolate(shown, size=size, mode="area")
        tiles = [as_picture(shown[i]) for i in range(n)]
        self.grid.show_tiles(tiles, n, min_px=TILE_PX, clickable=True)
        for tile in self.grid.tiles:
            tile.setToolTip(f"Test image {tile.index}: {self._class_of(samples, tile.index)}")
            tile.setFrameShape(QFrame.Shape.Box)
            tile.setLineWidth(2)
        self.mark(samples, chosen, weights)

    def mark(self, samples, chosen: int, weights: str = "") -> None:
        """Frame the pinned tile (a palette change: a style sheet would re-polish the strip)
        and say which sample and weights the previews show."""
        self.chosen = chosen
        self.weights = weights or self.weights
        if self.grid is not None:
            for tile in self.grid.tiles:
                pal = tile.palette()
                role = (
                    QPalette.ColorRole.Highlight
                    if tile.index == chosen
                    else QPalette.ColorRole.Window
                )
                pal.setColor(QPalette.ColorRole.WindowText, self.palette().color(role))
                tile.setPalette(pal)
        instead = " instead of the design's data (hover)" if samples.note else ""
        self.label.setText(
            f"Previews: test image {chosen} of {samples.name}{instead} (class "
            f"{self._class_of(samples, chosen)}), {self.weights}. Click an image to pin it."
        )
        self.label.setToolTip(f"Showing {samples.note}" if samples.note else "")

    def show_problem(self, message: str) -> None:
        self.label.setText(f"Previews: no sample images: {message}")
        if self.grid is not None:
            self.grid.clear()

    @staticmethod
    def _class_of(samples, i: int) -> str:
        label = int(samples.y[i])
        return samples.classes[label] if label < len(samples.classes) else str(label)
