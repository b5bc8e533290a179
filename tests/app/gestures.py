"""Real mouse gestures on the canvas viewport (QTest press / move / release)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def to_view(window, scene_point: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_point)


def port_point(window, node_id: str, kind: str, port: str = "in") -> QPoint:
    item = window.scene.node_items[node_id]
    offset = item.out_port_offset() if kind == "out" else item.in_port_offset(port)
    return to_view(window, item.pos() + offset)


def node_point(window, node_id: str) -> QPoint:
    return to_view(window, window.scene.node_items[node_id].pos() + QPointF(-30, -8))


def drag(
    window, start: QPoint, end: QPoint, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier
) -> None:
    vp = window.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        t = i / steps
        QTest.mouseMove(
            vp,
            QPoint(
                round(start.x() + (end.x() - start.x()) * t),
                round(start.y() + (end.y() - start.y()) * t),
            ),
        )
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, end)


def click(window, point: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def double_click(window, point: QPoint) -> None:
    QTest.mouseDClick(
        window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )


def next_turn() -> None:
    """Let the event loop finish its turn: after an edit the panels refresh once, at its end."""
    QApplication.processEvents()
