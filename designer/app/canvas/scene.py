"""The scene mirrors one graph (the design, a custom block, or a built-in block's expansion).

It subscribes to the graph's signals and keeps node id -> item and edge -> item maps; it turns
mouse gestures into Qt signals (moved, connect requested, activated) for the editor, and shows
each analysis as labels and badges. It never changes the graph itself."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsScene

from designer.app.canvas.interactions import ConnectDrag, Interaction, RubberBandSelect
from designer.app.canvas.items import EdgeItem, NodeItem
from designer.app.canvas.labels import edge_label, node_views
from designer.app.canvas.style import DETAIL_LOD, NODE_H, NODE_W, metrics
from designer.core.analysis import Analysis
from designer.core.design import Edge, Graph, Node
from designer.core.layout import ROW


class GraphScene(QGraphicsScene):
    nodes_moved = Signal(dict)  # node id -> ((old x, old y), (new x, new y))
    connect_requested = Signal(str, str, str)  # source id, destination id, destination port
    reconnect_requested = Signal(object, object)  # old Edge, new Edge (an end dragged elsewhere)
    disconnect_requested = Signal(object)  # Edge whose end was dragged off its port
    node_activated = Signal(str)  # double-click on a node
    context_menu_requested = Signal(QPoint, str)  # screen position, node id ("" = empty canvas)
    # selectionChanged, but never while the scene is being destroyed (its destructor clears the
    # selection, and panels must not ask a half-deleted scene what is selected).
    selection_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graph: Graph | None = None
        self.readonly = False
        self.blocks: dict = {}
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, list[EdgeItem]] = {}
        self.analysis = Analysis()
        self.interaction: Interaction | None = None
        # Set by the editor: why an edge would be refused (None = allowed).
        self.connection_checker: Callable[[Edge], str | None] | None = None
        self.weighted: set[str] = set()  # nodes with weights from the design's file (the editor's)
        self._press_positions: dict[str, tuple[float, float]] = {}
        self.menu_edge: Edge | None = None  # the connection of the last context menu
        self.overview = False  # zoomed out: names beside the boxes (the view sets it)
        self.overview_lod = 1.0
        self._view_memo: dict = {}  # node id -> (what its view was made from, the view)
        self._geometry_dirty = True  # nodes came, went or moved since the scene rect was set
        self.selectionChanged.connect(self._relay_selection)

    def _relay_selection(self) -> None:
        if shiboken6.isValid(self):
            self.selection_changed.emit()

    # -- binding to a graph ------------------------------------------------------------------------
    def set_graph(
        self, graph: Graph | None, readonly: bool = False, blocks: dict | None = None
    ) -> None:
        self.detach()
        self.clear()
        self.node_items.clear()
        self.edge_items.clear()
        self.graph, self.readonly, self.blocks = graph, readonly, blocks or {}
        self.analysis = Analysis()
        self._view_memo = {}
        if graph is None:
            return
        views = node_views(graph, self.analysis, self.blocks)
        for node in graph.nodes.values():
            self._add_node_item(node, views[node.id])
        for e in graph.edges:
            self._add_edge_item(e)
        graph.node_added.connect(self._on_node_added)
        graph.node_removed.connect(self._on_node_removed)
        graph.node_changed.connect(self._on_node_changed)
        graph.edge_added.connect(self._add_edge_item)
        graph.edge_removed.connect(self._on_edge_removed)
        self.update_scene_rect()

    def detach(self) -> None:
        """Stop following the current graph (before showing another one or closing)."""
        if self.interaction is not None:
            self.interaction.cancel()
        g = self.graph
        if g is None:
            return
        for sig, slot in (
            (g.node_added, self._on_node_added),
            (g.node_removed, self._on_node_removed),
            (g.node_changed, self._on_node_changed),
            (g.edge_added, self._add_edge_item),
            (g.edge_removed, self._on_edge_removed),
        ):
            sig.disconnect(slot, missing_ok=True)
        self.graph = None

    def _add_node_item(self, node: Node, view=None) -> NodeItem:
        if view is None:
            one = Graph()
            one.nodes[node.id] = node
            view = node_views(one, self.analysis, self.blocks)[node.id]
        item = NodeItem(node.id, view, self.readonly)
        item.overview_label.setVisible(self.overview)
        item.setPos(QPointF(*node.position))
        self.addItem(item)
        self.node_items[node.id] = item
        self._geometry_dirty = True
        return item

    def _on_node_added(self, node: Node) -> None:
        self._add_node_item(node)

    def _on_node_removed(self, node: Node) -> None:
        self._geometry_dirty = True
        item = self.node_items.pop(node.id, None)
        if item is not None:
            for e in list(item.edges):  # the model removes edges first; this is a safety net
                self._drop_edge_item(e)
            self.removeItem(item)

    def _on_node_changed(self, node: Node, what: str) -> None:
        item = self.node_items.get(node.id)
        if item is not None and what == "position":
            self._geometry_dirty = True
            pos = QPointF(*node.position)
            if item.pos() != pos:
                item.setPos(pos)

    def _add_edge_item(self, edge: Edge) -> None:
        src, dst = self.node_items.get(edge.src), self.node_items.get(edge.dst)
        if src is None or dst is None:  # a dangling edge from a damaged file: analysis reports it
            return
        item = EdgeItem(edge, src, dst)
        item.set_label(*edge_label(self.analysis, edge.src))
        self.addItem(item)
        self.edge_items.setdefault(edge, []).append(item)

    def _on_edge_removed(self, edge: Edge) -> None:
        items = self.edge_items.get(edge)
        if items:
            self._drop_edge_item(items[-1])

    def _drop_edge_item(self, item: EdgeItem) -> None:
        item.detach()
        items = self.edge_items.get(item.edge, [])
        if item in items:
            items.remove(item)
        if not items:
            self.edge_items.pop(item.edge, None)
        self.removeItem(item)

    # -- analysis -> labels ------------------------------------------------------------------------
    def apply_analysis(self, analysis: Analysis) -> None:
        """Relabel every item from a fresh analysis; items repaint only if their text changed."""
        self.analysis = analysis
        if self.graph is None:
            return
        views = node_views(self.graph, analysis, self.blocks, self.weighted, self._view_memo)
        for nid, view in views.items():
            item = self.node_items.get(nid)
            if item is not None and item.view is not view:
                if item.view.name != view.name:
                    self._geometry_dirty = True  # its overview tag changed width
                item.set_view(view)
        for edge, items in self.edge_items.items():
            shape = analysis.shape(edge.src)
            for item in items:
                if shape != item.shape_value or not item.label:  # only what changed is redrawn
                    item.set_label(*edge_label(analysis, edge.src))

    def show_previews(self, previews: dict | None) -> None:
        """Node id -> (Preview, QImage or None) shown in the boxes (View > Previews); nodes not
        in it show none; None removes every preview."""
        for nid, item in self.node_items.items():
            shown = previews.get(nid) if previews is not None else None
            if shown is None:
                item.set_preview(None)
            else:
                item.set_preview(*shown)

    def set_zoom_level(self, lod: float) -> None:
        """Zoomed out past reading the boxes (an overview), names are shown beside the boxes
        where the row leaves room for them and the rows are far enough apart, else inside the
        box when it is tall enough on screen."""
        self.overview = lod < DETAIL_LOD
        self.overview_lod = lod
        self.place_names()

    def place_names(self) -> None:
        lod, on = self.overview_lod, self.overview
        label_h = metrics(3).height()
        rows_apart = ROW * lod >= label_h
        by_row: dict[int, list[NodeItem]] = {}
        if on:
            for item in self.node_items.values():
                by_row.setdefault(round(item.pos().y() / 20), []).append(item)
        room: dict[NodeItem, float] = {}
        for items in by_row.values():
            items.sort(key=lambda it: it.pos().x())
            for a, b in itertools.pairwise(items):
                room[a] = (b.pos().x() - a.pos().x() - NODE_W) * lod  # screen px to the next box
        for item in self.node_items.values():
            need = item.overview_label.boundingRect().right()
            beside = on and rows_apart and room.get(item, need + 1) > need
            item.overview_label.setVisible(beside)
            inside = on and not beside and NODE_H * lod >= label_h
            if inside != item.name_inside:
                item.name_inside = inside
                item.update()

    def update_scene_rect(self) -> None:
        """Room to pan around the drawing, recomputed after structural edits and moves (not
        during drags, nor after a param edit, which moves nothing)."""
        if not self._geometry_dirty:
            return
        self._geometry_dirty = False
        if self.overview:
            self.place_names()
        # From the node centres (itemsBoundingRect walks every item: 10 ms at 700 nodes, on
        # every edit); edges run between nodes and the margin covers ports and labels.
        items = self.node_items.values()
        if not items:
            rect = QRectF(-400, -300, 800, 600)
        else:
            xs = [it.pos().x() for it in items]
            ys = [it.pos().y() for it in items]
            rect = QRectF(
                min(xs) - NODE_W,
                min(ys) - NODE_H,
                max(xs) - min(xs) + 2 * NODE_W,
                max(ys) - min(ys) + 2 * NODE_H,
            )
        rect = rect.adjusted(-600, -400, 600, 400)
        if rect != self.sceneRect():
            self.setSceneRect(rect)

    # -- selection ---------------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        """Selected nodes in the graph's order (the order code is written in)."""
        chosen = {it.node_id for it in self.selectedItems() if isinstance(it, NodeItem)}
        return [nid for nid in (self.graph.nodes if self.graph else ()) if nid in chosen]

    def selected_edges(self) -> list[Edge]:
        return [it.edge for it in self.selectedItems() if isinstance(it, EdgeItem)]

    def set_selection(self, items) -> None:
        """Select exactly `items`, emitting selectionChanged once."""
        items = set(items)
        blocked = self.blockSignals(True)
        try:
            for it in self.selectedItems():
                if it not in items:
                    it.setSelected(False)
            for it in items:
                it.setSelected(True)
        finally:
            self.blockSignals(blocked)
        self.selectionChanged.emit()

    def select_nodes(self, node_ids) -> None:
        self.set_selection(self.node_items[n] for n in node_ids if n in self.node_items)

    # -- connection checks (asked by ConnectDrag) --------------------------------------------------
    def connection_problem(self, edge: Edge) -> str | None:
        if self.readonly:
            return "this is a read-only view of a built-in block"
        return self.connection_checker(edge) if self.connection_checker else None

    # -- mouse dispatch ----------------------------------------------------------------------------
    def end_interaction(self, interaction: Interaction) -> None:
        if self.interaction is interaction:
            self.interaction = None

    def port_hit(self, pos: QPointF) -> tuple[NodeItem, str, str] | None:
        r = 12.0
        for it in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if isinstance(it, NodeItem):
                hit = it.port_at(it.mapFromScene(pos))
                if hit:
                    return it, hit[0], hit[1]
        return None

    def _edge_into(self, node_id: str, port: str) -> EdgeItem | None:
        for items in self.edge_items.values():
            for it in items:
                if it.edge.dst == node_id and it.edge.dst_port == port:
                    return it
        return None

    def _view_transform(self):
        views = self.views()
        return views[0].transform() if views else None

    def mousePressEvent(self, event) -> None:
        if self.interaction is not None:
            self.interaction.cancel()
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.scenePos()
            hit = None if self.readonly else self.port_hit(pos)
            if hit is not None:
                item, kind, port = hit
                existing = self._edge_into(item.node_id, port) if kind == "in" else None
                if existing is not None:  # pick up the connection's end: drag it elsewhere or off
                    self.interaction = ConnectDrag(
                        self, existing.src, "out", "out", existing=existing
                    )
                else:
                    self.interaction = ConnectDrag(self, item, kind, port)
                event.accept()
                return
            transform = self._view_transform()
            if transform is not None and self.itemAt(pos, transform) is None:
                mods = event.modifiers()
                additive = bool(
                    mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
                )
                if not additive:
                    self.set_selection(())
                self.interaction = RubberBandSelect(self, pos, additive)
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_positions = {
            it.node_id: (it.pos().x(), it.pos().y())
            for it in self.selectedItems()
            if isinstance(it, NodeItem)
        }

    def mouseMoveEvent(self, event) -> None:
        if self.interaction is not None and self.interaction.mouse_move(event):
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.interaction is not None and self.interaction.mouse_release(event):
            return
        super().mouseReleaseEvent(event)
        moves = {}
        for nid, old in self._press_positions.items():
            item = self.node_items.get(nid)
            if item is not None:
                new = (item.pos().x(), item.pos().y())
                if new != old:
                    moves[nid] = (old, new)
        self._press_positions = {}
        if moves:
            self.nodes_moved.emit(moves)

    def mouseDoubleClickEvent(self, event) -> None:
        transform = self._view_transform()
        item = self.itemAt(event.scenePos(), transform) if transform is not None else None
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        if isinstance(item, NodeItem):
            self.node_activated.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event) -> None:
        if self.interaction is not None and self.interaction.key_press(event):
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:
        transform = self._view_transform()
        item = self.itemAt(event.scenePos(), transform) if transform is not None else None
        while item is not None and not isinstance(item, (NodeItem, EdgeItem)):
            item = item.parentItem()
        # The menu of a connection (Disconnect, Insert layer here) when one was right-clicked.
        self.menu_edge = item.edge if isinstance(item, EdgeItem) else None
        if isinstance(item, EdgeItem):
            self.set_selection([item])
        node_id = item.node_id if isinstance(item, NodeItem) else ""
        if isinstance(item, NodeItem) and not item.isSelected():
            self.set_selection([item])
        self.context_menu_requested.emit(event.screenPos(), node_id)
        event.accept()
