"""Undoable edits. Every change a user makes goes through a Command pushed on an UndoStack, so
the editor gets undo/redo (with menu text naming the action) for free. Commands touch only the
model; views follow through the model's signals."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from psygnal import Signal

from designer.core.design import Design, Edge, Graph, Node
from designer.core.errors import ConnectionRefused


class Command:
    text = ""

    def redo(self, design: Design) -> None:
        raise TypeError(f"{type(self).__name__} has no redo")

    def undo(self, design: Design) -> None:
        raise TypeError(f"{type(self).__name__} has no undo")

    def merge(self, other: Command) -> bool:
        """Absorb `other` (pushed right after this one) into this step; True if merged."""
        return False


def _graph(design: Design, path: tuple[str, ...]) -> Graph:
    return design.graph_of(path)


@dataclass
class AddNodes(Command):
    """Add nodes and the edges between them (also paste and duplicate)."""

    nodes: list[Node]
    edges: list[Edge] = field(default_factory=list)
    path: tuple[str, ...] = ()
    text: str = "Add node"

    def redo(self, design):
        g = _graph(design, self.path)
        for n in self.nodes:
            g.add_node(n.copy())
        done = 0
        try:
            for e in self.edges:
                g.add_edge(e)
                done += 1
        except ConnectionRefused:  # all or nothing: take back what was added
            for e in reversed(self.edges[:done]):
                g.remove_edge(e)
            for n in reversed(self.nodes):
                g.remove_node(n.id)
            raise

    def undo(self, design):
        g = _graph(design, self.path)
        for e in reversed(self.edges):
            g.remove_edge(e)
        for n in reversed(self.nodes):
            g.remove_node(n.id)


@dataclass
class RemoveNodes(Command):
    """Remove nodes with every edge touching them; undo restores the exact order of both."""

    node_ids: list[str]
    path: tuple[str, ...] = ()
    text: str = "Delete"
    _nodes: list[tuple[int, Node]] = field(default_factory=list)
    _edges: list[tuple[int, Edge]] = field(default_factory=list)

    def redo(self, design):
        g = _graph(design, self.path)
        ids = set(self.node_ids)
        self._edges = [(i, e) for i, e in enumerate(g.edges) if e.src in ids or e.dst in ids]
        self._nodes = [(i, n) for i, (nid, n) in enumerate(g.nodes.items()) if nid in ids]
        for _, e in reversed(self._edges):
            g.remove_edge(e)
        for _, n in reversed(self._nodes):
            g.remove_node(n.id)

    def undo(self, design):
        g = _graph(design, self.path)
        for i, n in self._nodes:
            g.add_node(n, i)
        for i, e in self._edges:
            g.add_edge(e, i, checked=False)  # back as it was, even a connection a file got wrong


@dataclass
class MoveNodes(Command):
    """Move nodes; pushed once when the drag ends, so a move is one step."""

    moves: dict[str, tuple[tuple[float, float], tuple[float, float]]]  # id -> (old, new)
    path: tuple[str, ...] = ()
    text: str = "Move"

    def redo(self, design):
        g = _graph(design, self.path)
        for nid, (_, new) in self.moves.items():
            g.set_node_attr(nid, "position", tuple(new))

    def undo(self, design):
        g = _graph(design, self.path)
        for nid, (old, _) in self.moves.items():
            g.set_node_attr(nid, "position", tuple(old))


def bypass_edges(graph: Graph, node_id: str) -> list[Edge]:
    """The connections that join a node's input to what its output feeds, for deleting it from
    a chain; raises ConnectionRefused when it has not exactly one connected input."""
    node = graph.nodes[node_id]
    feeds = graph.in_edges(node_id)
    if len(feeds) != 1:
        raise ConnectionRefused(
            f"{node.name} has {len(feeds)} connected inputs; only a layer "
            "with one input can be bypassed"
        )
    return [Edge(feeds[0].src, e.dst, e.dst_port) for e in graph.out_edges(node_id)]


@dataclass
class Connect(Command):
    """Add a connection; the graph refuses one that is not allowed (Graph.check_connect)."""

    edge: Edge
    path: tuple[str, ...] = ()
    text: str = "Connect"

    def redo(self, design):
        _graph(design, self.path).add_edge(self.edge)

    def undo(self, design):
        _graph(design, self.path).remove_edge(self.edge)


@dataclass
class Disconnect(Command):
    edge: Edge
    path: tuple[str, ...] = ()
    text: str = "Disconnect"
    _index: int = -1

    def redo(self, design):
        self._index = _graph(design, self.path).remove_edge(self.edge)

    def undo(self, design):
        _graph(design, self.path).add_edge(self.edge, self._index, checked=False)


@dataclass
class SetNodeAttr(Command):
    """Change a node's param ("params.<name>"), name, trainable flag or learning-rate multiplier.
    Consecutive edits of the same field of the same node merge into one step."""

    node_id: str
    field_name: str  # "params.kernel_size", "name", "trainable", "lr_mult"
    value: Any
    path: tuple[str, ...] = ()
    text: str = ""
    _old: Any = None

    def __post_init__(self):
        if not self.text:
            label = self.field_name.removeprefix("params.")
            self.text = f"Change {label}"

    def redo(self, design):
        g = _graph(design, self.path)
        node = g.nodes[self.node_id]
        if self.field_name.startswith("params."):
            key = self.field_name.removeprefix("params.")
            self._old = node.params.get(key, _MISSING)
            params = dict(node.params)
            params[key] = self.value
            g.set_node_attr(self.node_id, "params", params)
        else:
            self._old = getattr(node, self.field_name)
            g.set_node_attr(self.node_id, self.field_name, self.value)

    def undo(self, design):
        g = _graph(design, self.path)
        node = g.nodes[self.node_id]
        if self.field_name.startswith("params."):
            key = self.field_name.removeprefix("params.")
            params = dict(node.params)
            if self._old is _MISSING:
                params.pop(key, None)
            else:
                params[key] = self._old
            g.set_node_attr(self.node_id, "params", params)
        else:
            g.set_node_attr(self.node_id, self.field_name, self._old)

    def merge(self, other):
        if (
            isinstance(other, SetNodeAttr)
            and other.node_id == self.node_id
            and other.field_name == self.field_name
            and other.path == self.path
        ):
            self.value = other.value
            return True
        return False


_MISSING = object()


@dataclass
class SetDesignSetting(Command):
    """Change name, description, input_shape, task or num_classes of the design."""

    attr: str
    value: Any
    text: str = ""
    _old: Any = None

    def __post_init__(self):
        self.text = self.text or f"Change {self.attr.replace('_', ' ')}"

    def redo(self, design):
        self._old = getattr(design, self.attr)
        design.set_setting(self.attr, self.value)

    def undo(self, design):
        design.set_setting(self.attr, self._old)

    def merge(self, other):
        if isinstance(other, SetDesignSetting) and other.attr == self.attr:
            self.value = other.value
            return True
        return False


@dataclass
class Snapshot(Command):
    """An edit applied by a function, undone by restoring the whole design as it was. Used for
    structural edits (designer.core.grouping, replacing the head...) where a precise inverse is
    error-prone. An edit that fails half-way is taken back before the error goes on."""

    apply: Any  # callable(design) -> None
    text: str = "Edit"
    _before: dict | None = None
    _after: dict | None = None

    def redo(self, design):
        from designer.core.serialization import design_to_dict

        if self._after is None:
            self._before = design_to_dict(design)
            try:
                self.apply(design)
            except Exception:
                if design_to_dict(design) != self._before:
                    restore(design, self._before)
                raise
            self._after = design_to_dict(design)
        else:
            restore(design, self._after)

    def undo(self, design):
        restore(design, self._before)


def restore(design: Design, data: dict) -> None:
    """Make `design` (the same object views watch) equal to the design in `data`."""
    from designer.core.serialization import design_from_dict

    other = design_from_dict(data)
    for e in list(design.edges):
        design.remove_edge(e)
    for nid in list(design.nodes):
        design.remove_node(nid)
    for attr in ("name", "description", "input_shape", "task", "num_classes"):
        if getattr(design, attr) != getattr(other, attr):
            design.set_setting(attr, getattr(other, attr))
    design.blocks = other.blocks  # read with other.blocks as their library: now design.blocks
    design.metadata = other.metadata
    for n in other.nodes.values():
        design.add_node(n)
    for e in other.edges:
        design.add_edge(e, checked=False)


@dataclass
class Macro(Command):
    commands: list[Command] = field(default_factory=list)
    text: str = ""

    def redo(self, design):
        for c in self.commands:
            c.redo(design)

    def undo(self, design):
        for c in reversed(self.commands):
            c.undo(design)


class UndoStack:
    """Linear undo history of one design; `clean` tracks the last saved state."""

    changed = Signal()

    def __init__(self, design: Design) -> None:
        self.design = design
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._macro: list[Macro] = []
        self._clean_index: int | None = 0
        self._merge_open = True

    def push(self, cmd: Command) -> None:
        """Apply `cmd` and record it (merging with the previous step where allowed)."""
        cmd.redo(self.design)
        if self._macro:
            self._macro[-1].commands.append(cmd)
            return
        self._undone.clear()
        if (
            self._merge_open
            and self._done
            and len(self._done) != self._clean_index
            and self._done[-1].merge(cmd)
        ):
            self.changed.emit()
            return
        self._done.append(cmd)
        self._merge_open = True
        if self._clean_index is not None and self._clean_index > len(self._done):
            self._clean_index = None
        self.changed.emit()

    def end_merge(self) -> None:
        """The next push starts a new step even if it could merge (e.g. the field lost focus)."""
        self._merge_open = False

    @contextlib.contextmanager
    def macro(self, text: str):
        """Group the pushes inside the block into one undo step."""
        m = Macro([], text)
        self._macro.append(m)
        try:
            yield m
        finally:
            self._macro.pop()
        if m.commands:
            if self._macro:
                self._macro[-1].commands.append(m)
            else:
                self._undone.clear()
                self._done.append(m)
                self._merge_open = False
                self.changed.emit()

    def undo(self) -> bool:
        if not self._done:
            return False
        cmd = self._done.pop()
        cmd.undo(self.design)
        self._undone.append(cmd)
        self._merge_open = False
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        cmd = self._undone.pop()
        cmd.redo(self.design)
        self._done.append(cmd)
        self._merge_open = False
        self.changed.emit()
        return True

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def set_clean(self) -> None:
        self._clean_index = len(self._done)
        self._merge_open = False
        self.changed.emit()

    def is_clean(self) -> bool:
        return self._clean_index == len(self._done)
