"""The editor: the one place that turns gestures into commands on the undo stack.

It owns the open document (design, undo stack, file path), the breadcrumb into blocks, and the
live checks: after every edit it re-analyses the design and pushes labels to the scene at once,
and a `refreshed` signal to the panels once per event-loop turn (a macro or a burst of edits
refreshes the summary, problems and status bar once). Items and interactions never edit; they
report to the scene, whose signals arrive here."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from designer.app import clipboard, navigation
from designer.app.canvas.scene import GraphScene
from designer.app.canvas.style import NODE_H, NODE_W
from designer.app.canvas.view import CanvasView
from designer.app.mime import DESIGN_MIME, clipboard_layers_text
from designer.app.navigation import BlockNotOpenable, Frame, Level
from designer.core import commands as cmds
from designer.core.analysis import Analysis
from designer.core.design import Design, Edge, Graph, Node
from designer.core.errors import ConnectionRefused
from designer.core.grouping import extract_block, group_and_lay_out, ungroup_in_place
from designer.core.layout import ROW, apply_layout, layered_positions
from designer.core.names import new_node_name, numbered
from designer.core.nesting import nests_itself
from designer.core.placement import free_offset, free_position
from designer.core.registry import get_spec, has_spec
from designer.core.serialization import clone

# How far apart node centres must be: the box with room for its ports and a shape label.
FOOTPRINT = (NODE_W + 20.0, NODE_H + 28.0)


def needs_layout(graph: Graph) -> bool:
    """A graph from a file or a tool that wrote no positions (all nodes at one spot)."""
    return len(graph.nodes) > 1 and len({n.position for n in graph.nodes.values()}) == 1


class Editor(QObject):
    message = Signal(str)  # feedback to show (a refused connection, a failed step)
    refreshed = Signal()  # analysis and labels are up to date: panels refresh (once per turn)
    document_changed = Signal()  # another design is open (new, open, template, recovery)
    history_changed = Signal()  # undo/redo availability or texts, modified state
    frames_changed = Signal()  # the breadcrumb changed (entered or left a block)
    inspect_requested = Signal(str)  # double-click on a single layer: focus its inspector

    def __init__(self, scene: GraphScene, view: CanvasView, parent=None):
        super().__init__(parent)
        self.scene, self.view = scene, view
        self.design = Design()
        self.stack = cmds.UndoStack(self.design)
        self.path: str | None = None
        self.frames: list[Frame] = []
        self.levels: list[Level] = []
        self.analysis = Analysis()
        self._restored_dirty = False
        self._panels_due = False
        self.prompts = None  # set by the window: asks before replacing a connection
        self.stack.changed.connect(self._on_stack_changed)
        scene.connection_checker = self.connection_problem
        scene.nodes_moved.connect(self.move_nodes)
        scene.connect_requested.connect(lambda s, d, p: self.connect(Edge(s, d, p)))
        scene.reconnect_requested.connect(self.reconnect)
        scene.disconnect_requested.connect(self.disconnect)
        scene.node_activated.connect(self.activate)
        view.layer_dropped.connect(self.add_layer)
        self.scene.set_graph(self.design, False, self.design.blocks)
        self.refresh()

    # -- the document ------------------------------------------------------------------------------
    def set_document(self, design: Design, path: str | None = None, modified: bool = False) -> None:
        """Show another design; `modified` marks a restored design as unsaved."""
        self.stack.changed.disconnect(self._on_stack_changed, missing_ok=True)
        if needs_layout(design):
            apply_layout(design)
        for block in design.blocks.values():
            if needs_layout(block):
                apply_layout(block)
        self.design, self.path = design, path
        self.stack = cmds.UndoStack(design)
        self.stack.changed.connect(self._on_stack_changed)
        self._restored_dirty = modified
        self.frames = []
        self.scene.set_graph(design, False, design.blocks)
        self.refresh()
        self.view.show_drawing()
        self.document_changed.emit()
        self.frames_changed.emit()
        self.history_changed.emit()

    def is_modified(self) -> bool:
        return self._restored_dirty or not self.stack.is_clean()

    def mark_saved(self, path: str) -> None:
        self.path = path
        self._restored_dirty = False
        self.stack.set_clean()  # emits changed -> history_changed

    def _on_stack_changed(self) -> None:
        self.refresh(panels_now=False)
        self.history_changed.emit()

    # -- live checks -------------------------------------------------------------------------------
    def refresh(self, panels_now: bool = True) -> None:
        """Re-analyse every level of the breadcrumb and relabel the canvas; the panels follow
        now (a document opened, a block entered) or, after an edit, at the end of this turn."""
        frames, self.levels = navigation.resolve(self.design, self.frames)
        if frames != self.frames:
            self.frames = frames
            self.frames_changed.emit()
        level = self.levels[-1]
        self.analysis = self.levels[0].analysis
        self.scene.weighted = self.weighted_nodes() if not self.frames else set()
        if self.scene.graph is not level.graph or self.scene.readonly != (not level.editable):
            self.scene.set_graph(level.graph, not level.editable, self.design.blocks)
            self.scene.apply_analysis(level.analysis)
            self.view.show_drawing()
        else:
            self.scene.blocks = self.design.blocks  # undoing a group swaps the definitions
            self.scene.apply_analysis(level.analysis)
            self.scene.update_scene_rect()
        if panels_now:
            self._panels_due = False  # a refresh still due at the end of the turn is this one
            self.refreshed.emit()
        elif not self._panels_due:
            self._panels_due = True
            QTimer.singleShot(0, self, self.flush_panels)

    def flush_panels(self) -> None:
        """Tell the panels now about an edit whose refresh is still pending (else nothing)."""
        if self._panels_due:
            self._panels_due = False
            self.refreshed.emit()

    def weighted_nodes(self) -> set[str]:
        """Top-level nodes whose weights come from the design's weights file."""
        from designer.interop.weights import nodes_with_weights

        return nodes_with_weights(self.design, self.analysis, self.path)

    @property
    def level(self) -> Level:
        return self.levels[-1]

    @property
    def graph(self) -> Graph:
        return self.levels[-1].graph

    @property
    def editable(self) -> bool:
        return self.levels[-1].editable

    @property
    def block_path(self) -> tuple[str, ...]:
        return tuple(f.block for f in self.frames if f.block)

    def _require_editable(self) -> bool:
        if not self.editable:
            self.message.emit(
                "This is a read-only view of a built-in block; go back up "
                "(or ungroup the block) to edit its layers."
            )
        return self.editable

    # -- pushing commands --------------------------------------------------------------------------
    def push(self, command: cmds.Command) -> bool:
        try:
            self.stack.push(command)
        except ConnectionRefused as exc:
            self.message.emit(str(exc))
            return False
        return True

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def end_merge(self) -> None:
        self.stack.end_merge()

    # -- gestures ----------------------------------------------------------------------------------
    def connection_problem(self, edge: Edge) -> str | None:
        old = self.graph.feeding(edge.dst, edge.dst_port) if edge.dst in self.graph.nodes else None
        try:  # a fed input may be given another source (releasing offers to replace it)
            self.graph.check_connect(edge, replacing=old if old != edge else None)
        except ConnectionRefused as exc:
            return str(exc)
        return None

    def connect(self, edge: Edge) -> bool:
        """Connect, or when the input is fed already, offer to replace that connection."""
        if not self._require_editable():
            return False
        old = self.graph.feeding(edge.dst, edge.dst_port) if edge.dst in self.graph.nodes else None
        reason = self.connection_problem(edge)
        if old is not None and old != edge and not reason:
            names = self.graph.nodes
            question = (
                f"Input {edge.dst_port!r} of {names[edge.dst].name} is fed by "
                f"{names[old.src].name}. Replace that connection by one from "
                f"{names[edge.src].name}?"
            )
            if self.prompts is None:
                self.message.emit(f"Cannot connect: {question.split('. ')[0]}; disconnect it first")
                return False
            if not self.prompts.confirm("Replace connection?", question, "Replace"):
                return False
            return self.reconnect(old, edge)
        if reason:
            self.message.emit(f"Cannot connect: {reason}")
            return False
        return self.push(cmds.Connect(edge, self.block_path))

    def reconnect(self, old: Edge, new: Edge) -> bool:
        """Move a connection's end (an edge dragged to another port), as one step."""
        if not self._require_editable() or old == new or old not in self.graph.edges:
            return False
        try:
            self.graph.check_connect(new, replacing=old)
        except ConnectionRefused as exc:
            self.message.emit(f"Cannot connect: {exc}")
            return False
        with self.stack.macro("Reconnect"):
            self.stack.push(cmds.Disconnect(old, self.block_path))
            self.stack.push(cmds.Connect(new, self.block_path))
        return True

    def disconnect(self, edge: Edge) -> bool:
        if not self._require_editable() or edge not in self.graph.edges:
            return False
        return self.push(cmds.Disconnect(edge, self.block_path, "Disconnect"))

    def insert_on_edge(self, edge: Edge, type_name: str) -> str | None:
        """Put a new layer into a connection (src -> new -> dst), moving the destination and
        what is below it down a row; one undo step. Returns the new node's id."""
        if not self._require_editable() or edge not in self.graph.edges or not has_spec(type_name):
            return None
        g = self.graph
        spec = get_spec(type_name)
        ports = spec.ports(spec.defaults(), self.design.blocks)
        if not ports:
            self.message.emit(f"A {spec.title} has no input to connect")
            return None
        x, y = g.nodes[edge.dst].position
        below = {
            nid: (n.position, (n.position[0], n.position[1] + ROW))
            for nid, n in g.nodes.items()
            if n.position[1] >= y - 1
        }
        node = Node(
            g.new_id(),
            type_name,
            self._new_name(type_name),
            spec.defaults(),
            free_position(self._centres(below), (x, y), FOOTPRINT),
        )
        with self.stack.macro(f"Insert {spec.title}"):
            self.stack.push(cmds.MoveNodes(below, self.block_path))
            self.stack.push(cmds.Disconnect(edge, self.block_path))
            self.stack.push(
                cmds.AddNodes(
                    [node],
                    [Edge(edge.src, node.id, ports[0]), Edge(node.id, edge.dst, edge.dst_port)],
                    self.block_path,
                )
            )
        self.scene.select_nodes([node.id])
        self.show_nodes([node.id])
        return node.id

    def delete_and_reconnect(self) -> bool:
        """Delete the selected layer and join its input to what it fed, when the shapes allow
        (a ReLU, a Dropout, a same-size conv); otherwise say why and change nothing."""
        if not self._require_editable():
            return False
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            self.message.emit("Select one layer to delete and reconnect")
            return False
        nid = ids[0]
        name = self.graph.nodes[nid].name
        try:
            joins = cmds.bypass_edges(self.graph, nid)
        except ConnectionRefused as exc:
            self.message.emit(f"Cannot reconnect: {exc}")
            return False

        def steps() -> list[cmds.Command]:
            return [
                cmds.RemoveNodes([nid], self.block_path),
                *(cmds.Connect(e, self.block_path) for e in joins),
            ]

        trial = clone(self.design)  # try it first: the shapes decide
        try:
            for c in steps():
                c.redo(trial)
        except ConnectionRefused as exc:
            self.message.emit(f"Cannot reconnect: {exc}")
            return False
        before = {(p.node_id, p.message) for p in self.level.analysis.problems}
        after = navigation.resolve(trial, self.frames)[1][-1].analysis
        new = [p for p in after.problems if (p.node_id, p.message) not in before]
        if new:
            self.message.emit(
                f"Cannot delete {name} and reconnect: {new[0]}; "
                "delete it alone (Delete) and fix the connections by hand"
            )
            return False
        with self.stack.macro(f"Delete {name} and reconnect"):
            for c in steps():
                self.stack.push(c)
        return True

    def move_nodes(self, moves: dict) -> None:
        if not self.editable:  # read-only items do not move; put back anything that did
            for nid in moves:
                node = self.graph.nodes.get(nid)
                if node is not None and nid in self.scene.node_items:
                    self.scene.node_items[nid].setPos(QPointF(*node.position))
            return
        count = len(moves)
        text = (
            f"Move {self.graph.nodes[next(iter(moves))].name}"
            if count == 1
            else f"Move {count} nodes"
        )
        self.push(cmds.MoveNodes(dict(moves), self.block_path, text))

    def activate(self, node_id: str) -> None:
        node = self.graph.nodes.get(node_id)
        if node is None:
            return
        if navigation.opens(node):
            self.open_block(node_id)
        else:
            self.inspect_requested.emit(node_id)

    def add_layer(
        self,
        type_name: str,
        block: str = "",
        pos: QPointF | None = None,
        connect_from: str | None = None,
        shifted: dict | None = None,
    ) -> str | None:
        """Add a layer (a palette drop or double-click) at the free spot nearest `pos`, after
        the `shifted` moves; returns the new node's id."""
        if not self._require_editable():
            return None
        if not has_spec(type_name):
            self.message.emit(f"Unknown layer type {type_name!r}")
            return None
        spec = get_spec(type_name)
        if block and block not in self.design.blocks:
            self.message.emit(f"This design has no block named {block!r}")
            return None
        if block and nests_itself(self.design, self.block_path, block):
            self.message.emit(f"Block {block} cannot be placed inside itself")
            return None
        params = spec.defaults()
        if block:
            params["block"] = block
        g = self.graph
        if pos is None:
            pos = self.view.mapToScene(self.view.viewport().rect().center())
        wanted = (round(pos.x() / 10) * 10, round(pos.y() / 10) * 10)
        x, y = free_position(self._centres(shifted), wanted, FOOTPRINT)
        node = Node(g.new_id(), type_name, self._new_name(type_name, block), params, (x, y))
        title = block or spec.title
        edges = []
        if connect_from is not None:
            ports = spec.ports(params, self.design.blocks)
            edges = [Edge(connect_from, node.id, ports[0])] if ports else []
        add = cmds.AddNodes([node], edges, self.block_path, f"Add {title}")
        if shifted:  # room made below the selection: one step with the addition
            with self.stack.macro(f"Add {title}"):
                self.stack.push(cmds.MoveNodes(shifted, self.block_path))
                self.stack.push(add)
            ok = True
        else:
            ok = self.push(add)
        if ok:
            self.scene.select_nodes([node.id])
            self.show_nodes([node.id])
        return node.id if ok else None

    def _centres(self, moves: dict | None = None) -> list[tuple[float, float]]:
        """Where the current level's nodes are (or will be after `moves`)."""
        moves = moves or {}
        return [
            moves[nid][1] if nid in moves else n.position for nid, n in self.graph.nodes.items()
        ]

    def show_nodes(self, node_ids) -> None:
        """Scroll so that these (new) nodes are in view."""
        items = [self.scene.node_items[n] for n in node_ids if n in self.scene.node_items]
        if items:
            rect = items[0].sceneBoundingRect()
            for it in items[1:]:
                rect = rect.united(it.sceneBoundingRect())
            self.scene.update_scene_rect()
            self.view.ensureVisible(rect, 40, 40)

    def add_after_selection(self, type_name: str, block: str = "") -> str | None:
        """Palette double-click: below the one selected node and fed by it (what is below moves
        down a row to make room), else mid-view."""
        ids = self.scene.selected_node_ids()
        if len(ids) == 1 and self.editable:
            src = self.graph.nodes[ids[0]]
            spec = get_spec(src.type) if has_spec(src.type) else None
            if spec is not None and not spec.is_output:
                x, y = src.position
                below = {
                    nid: (n.position, (n.position[0], n.position[1] + ROW))
                    for nid, n in self.graph.nodes.items()
                    if n.position[1] > y + 1
                }
                return self.add_layer(
                    type_name, block, QPointF(x, y + ROW), connect_from=src.id, shifted=below
                )
        return self.add_layer(type_name, block)

    def _new_name(self, type_name: str, block: str = "") -> str:
        return new_node_name(type_name, {n.name for n in self.graph.nodes.values()}, block)

    def set_node_attr(self, node_id: str, field: str, value) -> bool:
        if not self._require_editable():
            return False
        if field == "params.block" and nests_itself(self.design, self.block_path, str(value)):
            self.message.emit(f"Block {value} cannot be placed inside itself")
            return False
        return self.push(cmds.SetNodeAttr(node_id, field, value, self.block_path))

    def set_nodes_trainable(self, node_ids: list[str], value: bool) -> None:
        if not self._require_editable():
            return
        with self.stack.macro(f"{'Unfreeze' if value else 'Freeze'} {len(node_ids)} nodes"):
            for nid in node_ids:
                if self.graph.nodes[nid].trainable != value:
                    self.stack.push(cmds.SetNodeAttr(nid, "trainable", value, self.block_path))
        self.stack.end_merge()

    def set_setting(self, attr: str, value) -> bool:
        return self.push(cmds.SetDesignSetting(attr, value))

    def apply_head_fixes(self, fixes) -> None:
        """Make the head match the task and classes (designer.core.head), as one undo step."""
        with self.stack.macro("Update head"):
            for fix in fixes:
                self.stack.push(cmds.SetNodeAttr(fix.node_id, fix.field_name, fix.value))
        self.stack.end_merge()

    # -- selection editing -------------------------------------------------------------------------
    def select_all(self) -> None:
        self.scene.set_selection(self.scene.node_items.values())

    def delete_selection(self, text: str | None = None) -> None:
        if not self._require_editable():
            return
        ids = self.scene.selected_node_ids()
        gone = set(ids)
        edges = [e for e in self.scene.selected_edges() if e.src not in gone and e.dst not in gone]
        if not ids and not edges:
            return
        parts: list[cmds.Command] = [cmds.Disconnect(e, self.block_path) for e in edges]
        if ids:
            parts.append(cmds.RemoveNodes(ids, self.block_path))
        if text is None:
            if len(ids) == 1 and not edges:
                text = f"Delete {self.graph.nodes[ids[0]].name}"
            elif len(edges) == 1 and not ids:
                text = "Delete connection"
            else:
                text = f"Delete {len(ids) + len(edges)} items"
        if len(parts) == 1:
            parts[0].text = text
            self.push(parts[0])
        else:
            with self.stack.macro(text):  # one undo step for the whole selection
                for c in parts:
                    self.stack.push(c)

    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            self.message.emit("Select the layers to copy first")
            return False
        text = clipboard.copy_text(self.design, self.graph, ids)
        mime = QMimeData()
        mime.setData(DESIGN_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        if self._require_editable() and self.copy():
            self.delete_selection("Cut")

    def paste(self, text: str | None = None, what: str = "Paste") -> None:
        if not self._require_editable():
            return
        if text is None:
            text = clipboard_layers_text()
            if text is None:
                self.message.emit(
                    "Nothing to paste: the clipboard holds no layers; copy some first (Ctrl+C)"
                )
                return
        try:
            plan = clipboard.plan_paste(
                self.design, self.graph, text, (0.0, 0.0), copies=what == "Duplicate"
            )
        except ValueError as exc:
            self.message.emit(f"Nothing to paste: {exc}")
            return
        self._place(plan.nodes, beside=what == "Duplicate")
        nested = [
            n.params.get("block")
            for n in plan.nodes
            if n.type == "Block"
            and nests_itself(self.design, self.block_path, str(n.params.get("block")))
        ]
        if nested:
            self.message.emit(f"Block {nested[0]} cannot be pasted inside itself")
            return
        if plan.blocks:  # the pasted nodes bring custom blocks along: a structural edit

            def apply(d: Design, plan=plan, path=self.block_path):
                for name, block in plan.blocks.items():
                    d.set_block(name, block)
                cmds.AddNodes(plan.nodes, plan.edges, path).redo(d)

            ok = self.push(cmds.Snapshot(apply, what))
        else:
            ok = self.push(cmds.AddNodes(plan.nodes, plan.edges, self.block_path, what))
        if ok:
            self.scene.select_nodes([n.id for n in plan.nodes])
            self.show_nodes([n.id for n in plan.nodes])

    def _place(self, nodes: list[Node], beside: bool) -> None:
        """Move pasted nodes, as a group, to the free space nearest where they are wanted:
        beside the originals for a duplicate, where they were copied if that is in view (a
        cut and paste puts them back), else the middle of the view."""
        points = [n.position for n in nodes]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        centre = QPointF((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        if beside:
            preferred = (max(xs) - min(xs) + FOOTPRINT[0] + 30.0, 0.0)
        elif visible.contains(centre):
            preferred = (0.0, 0.0)
        else:
            middle = visible.center()
            preferred = (middle.x() - centre.x(), middle.y() - centre.y())
        dx, dy = free_offset(self._centres(), points, preferred, FOOTPRINT)
        for n in nodes:
            n.position = (round(n.position[0] + dx), round(n.position[1] + dy))

    def duplicate(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            self.message.emit("Select the layers to duplicate first")
            return
        self.paste(clipboard.copy_text(self.design, self.graph, ids), "Duplicate")

    # -- blocks ------------------------------------------------------------------------------------
    def _top_level_only(self, what: str) -> bool:
        if self.frames:
            self.message.emit(f"{what} works on the design's top level; go back up first")
            return False
        return True

    def suggest_block_name(self) -> str:
        return numbered("block", self.design.blocks)

    def group_selection(self, name: str) -> str | None:
        """Replace the selected nodes by one custom block node; returns its id."""
        ids = self.scene.selected_node_ids()
        if not self._top_level_only("Grouping") or not ids:
            if not ids:
                self.message.emit("Select the layers to group first")
            return None
        if not self.push(
            cmds.Snapshot(lambda d: group_and_lay_out(d, ids, name), f"Group into {name}")
        ):
            return None
        new = [
            n.id
            for n in self.design.nodes.values()
            if n.type == "Block" and n.params.get("block") == name
        ]
        self.scene.select_nodes(new)
        return new[0] if new else None

    def ungroup_selection(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not self._top_level_only("Ungrouping"):
            return []
        blocks = [n for n in ids if navigation.opens(self.design.nodes[n])]
        if len(blocks) != 1:
            self.message.emit("Select one block to ungroup")
            return []
        node = self.design.nodes[blocks[0]]
        before = set(self.design.nodes)
        if not self.push(
            cmds.Snapshot(lambda d: ungroup_in_place(d, node.id), f"Ungroup {node.name}")
        ):
            return []
        new = [n for n in self.design.nodes if n not in before]
        self.scene.select_nodes(new)
        return new

    def save_selection_as_block(self, name: str) -> bool:
        """Add a block definition made from the selection to the palette, keeping the layers."""
        ids = self.scene.selected_node_ids()
        if not self._top_level_only("Saving a block") or not ids:
            if not ids:
                self.message.emit("Select the layers to save as a block first")
            return False
        try:
            block = extract_block(self.design, ids, name)
        except ConnectionRefused as exc:
            self.message.emit(str(exc))
            return False
        ok = self.push(cmds.Snapshot(lambda d: d.set_block(name, block), f"Save block {name}"))
        if ok:
            self.message.emit(f"Block {name} is in the palette under “Blocks of this design”")
        return ok

    # -- breadcrumb --------------------------------------------------------------------------------
    def open_block(self, node_id: str) -> bool:
        node = self.graph.nodes.get(node_id)
        if node is None:
            return False
        try:
            navigation.enter(self.design, self.level, node)
        except BlockNotOpenable as exc:
            self.message.emit(str(exc))
            return False
        block = node.params.get("block") if get_spec(node.type).is_custom_block else None
        self.frames = [*self.frames, Frame(node_id, node.name, block)]
        self.refresh()
        self.frames_changed.emit()
        return True

    def go_to_level(self, depth: int) -> None:
        """Show breadcrumb level `depth` (0 = the design)."""
        if depth < len(self.frames):
            self.frames = self.frames[:depth]
            self.refresh()
            self.frames_changed.emit()

    def go_up(self) -> None:
        if self.frames:
            self.go_to_level(len(self.frames) - 1)

    def reveal(self, node_id: str) -> None:
        """Select a node of the current level and scroll to it (problems panel clicks)."""
        item = self.scene.node_items.get(node_id)
        if item is None:
            return
        self.scene.select_nodes([node_id])
        self.view.ensureVisible(item, 80, 80)

    def arrange(self, wrap: bool | None = None) -> None:
        """Automatic layered layout of the current level, as one undoable step; `wrap`: side
        by side columns (True), one column (False), or columns only for a tall design (None)."""
        if not self._require_editable():
            return
        positions = layered_positions(self.graph, wrap)
        moves = {
            nid: (self.graph.nodes[nid].position, pos)
            for nid, pos in positions.items()
            if tuple(self.graph.nodes[nid].position) != tuple(pos)
        }
        if moves:
            self.push(cmds.MoveNodes(moves, self.block_path, "Arrange"))
            self.view.fit_all()
