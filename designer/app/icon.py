"""The application icon, drawn in code (three layers feeding one node) so nothing extra ships."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 64, 128, 256):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 64.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2f6fdb"))
        p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 12 * s, 12 * s)
        p.setPen(QPen(QColor("white"), max(1.0, 3 * s)))
        top = [QPointF(x * s, 18 * s) for x in (16, 32, 48)]
        bottom = QPointF(32 * s, 46 * s)
        for t in top:
            p.drawLine(t, bottom)
        p.setBrush(QColor("white"))
        for c in top + [bottom]:
            p.drawEllipse(c, 6 * s, 6 * s)
        p.end()
        icon.addPixmap(pm)
    return icon
