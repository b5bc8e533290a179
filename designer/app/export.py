"""Export: the design as a standalone PyTorch file, and the canvas as a PNG or SVG diagram."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from designer.app.canvas.items import OverviewLabel
from designer.core.atomic import atomic_path, atomic_write_text
from designer.core.design import Design

MARGIN = 24.0


def export_python(design: Design, path: str) -> str:
    """Write the generated source; raises CodegenError listing the problems of an invalid design."""
    from designer.codegen import generate

    code = generate(design)
    atomic_write_text(path, code.source)
    return code.class_name


def _drawing_rect(scene) -> QRectF:
    return scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    selected = scene.selectedItems()
    for it in selected:  # a diagram shows the design, not the selection
        it.setSelected(False)
    # Painted afresh, not from the screen's pixmap caches (an SVG keeps names as text), and
    # without the zoomed-out view's name tags (the diagram is drawn in full detail).
    cached = [
        (it, it.cacheMode())
        for it in scene.items()
        if it.cacheMode() != QGraphicsItem.CacheMode.NoCache
    ]
    tags = [it for it in scene.items() if isinstance(it, OverviewLabel) and it.isVisible()]
    for it, _ in cached:
        it.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    for it in tags:
        it.setVisible(False)
    try:
        painter.fillRect(target, scene.palette().color(QPalette.ColorRole.Base))
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        for it in selected:
            it.setSelected(True)
        for it, mode in cached:
            it.setCacheMode(mode)
        for it in tags:
            it.setVisible(True)


def render_image(scene, scale: float = 2.0) -> QImage:
    source = _drawing_rect(scene)
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    return image


def _save_bytes(path: str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def export_png(scene, path: str, scale: float = 2.0) -> None:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not render_image(scene, scale).save(buffer, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    _save_bytes(path, bytes(buffer.data()))


def export_svg(scene, path: str, title: str = "") -> None:
    source = _drawing_rect(scene)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    gen.setSize(QSize(round(source.width()), round(source.height())))
    gen.setViewBox(QRectF(0, 0, source.width(), source.height()))
    gen.setTitle(title)
    gen.setDescription("Network Designer diagram")
    painter = QPainter(gen)
    _render(scene, painter, QRectF(0, 0, source.width(), source.height()), source)
    painter.end()
    _save_bytes(path, bytes(buffer.data()))
