"""Canvas items: a node box with typed ports and a problem badge, and an edge carrying a shape
label.

Items show what the scene tells them (a NodeView) and never touch the design; dragging moves the
item only, and the scene turns the finished drag into a command through the editor."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyle, QStyleOptionGraphicsItem

from designer.app.canvas import style
from designer.app.canvas.preview_item import THUMB, PreviewItem
from designer.app.canvas.style import NODE_H, NODE_W, PORT_HIT, PORT_R

Shape = tuple[int, ...]
EDGE_LABEL_DROP = 15.0
EDGE_PICK = 16.0  # width of the band around an edge that a click selects it in
EDGE_TURN = 18.0  # how far an edge going up leaves and enters its ports vertically
LONG_EDGE = 90.0  # edges taller than this (rows apart) run down their lane, then curve in


@dataclass(frozen=True)
class NodeView:
    """Everything a node item shows; built from the model and the latest analysis."""

    name: str
    subtitle: str  # type and key params
    shape: str  # output shape text ("?" when unknown)
    category: str
    in_ports: tuple[str, ...]
    in_shapes: tuple[Shape | None, ...]  # per input port, the shape it receives
    out_shape: Shape | None
    problems: tuple[str, ...] = ()
    frozen: bool = False
    trained: bool = False  # its weights come from the design's weights file
    opens: bool = False  # a block: double-click shows its inner graph
    has_output: bool = True


def _palette(item: QGraphicsItem, option: QStyleOptionGraphicsItem) -> QPalette:
    """The scene's palette: it follows light/dark switches (the option's copy may not)."""
    scene = item.scene()
    return scene.palette() if scene is not None else option.palette


def _muted(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


class ProblemBadge(QGraphicsItem):
    """The red mark on a node with problems; its tooltip is the list of messages."""

    R = 8.0

    def __init__(self, parent: NodeItem):
        super().__init__(parent)
        self.setPos(NODE_W / 2 - 4, -NODE_H / 2 + 4)
        self.setZValue(2)
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:
        return QRectF(-self.R - 1, -self.R - 1, 2 * self.R + 2, 2 * self.R + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 1.2))
        painter.setBrush(style.ERROR)
        painter.drawEllipse(QPointF(0, 0), self.R, self.R)
        painter.setFont(style.fonts()[0])
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class OverviewLabel(QGraphicsItem):
    """A node's name beside its box at a constant screen size, shown while the view is zoomed
    out so far that the box's own text is unreadable (a 150-layer design fitted to a window)."""

    def __init__(self, parent: NodeItem):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # cheap while dragging
        self.setPos(NODE_W / 2, 0)
        self.setZValue(3)
        self.setVisible(False)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF()
        self.text = ""

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            m = style.metrics(3)
            self._rect = QRectF(
                3, -m.height() / 2 - 1, m.horizontalAdvance(text) + 6, m.height() + 2
            )
            self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        pal = _palette(self, option)
        back = QColor(pal.color(QPalette.ColorRole.Window))
        back.setAlphaF(0.8)
        painter.fillRect(self._rect, back)
        painter.setFont(style.fonts()[3])
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


_M = PORT_R + 3
NODE_BOUNDS = QRectF(-NODE_W / 2 - _M, -NODE_H / 2 - _M - 10, NODE_W + 2 * _M, NODE_H + 2 * _M + 10)


