"""A node's live preview, drawn in the right end of its box: the input picture or a mosaic of
feature maps (pixels shown crisp, as they are), bars of a vector, the class probabilities with
the predicted label at the head, or why there is no preview. Hidden in an overview (zoomed out
until the boxes are plain), where it would be specks."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGraphicsItem

from designer.app.canvas import style
from designer.app.canvas.style import NODE_H, NODE_W

THUMB = 50.0  # the preview's square, in scene units (the box is 58 high)
MARGIN = (NODE_H - THUMB) / 2
TOP_CLASSES = 10  # a head with more classes shows its most probable ones


def preview_image(pixels) -> QImage:
    """H x W x 3 floats in 0..1 (NaN: the gaps of a mosaic) -> a QImage that owns its data."""
    import numpy as np  # here, not at start-up: previews come after torch and numpy

    from designer.viz.render import to_rgb8

    rgb = np.ascontiguousarray(to_rgb8(pixels))
    gaps = np.isnan(pixels).any(axis=2)
    rgb[gaps] = (255, 255, 255)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def tooltip(preview) -> str:
    if preview.kind == "none":
        return f"No preview: {preview.reason}"
    what = {
        "image": "the pinned sample",
        "maps": "the first feature maps, one shared scale (black low, white high)",
        "bars": "the output values, scaled to the largest",
        "classes": "class probabilities; the predicted class is highlighted",
    }[preview.kind]
    return f"Preview: {preview.caption} ({what})"


class PreviewItem(QGraphicsItem):
    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setPos(NODE_W / 2 - MARGIN - THUMB, -THUMB / 2)
        self.setZValue(1)  # under the problem badge
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks select the node
        self.preview = None
        self.image: QImage | None = None

    def show_preview(self, preview, image: QImage | None) -> None:
        if preview is self.preview:
            return
        self.preview, self.image = preview, image
        self.setToolTip(tooltip(preview))
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -1, THUMB + 2, THUMB + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < style.DETAIL_LOD:
            return
        p = self.preview
        if p is None:
            return
        scene = self.scene()
        pal = scene.palette() if scene is not None else option.palette
        box = QRectF(0, 0, THUMB, THUMB)
        if p.kind in ("image", "maps") and self.image is not None:
            self._paint_pixels(painter, box, pal)
        elif p.kind == "bars":
            self._paint_bars(painter, box, pal, p.values)
        elif p.kind == "classes":
            self._paint_classes(painter, box, pal)
        else:
            self._paint_reason(painter, box, pal)

    def _frame(self, painter: QPainter, box: QRectF, pal: QPalette) -> None:
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box.adjusted(-0.5, -0.5, 0.5, 0.5))

    def _paint_pixels(self, painter: QPainter, box: QRectF, pal: QPalette) -> None:
        w, h = self.image.width(), self.image.height()
        scale = min(THUMB / w, THUMB / h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(box.center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels
        painter.drawImage(target, self.image)
        self._frame(painter, target, pal)

    def _paint_bars(self, painter, box: QRectF, pal: QPalette, values, chosen=None) -> None:
        painter.fillRect(box, pal.color(QPalette.ColorRole.AlternateBase))
        n = len(values)
        if n:
            signed = bool((values < 0).any())
            base = box.center().y() if signed else box.bottom()
            half = box.height() / 2 if signed else box.height()
            step = box.width() / n
            for i, v in enumerate(values):
                color = (
                    style.VECTOR_PORT if i != chosen else pal.color(QPalette.ColorRole.Highlight)
                )
                height = float(v) * (half - 1)
                bar = QRectF(box.left() + i * step, base - max(height, 0), max(step - 1, 1), 0)
                bar.setHeight(abs(height))
                painter.fillRect(bar, color)
        self._frame(painter, box, pal)

    def _paint_classes(self, painter: QPainter, box: QRectF, pal: QPalette) -> None:
        p = self.preview
        probs, chosen = p.values, p.predicted
        if len(probs) > TOP_CLASSES:
            order = (-probs).argsort()[:TOP_CLASSES]
            probs, chosen = probs[order], 0
        text_h = 13.0
        self._paint_bars(painter, box.adjusted(0, text_h, 0, 0), pal, probs, chosen)
        font = QFont(style.fonts()[2])
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        label = style.metrics(2).elidedText(p.caption, Qt.TextElideMode.ElideRight, THUMB + 4)
        painter.drawText(QRectF(-2, 0, THUMB + 4, text_h), int(Qt.AlignmentFlag.AlignCenter), label)

    def _paint_reason(self, painter: QPainter, box: QRectF, pal: QPalette) -> None:
        muted = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        painter.setPen(QPen(muted, 1, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box)
        font = QFont(style.fonts()[2])
        font.setPointSizeF(6.5)
        painter.setFont(font)
        blocked = self.preview.blocked  # the cause is upstream, where it is written out
        painter.setPen(muted if blocked else QColor(style.ERROR))
        painter.drawText(
            box.adjusted(2, 2, -2, -2),
            int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
            "no input" if blocked else _short(self.preview.reason or "no preview"),
        )


def _short(reason: str) -> str:
    """The first words of the reason that fit the square; the tooltip has all of it."""
    words = reason.split()
    return " ".join(words[:7]) + (" …" if len(words) > 7 else "")
