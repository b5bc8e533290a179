"""Mouse modes of the canvas, one object each (as orange-canvas-core does), so the scene stays a
thin dispatcher: dragging a connection from a port, and rubber-band selection on empty space.

An interaction never edits the design: a finished connection drag asks the scene to emit
`connect_requested`, and the editor decides."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from designer.app.canvas import style
from designer.app.canvas.items import EdgeItem, HintItem, NodeItem, TempEdgeItem
from designer.core.design import Edge

if TYPE_CHECKING:
    from designer.app.canvas.scene import GraphScene


class Interaction:
    """A mouse mode; the scene forwards events while it is active. Handlers return True when
    they consumed the event."""

    def __init__(self, scene: GraphScene):
        self.scene = scene

    def mouse_move(self, event) -> bool:
        return False

    def mouse_release(self, event) -> bool:
        return False

    def key_press(self, event) -> bool:
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        self.finish()

    def finish(self) -> None:
        self.cleanup()
        self.scene.end_interaction(self)

    def cleanup(self) -> None:
        pass


class ConnectDrag(Interaction):
    """Drag from an output port to an input port (or the other way round). With `existing`
    (the edge item whose end was picked up at its input port) the drag moves that end:
    released on another port it reconnects, released off any port it disconnects."""

    def __init__(
        self,
        scene: GraphScene,
        item: NodeItem,
        kind: str,
        port: str,
        existing: EdgeItem | None = None,
    ):
        super().__init__(scene)
        self.item = item
        self.from_output = kind == "out"
        self.port = port
        self.existing = existing
        if existing is not None:
            existing.setVisible(False)
        offset = item.out_port_offset() if self.from_output else item.in_port_offset(port)
        self.line = TempEdgeItem(item.pos() + offset, self.from_output)
        self.line.move_to(item.pos() + offset)
        scene.addItem(self.line)
        self.hint = HintItem()
        self.hint.setVisible(False)
        scene.addItem(self.hint)
        self.target: tuple[NodeItem, str] | None = None

    def edge_to(self, target: tuple[NodeItem, str]) -> Edge:
        other, port = target
        if self.from_output:
            return Edge(self.item.node_id, other.node_id, port)
        return Edge(other.node_id, self.item.node_id, self.port)

    def _target_at(self, pos: QPointF) -> tuple[NodeItem, str] | None:
        area = QRectF(
            pos.x() - style.PORT_HIT,
            pos.y() - style.PORT_HIT,
            2 * style.PORT_HIT,
            2 * style.PORT_HIT,
        )
        for it in self.scene.items(area):
            if not isinstance(it, NodeItem) or it is self.item:
                continue
            local = it.mapFromScene(pos)
            hit = it.port_at(local)
            if self.from_output:
                if hit and hit[0] == "in":
                    return it, hit[1]
                if it.contains(local) and it.view.in_ports:  # dropped on the body: first free port
                    taken = {e.edge.dst_port for e in it.edges if e.dst is it}
                    free = [p for p in it.view.in_ports if p not in taken]
                    return it, (free or list(it.view.in_ports))[0]
            elif it.contains(local) and it.view.has_output:
                return it, "out"
        return None

    def _set_target(self, target, reason: str | None) -> None:
        if self.target and (target is None or target[0] is not self.target[0]):
            self.target[0].highlight = None
            self.target[0].update()
        self.target = target
        if target is None:
            self.line.color = style.UNKNOWN_PORT
            if self.existing is not None:  # say what letting go here does
                self.hint.set_text("release to disconnect", style.UNKNOWN_PORT)
            self.hint.setVisible(self.existing is not None)
            return
        color = style.ERROR if reason else style.VALID_TARGET
        target[0].highlight = color
        target[0].update()
        self.line.color = color
        self.hint.set_text(
            reason
            or f"connect to {target[0].view.name}"
            + (f" ({target[1]})" if len(target[0].view.in_ports) > 1 else ""),
            color,
        )
        self.hint.setVisible(True)

    def mouse_move(self, event) -> bool:
        pos = event.scenePos()
        self.line.move_to(pos)
        target = self._target_at(pos)
        if (
            target is not None
            and self.existing is not None
            and self.edge_to(target) == self.existing.edge
        ):
            reason = None  # back where it was
        else:
            reason = self.scene.connection_problem(self.edge_to(target)) if target else None
        self._set_target(target, reason)
        self.hint.setPos(pos + QPointF(14, 10))
        return True

    def mouse_release(self, event) -> bool:
        target = self._target_at(event.scenePos())
        existing = self.existing.edge if self.existing is not None else None
        self.finish()
        if existing is not None:
            if target is None:
                self.scene.disconnect_requested.emit(existing)
            elif self.edge_to(target) != existing:
                self.scene.reconnect_requested.emit(existing, self.edge_to(target))
        elif target is not None:
            edge = self.edge_to(target)
            self.scene.connect_requested.emit(edge.src, edge.dst, edge.dst_port)
        return True

    def cleanup(self) -> None:
        if self.existing is not None and shiboken6.isValid(self.existing):
            self.existing.setVisible(True)  # the model's signals remove it if it went
        if self.target:
            self.target[0].highlight = None
            self.target[0].update()
        for it in (self.line, self.hint):
            if it.scene() is self.scene:
                self.scene.removeItem(it)


class RubberBandSelect(Interaction):
    """Drag on empty canvas: select the nodes the band touches (Ctrl/Shift adds to the
    selection)."""

    def __init__(self, scene: GraphScene, origin: QPointF, additive: bool):
        super().__init__(scene)
        self.origin = origin
        self.keep = set(scene.selectedItems()) if additive else set()
        highlight = scene.palette().color(QPalette.ColorRole.Highlight)
        fill = QColor(highlight)
        fill.setAlpha(40)
        self.band = QGraphicsRectItem(QRectF(origin, origin))
        self.band.setPen(QPen(highlight, 0))
        self.band.setBrush(fill)
        self.band.setZValue(30)
        scene.addItem(self.band)

    def mouse_move(self, event) -> bool:
        rect = QRectF(self.origin, event.scenePos()).normalized()
        self.band.setRect(rect)
        path = QPainterPath()
        path.addRect(rect)
        hits = {
            it
            for it in self.scene.items(path, Qt.ItemSelectionMode.IntersectsItemShape)
            if isinstance(it, NodeItem)
        }
        self.scene.set_selection(hits | self.keep)
        return True

    def mouse_release(self, event) -> bool:
        self.finish()
        return True

    def cleanup(self) -> None:
        if self.band.scene() is self.scene:
            self.scene.removeItem(self.band)
