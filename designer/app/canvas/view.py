"""The canvas view: zoom (Ctrl+wheel, pinch, keyboard), pan (wheel, middle button, Space+drag,
arrow keys), fit, a dot grid, and drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGraphicsView, QLabel

from designer.app.mime import read_layer_mime
from designer.app.theme import is_dark_palette

GRID = 30.0


class CanvasView(QGraphicsView):
    layer_dropped = Signal(str, str, QPointF)  # layer type, custom block name, scene position
    zoom_changed = Signal(float)
    MIN_ZOOM, MAX_ZOOM = 0.02, 4.0
    READABLE_ZOOM = 0.6  # below this, node text is too small to read at normal DPI

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setAcceptDrops(True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self._pan_from: QPointF | None = None
        self._space = False
        self.toast = QLabel(self.viewport())
        self.toast.setWordWrap(True)
        self.toast.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.toast.setStyleSheet(
            "background: rgba(30, 30, 34, 225); color: white; "
            "border-radius: 6px; padding: 6px 12px;"
        )
        self.toast.hide()
        self._toast_timer = QTimer(self)
        self._toast_timer.setSingleShot(True)
        self._toast_timer.timeout.connect(self.toast.hide)
        self.zoom_changed.connect(self._follow_zoom)

    def _follow_zoom(self, zoom: float) -> None:
        scene = self.scene()
        if scene is not None and hasattr(scene, "set_zoom_level"):
            scene.set_zoom_level(zoom)

    def show_message(self, text: str, ms: int = 5000) -> None:
        """A short note at the bottom of the canvas, where the eyes are (refused connections)."""
        self.toast.setText(text)
        width = min(self.viewport().width() - 40, 560)
        self.toast.setFixedWidth(max(width, 120))
        self.toast.adjustSize()
        self.toast.move(
            (self.viewport().width() - self.toast.width()) // 2,
            self.viewport().height() - self.toast.height() - 16,
        )
        self.toast.show()
        self.toast.raise_()
        self._toast_timer.start(ms)

    # -- zoom --------------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float) -> None:
        zoom = max(self.MIN_ZOOM, min(self.MAX_ZOOM, zoom))
        factor = zoom / self.zoom()
        if abs(factor - 1) > 1e-9:
            self.scale(factor, factor)
            self.zoom_changed.emit(self.zoom())

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def zoom_in(self) -> None:
        self._centred(lambda: self.zoom_by(1.25))

    def zoom_out(self) -> None:
        self._centred(lambda: self.zoom_by(0.8))

    def reset_zoom(self) -> None:
        self._centred(lambda: self.set_zoom(1.0))

    def _centred(self, change) -> None:
        """Keyboard zoom keeps the view centre still (the mouse may be anywhere)."""
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        try:
            change()
        finally:
            self.setTransformationAnchor(anchor)

    def fit_all(self, max_zoom: float = 1.0) -> None:
        rect = self.scene().itemsBoundingRect()
        if rect.isNull():
            return
        self.fitInView(rect.adjusted(-30, -30, 30, 30), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > max_zoom:
            self.set_zoom(max_zoom)
        self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    def show_drawing(self) -> None:
        """What a newly opened design shows: all of it, or for a big one its top at a readable
        zoom (an overview of 700 boxes is not where work starts)."""
        self.fit_all()
        rect = self.scene().itemsBoundingRect()
        if rect.isNull() or self.zoom() >= self.READABLE_ZOOM:
            return
        self.resetTransform()
        self.set_zoom(0.85)
        half_w = self.viewport().width() / 2 / self.zoom()
        half_h = self.viewport().height() / 2 / self.zoom()
        x = rect.center().x() if rect.width() + 60 <= 2 * half_w else rect.left() - 30 + half_w
        self.centerOn(QPointF(x, rect.top() - 30 + half_h))  # the top left: where it starts
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            self.zoom_by(1.15**steps)
            event.accept()
            return
        super().wheelEvent(event)

    def viewportEvent(self, event) -> bool:
        if (
            event.type() == QEvent.Type.NativeGesture
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            self.zoom_by(1.0 + event.value())
            return True
        return super().viewportEvent(event)

    # -- pan ---------------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(
                self.horizontalScrollBar().value() - round(delta.x())
            )
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            if self._space:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- drops from the palette ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if read_layer_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        layer = read_layer_mime(event.mimeData())
        if layer is None:
            event.ignore()
            return
        event.acceptProposedAction()
        pos = self.mapToScene(event.position().toPoint())
        self.layer_dropped.emit(layer[0], layer[1], pos)

    def changeEvent(self, event) -> None:
        # The scene does not follow a new application palette by itself (light/dark switch).
        if (
            event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
            and self.scene() is not None
        ):
            self.scene().setPalette(self.palette())
            for item in self.scene().items():  # drop cached paintings in the old colours
                item.update()
        super().changeEvent(event)

    # -- background --------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Window)
        bg = bg.lighter(112) if is_dark_palette(pal) else bg.darker(104)
        painter.fillRect(rect, bg)
        if self.zoom() < 0.5:
            return
        dot = QColor(pal.color(QPalette.ColorRole.Text))
        dot.setAlphaF(0.18)
        painter.setPen(QPen(dot, 1.5 / self.zoom()))
        left = int(rect.left() // GRID) * GRID
        top = int(rect.top() // GRID) * GRID
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += GRID
            y += GRID
        painter.drawPoints(points)