class NodeItem(QGraphicsItem):
    """One layer or block. Its position is the centre of the box."""

    def __init__(self, node_id: str, view: NodeView, readonly: bool = False):
        super().__init__()
        self.node_id = node_id
        self.edges: set[EdgeItem] = set()
        self.view = view
        self.readonly = readonly
        self.hover_port: tuple[str, str] | None = None
        self.highlight: QColor | None = None  # connect-drag feedback (valid / refused target)
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlag(flags.ItemIsSelectable)
        self.setFlag(flags.ItemIsMovable, not readonly)
        self.setFlag(flags.ItemSendsGeometryChanges)
        # Painted once per zoom level and blitted after: dragging one node over 700 does not
        # repaint the other 699 boxes' text.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.badge = ProblemBadge(self)
        self.overview_label = OverviewLabel(self)
        self.overview_label.set_text(view.name)
        self.name_inside = False  # overview: the name drawn in the box (no room beside it)
        self.preview_item: PreviewItem | None = None  # View > Previews: the node's output
        self._apply_problems()

    # -- data ------------------------------------------------------------------------------------
    def set_view(self, view: NodeView) -> None:
        if view == self.view:
            return
        ports_changed = view.in_ports != self.view.in_ports
        if ports_changed:
            self.prepareGeometryChange()
        self.view = view
        self.overview_label.set_text(view.name)
        self._apply_problems()
        if ports_changed:
            for e in self.edges:
                e.adjust()
        self.update()

    def set_preview(self, preview, image=None) -> None:
        """Show this preview (designer.viz.previews.Preview) in the box; None removes it."""
        if preview is None:
            if self.preview_item is not None:
                self.preview_item.setParentItem(None)
                if self.scene() is not None:
                    self.scene().removeItem(self.preview_item)
                self.preview_item = None
                self.update()
            return
        if self.preview_item is None:
            self.preview_item = PreviewItem(self)
            self.update()  # the text makes room
        self.preview_item.show_preview(preview, image)

    def _apply_problems(self) -> None:
        problems = self.view.problems
        self.badge.setVisible(bool(problems))
        tip = "\n".join(problems)
        self.badge.setToolTip(tip)
        self.setToolTip(tip or f"{self.view.name}: {self.view.subtitle}")

    # -- geometry --------------------------------------------------------------------------------
    def in_port_offset(self, port: str) -> QPointF:
        ports = self.view.in_ports
        i = ports.index(port) if port in ports else -1
        n = len(ports)
        x = 0.0 if i < 0 else -NODE_W / 2 + NODE_W * (i + 1) / (n + 1)
        return QPointF(x, -NODE_H / 2)

    def out_port_offset(self) -> QPointF:
        return QPointF(0.0, NODE_H / 2)

    def port_at(self, local: QPointF) -> tuple[str, str] | None:
        """('out', 'out') or ('in', port name) for a point near a port, in item coordinates."""

        def near(p: QPointF) -> bool:
            d = local - p
            return d.x() * d.x() + d.y() * d.y() <= PORT_HIT * PORT_HIT

        if self.view.has_output and near(self.out_port_offset()):
            return ("out", "out")
        for port in self.view.in_ports:
            if near(self.in_port_offset(port)):
                return ("in", port)
        return None

    def boundingRect(self) -> QRectF:
        return NODE_BOUNDS  # asked thousands of times per frame: one constant

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H), 6, 6)
        for port in self.view.in_ports:
            path.addEllipse(self.in_port_offset(port), PORT_HIT, PORT_HIT)
        if self.view.has_output:
            path.addEllipse(self.out_port_offset(), PORT_HIT, PORT_HIT)
        return path

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for e in self.edges:
                e.adjust()
        return super().itemChange(change, value)

    # -- hover: show which port a press would grab -------------------------------------------------
    def hoverMoveEvent(self, event) -> None:
        port = None if self.readonly else self.port_at(event.pos())
        if port != self.hover_port:
            self.hover_port = port
            self.setCursor(Qt.CursorShape.CrossCursor if port else Qt.CursorShape.ArrowCursor)
            self.update()
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        if self.hover_port:
            self.hover_port = None
            self.unsetCursor()
            self.update()
        super().hoverLeaveEvent(event)

    # -- painting --------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        v = self.view
        pal = _palette(self, option)
        rect = QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H)
        color = style.category_color(v.category)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if self.highlight is not None:
            border = QPen(self.highlight, 3)
        elif selected:
            border = QPen(pal.color(QPalette.ColorRole.Highlight), 2.5)
        elif v.problems:
            border = QPen(style.ERROR, 1.6)
        else:
            border = QPen(pal.color(QPalette.ColorRole.Mid), 1)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < style.DETAIL_LOD:  # an overview: plain boxes, the name beside or inside
            painter.setPen(border if (selected or v.problems) else Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRect(rect)
            if self.name_inside:
                font = QFont(style.fonts()[3])
                font.setPixelSize(max(1, round(style.metrics(3).height() * 0.8 / lod)))
                painter.setFont(font)
                painter.setPen(QColor("white"))
                name = QFontMetricsF(font).elidedText(
                    v.name, Qt.TextElideMode.ElideMiddle, NODE_W - 12
                )
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = pal.color(QPalette.ColorRole.Base)
        fill = QColor(base)
        if v.opens:  # blocks get a tinted body so they stand out from single layers
            fill = _blend(base, color, 0.12)
        painter.setPen(border)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)
        if v.opens:  # a second outline: "there is more inside"
            painter.setPen(QPen(color, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(rect.left() + 1, rect.top() + 1, 6, NODE_H - 2), 3, 3)

        title_font, detail_font, label_font, _ = style.fonts()
        text_left = rect.left() + 14
        room = NODE_W - 24 - (THUMB + 4 if self.preview_item is not None else 0)
        width = room - (14 if v.problems and self.preview_item is None else 0)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.setFont(title_font)
        name = style.metrics(0).elidedText(v.name, Qt.TextElideMode.ElideRight, width)
        painter.drawText(QPointF(text_left, rect.top() + 17), name)
        painter.setFont(detail_font)
        painter.setPen(_muted(pal))
        sub = style.metrics(1).elidedText(v.subtitle, Qt.TextElideMode.ElideRight, room)
        painter.drawText(QPointF(text_left, rect.top() + 33), sub)
        painter.setPen(style.ERROR if v.shape == "?" else pal.color(QPalette.ColorRole.Text))
        painter.drawText(QPointF(text_left, rect.top() + 49), v.shape)
        tags = [t for t, on in (("frozen", v.frozen), ("weights", v.trained)) if on]
        if tags:
            painter.setPen(_muted(pal))
            painter.setFont(label_font)
            painter.drawText(
                QRectF(rect.left(), rect.top() + 38, room + 14, 16),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                " · ".join(tags),
            )
        self._paint_ports(painter, pal, label_font)

    def _paint_ports(self, painter: QPainter, pal: QPalette, label_font) -> None:
        ring = QPen(pal.color(QPalette.ColorRole.Base), 1.5)
        many = len(self.view.in_ports) > 1
        for i, port in enumerate(self.view.in_ports):
            c = self.in_port_offset(port)
            shape = self.view.in_shapes[i] if i < len(self.view.in_shapes) else None
            r = PORT_R + (2 if self.hover_port == ("in", port) else 0)
            painter.setPen(ring)
            painter.setBrush(style.port_color(shape))
            painter.drawEllipse(c, r, r)
            if many:
                painter.setPen(_muted(pal))
                painter.setFont(label_font)
                painter.drawText(QPointF(c.x() + PORT_R + 2, c.y() - 3), str(i + 1))
        if self.view.has_output:
            r = PORT_R + (2 if self.hover_port == ("out", "out") else 0)
            painter.setPen(ring)
            painter.setBrush(style.port_color(self.view.out_shape))
            painter.drawEllipse(self.out_port_offset(), r, r)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() * (1 - t) + b.red() * t),
        round(a.green() * (1 - t) + b.green() * t),
        round(a.blue() * (1 - t) + b.blue() * t),
    )


