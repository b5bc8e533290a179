"""Geometry and colours of canvas items, shared by items, interactions and exports."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QFont, QFontMetricsF

NODE_W = 180.0
NODE_H = 58.0
PORT_R = 5.0
PORT_HIT = 11.0  # how close (scene units at 100%) a press must be to grab a port
DETAIL_LOD = 0.45  # below this zoom nodes are drawn as plain boxes (700-node overviews)

# One hue per palette category; chosen to read on both light and dark backgrounds.
CATEGORY_COLORS = {
    "Input / output": "#7f8c8d",
    "Convolution": "#2f80ed",
    "Pooling": "#00a3a3",
    "Linear": "#8e44ad",
    "Activation": "#e67e22",
    "Normalization": "#27ae60",
    "Regularization": "#95a5a6",
    "Merge": "#d4a017",
    "Shift / scale": "#c0392b",
    "Blocks": "#d6336c",
}
ERROR = QColor("#e03131")
VALID_TARGET = QColor("#2b8a3e")
IMAGE_PORT = QColor("#2f80ed")  # ports carrying C x H x W tensors
VECTOR_PORT = QColor("#8e44ad")  # ports carrying N features
UNKNOWN_PORT = QColor("#868e96")


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#6c757d"))


def port_color(shape: tuple | None) -> QColor:
    if shape is None:
        return UNKNOWN_PORT
    return IMAGE_PORT if len(shape) == 3 else VECTOR_PORT


@cache
def fonts() -> tuple[QFont, QFont, QFont, QFont]:
    """(title, detail, edge label, overview name) fonts; made on first paint, once a
    QApplication exists. The overview font is drawn at screen size, whatever the zoom."""
    title = QFont()
    title.setPointSizeF(9.5)
    title.setBold(True)
    detail = QFont()
    detail.setPointSizeF(8.5)
    label = QFont()
    label.setPointSizeF(7.5)
    overview = QFont()
    overview.setPointSizeF(7.5)
    return title, detail, label, overview


@cache
def metrics(which: int) -> QFontMetricsF:
    return QFontMetricsF(fonts()[which])