def edge_path(p1: QPointF, p2: QPointF) -> QPainterPath:
    """From an output port (below a node) to an input port (above one): an S-curve between
    neighbouring rows; a long edge runs straight down its lane (where the layout keeps room
    for it) and curves in at the end; an edge going up (into the next of wrapped columns) goes
    round through the gap between them."""
    dy = p2.y() - p1.y()
    path = QPainterPath(p1)
    if dy < 0:
        mid = (p1.x() + p2.x()) / 2
        below, above = p1.y() + EDGE_TURN, p2.y() - EDGE_TURN
        for x, y in ((p1.x(), below), (mid, below), (mid, above), (p2.x(), above)):
            path.lineTo(x, y)
        path.lineTo(p2)
        return path
    if dy > LONG_EDGE and abs(p2.x() - p1.x()) > 1:
        bend = p2.y() - LONG_EDGE / 2
        path.lineTo(p1.x(), bend - LONG_EDGE / 4)
        p1 = QPointF(p1.x(), bend - LONG_EDGE / 4)
        dy = p2.y() - p1.y()
    c = max(dy * 0.5, 30.0)
    path.cubicTo(QPointF(p1.x(), p1.y() + c), QPointF(p2.x(), p2.y() - c), p2)
    return path


class EdgeItem(QGraphicsItem):
    """A connection; it follows its nodes and shows the shape of the tensor it carries."""

    def __init__(self, edge, src: NodeItem, dst: NodeItem):
        super().__init__()
        self.edge = edge
        self.src = src
        self.dst = dst
        self.label = ""
        self.shape_value: Shape | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        # Blitted while another node is dragged; only the moved node's edges are repainted.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._label_rect = QRectF()
        self._pick: QPainterPath | None = None
        src.edges.add(self)
        dst.edges.add(self)
        self.adjust()

    def detach(self) -> None:
        self.src.edges.discard(self)
        self.dst.edges.discard(self)

    def set_label(self, shape: Shape | None, text: str) -> None:
        self.shape_value = shape
        if text != self.label:
            self.label = text
            self.adjust()

    def adjust(self) -> None:
        self.prepareGeometryChange()
        p1 = self.src.pos() + self.src.out_port_offset()
        p2 = self.dst.pos() + self.dst.in_port_offset(self.edge.dst_port)
        self._path = edge_path(p1, p2)
        # The label sits beside the line just below the source's output port: that gap is
        # free in a layered layout (a long edge's midpoint may be behind other nodes), and the
        # labels of a fan-out coincide, as they carry the same tensor.
        if self.label:
            w = style.metrics(2).horizontalAdvance(self.label) + 8
            h = style.metrics(2).height() + 2
            self._label_rect = QRectF(p1.x() + 5, p1.y() + EDGE_LABEL_DROP - h / 2, w, h)
        else:
            self._label_rect = QRectF()
        m = EDGE_PICK / 2
        self._bounds = self._path.boundingRect().adjusted(-m, -m, m, m).united(self._label_rect)
        self._pick = None

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        """A wide invisible band along the line, so a click near it selects it."""
        if self._pick is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(EDGE_PICK)
            self._pick = stroker.createStroke(self._path)
        return self._pick

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        pal = _palette(self, option)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if selected:
            color, width = pal.color(QPalette.ColorRole.Highlight), 2.5
        else:
            color = QColor(pal.color(QPalette.ColorRole.Text))
            color.setAlphaF(0.55)
            width = 1.5
        if lod >= style.DETAIL_LOD:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and lod >= style.DETAIL_LOD:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(pal.color(QPalette.ColorRole.Window)))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setPen(_muted(pal) if self.label != "?" else style.ERROR)
            painter.setFont(style.fonts()[2])
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class TempEdgeItem(QGraphicsItem):
    """The dashed line that follows the mouse while a connection is dragged."""

    def __init__(self, anchor: QPointF, from_output: bool):
        super().__init__()
        self.anchor = anchor
        self.from_output = from_output
        self.setZValue(10)
        self._path = QPainterPath()
        self.color = style.UNKNOWN_PORT

    def move_to(self, p: QPointF) -> None:
        self.prepareGeometryChange()
        a, b = (self.anchor, p) if self.from_output else (p, self.anchor)
        self._path = edge_path(a, b)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.color, 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(self._path)


class HintItem(QGraphicsItem):
    """A short note next to the cursor (why a connection would be refused); constant size at
    any zoom, on a tooltip-coloured card so it reads over nodes."""

    def __init__(self):
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(20)
        self.text = ""
        self.color = QColor()
        self._rect = QRectF()

    def set_text(self, text: str, color: QColor) -> None:
        self.prepareGeometryChange()
        self.text, self.color = text, QColor(color)
        m = style.metrics(1)
        self._rect = QRectF(0, 0, m.horizontalAdvance(text) + 14, m.height() + 8)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        pal = _palette(self, option)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.color, 1.2))
        painter.setBrush(pal.color(QPalette.ColorRole.ToolTipBase))
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setFont(style.fonts()[1])
        painter.setPen(self.color)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)
