"""The canvas: palette drops, connecting ports by mouse, refused connections, moves, rubber band,
delete, copy/paste. Asserts on the design and on the scene's items."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.app.canvas.style import NODE_H, NODE_W
from designer.core.commands import Disconnect
from designer.core.design import Edge
from designer.core.layout import ROW
from designer.core.serialization import design_to_dict

from .gestures import click, drag, node_point, port_point, to_view


def ids(window, name):
    return window.editor.design.find(name).id


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_drop_from_palette_adds_a_node(window):
    design = window.editor.design
    entry = window.palette_panel.find_entry("Conv2d")
    mime = window.palette_panel.tree.mimeData([entry])  # what a real drag from the palette carries
    vp = window.view.viewport()
    at = QPoint(vp.width() - 120, 90)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(at), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    before = set(design.nodes)
    QApplication.sendEvent(vp, drop)

    added = [design.nodes[n] for n in design.nodes if n not in before]
    assert [n.type for n in added] == ["Conv2d"]
    node = added[0]
    expected = window.view.mapToScene(at)
    assert abs(node.position[0] - expected.x()) <= 5 and abs(node.position[1] - expected.y()) <= 5
    assert node.id in window.scene.node_items
    assert window.scene.selected_node_ids() == [node.id]
    assert window.actions_.undo.text() == "&Undo Add Convolution 2D"
    window.editor.undo()
    assert node.id not in design.nodes and node.id not in window.scene.node_items


def test_palette_double_click_adds_below_the_selected_layer(window):
    design = window.editor.design
    relu = ids(window, "relu1")
    window.scene.select_nodes([relu])
    entry = window.palette_panel.find_entry("Dropout")
    window.palette_panel.tree.itemDoubleClicked.emit(entry, 0)
    new = window.scene.selected_node_ids()[0]
    assert design.nodes[new].type == "Dropout"
    assert Edge(relu, new, "in") in design.edges
    assert design.nodes[new].position[1] > design.nodes[relu].position[1]


def test_palette_search_filters_entries(window):
    window.palette_panel.search.setText("pool")
    visible = [
        e.data(0, Qt.ItemDataRole.UserRole)[0]
        for e in window.palette_panel.entries()
        if not e.isHidden()
    ]
    assert "MaxPool2d" in visible and "AvgPool2d" in visible and "Conv2d" not in visible


def test_connect_two_ports_by_mouse(window):
    design = window.editor.design
    relu, flatten = ids(window, "relu1"), ids(window, "flatten")
    window.editor.stack.push(Disconnect(Edge(relu, flatten, "in")))
    window.view.show_drawing()
    assert window.scene.node_items[flatten].view.shape == "?"

    drag(window, port_point(window, relu, "out"), port_point(window, flatten, "in"))

    assert Edge(relu, flatten, "in") in design.edges
    assert Edge(relu, flatten, "in") in window.scene.edge_items
    assert window.scene.node_items[flatten].view.shape == "256"  # 4 x 8 x 8 flattened
    assert window.editor.analysis.problems == []
    assert window.actions_.undo.text() == "&Undo Connect"


def test_connect_by_dropping_on_a_node_body_uses_its_free_port(window):
    design = window.editor.design
    relu, flatten = ids(window, "relu1"), ids(window, "flatten")
    window.editor.stack.push(Disconnect(Edge(relu, flatten, "in")))
    drag(window, port_point(window, flatten, "in"), node_point(window, relu))  # input -> source
    assert Edge(relu, flatten, "in") in design.edges


def test_a_taken_port_offers_to_replace_its_connection(window):
    design = window.editor.design
    before = design_to_dict(design)
    conv, fc = ids(window, "conv1"), ids(window, "fc1")
    window.answers.replies["confirm"] = False
    drag(window, port_point(window, conv, "out"), port_point(window, fc, "in"))
    (question,) = window.answers.asked
    assert "Input 'in' of fc1 is fed by flatten" in question[1][1]
    assert design_to_dict(design) == before  # declined: nothing changes
    # Where replacing would not help (a cycle), the refusal says why.
    window.answers.replies.pop("confirm")
    relu = ids(window, "relu1")
    drag(window, port_point(window, fc, "out"), port_point(window, relu, "in"))
    assert design_to_dict(design) == before
    message = window.statusBar().currentMessage()
    assert "would make a cycle" in message and "relu1" in message
    assert window.view.toast.isVisible() and "cycle" in window.view.toast.text()


def test_a_cycle_is_refused_with_the_reason(window):
    design = window.editor.design
    conv, relu = ids(window, "conv1"), ids(window, "relu1")
    window.editor.stack.push(Disconnect(Edge(ids(window, "input"), conv, "in")))
    before = design_to_dict(design)
    drag(window, port_point(window, relu, "out"), port_point(window, conv, "in"))
    assert design_to_dict(design) == before
    assert "cycle" in window.statusBar().currentMessage()


def test_dragging_a_node_is_one_undo_step(window):
    design = window.editor.design
    conv = ids(window, "conv1")
    old = design.nodes[conv].position
    start = node_point(window, conv)
    drag(window, start, start + QPoint(150, 20), steps=10)
    new = design.nodes[conv].position
    assert new != old and window.scene.node_items[conv].pos() == QPointF(*new)
    assert window.editor.stack.undo_text() == "Move conv1"
    window.editor.undo()
    assert design.nodes[conv].position == old
    assert window.scene.node_items[conv].pos() == QPointF(*old)
    assert not window.editor.stack.can_undo()


def test_rubber_band_then_delete_is_one_step(window):
    design = window.editor.design
    before = design_to_dict(design)
    conv, relu = (
        window.scene.node_items[ids(window, "conv1")],
        window.scene.node_items[ids(window, "relu1")],
    )
    top_left = to_view(window, conv.pos() + QPointF(-NODE_W / 2 - 40, -NODE_H / 2 + 4))
    bottom_right = to_view(window, relu.pos() + QPointF(NODE_W / 2 + 40, NODE_H / 2 - 4))
    drag(window, top_left, bottom_right)
    assert set(window.scene.selected_node_ids()) == {conv.node_id, relu.node_id}

    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert conv.node_id not in design.nodes and relu.node_id not in design.nodes
    assert window.editor.stack.undo_text() == "Delete 2 items"
    window.editor.undo()
    assert design_to_dict(design) == before
    assert len(window.scene.node_items) == len(design.nodes)
    assert sum(len(v) for v in window.scene.edge_items.values()) == len(design.edges)


def test_copy_paste_and_duplicate(window):
    design = window.editor.design
    conv, relu = ids(window, "conv1"), ids(window, "relu1")
    window.scene.select_nodes([conv, relu])
    window.actions_.copy.trigger()
    window.actions_.paste.trigger()
    pasted = window.scene.selected_node_ids()
    assert len(pasted) == 2 and not set(pasted) & {conv, relu}
    names = {design.nodes[n].name for n in pasted}
    assert names == {"conv2", "relu2"}
    a, b = pasted
    assert Edge(a, b, "in") in design.edges  # the edge between the copies came along
    assert design.nodes[a].params == design.nodes[conv].params
    window.actions_.duplicate.trigger()
    assert len(window.scene.selected_node_ids()) == 2
    assert len(design.nodes) == 10
    window.editor.undo()
    window.editor.undo()
    assert len(design.nodes) == 6


def test_arrange_lays_out_in_one_step(window):
    design = window.editor.design
    for n in design.nodes.values():
        n.position = (0.0, 0.0)
    window.editor.arrange()
    positions = {n.position for n in design.nodes.values()}
    assert len(positions) == len(design.nodes)
    assert window.editor.stack.undo_text() == "Arrange"


def overlapping(design):
    """Pairs of nodes whose boxes (with room for ports) overlap."""
    from designer.app.editor import FOOTPRINT

    nodes = list(design.nodes.values())
    return [
        (a.name, b.name)
        for i, a in enumerate(nodes)
        for b in nodes[i + 1 :]
        if abs(a.position[0] - b.position[0]) < FOOTPRINT[0]
        and abs(a.position[1] - b.position[1]) < FOOTPRINT[1]
    ]


def test_pasted_and_duplicated_nodes_land_on_free_space_in_view(window):
    design = window.editor.design
    assert overlapping(design) == []
    window.scene.select_nodes([ids(window, "conv1"), ids(window, "relu1")])
    window.actions_.copy.trigger()
    for _ in range(3):  # pasting again and again never stacks copies on each other
        window.actions_.paste.trigger()
        assert overlapping(design) == []
    window.scene.select_nodes([ids(window, "fc1")])
    window.actions_.duplicate.trigger()
    (copy,) = window.scene.selected_node_ids()
    assert design.nodes[copy].name == "fc1_copy" and overlapping(design) == []
    window.actions_.duplicate.trigger()
    assert design.nodes[window.scene.selected_node_ids()[0]].name == "fc1_copy2"
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    item = window.scene.node_items[window.scene.selected_node_ids()[0]]
    assert visible.contains(item.sceneBoundingRect())  # the view scrolled to it


def test_adding_below_the_selection_makes_room(window):
    design = window.editor.design
    before = {n.name: n.position for n in design.nodes.values()}
    window.scene.select_nodes([ids(window, "relu1")])
    window.editor.add_after_selection("Dropout")
    new = design.nodes[window.scene.selected_node_ids()[0]]
    assert new.position == (before["relu1"][0], before["relu1"][1] + ROW)
    assert design.find("flatten").position[1] == before["flatten"][1] + ROW
    assert design.find("conv1").position == before["conv1"]
    assert overlapping(design) == []
    window.editor.undo()  # one step: the addition and the room made for it
    assert {n.name: n.position for n in design.nodes.values()} == before


def edge_item(window, src_name, dst_name):
    design = window.editor.design
    src, dst = ids(window, src_name), ids(window, dst_name)
    edge = next(e for e in design.edges if e.src == src and e.dst == dst)
    return window.scene.edge_items[edge][0]


def test_a_click_near_an_edge_selects_it_and_delete_removes_it(window):
    design = window.editor.design
    item = edge_item(window, "relu1", "flatten")
    mid = item.mapToScene(item._path.pointAtPercent(0.5))
    click(window, to_view(window, mid + QPointF(6 / window.view.zoom(), 0)))  # 6 px beside it
    assert window.scene.selected_edges() == [item.edge]
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert item.edge not in design.edges and window.editor.stack.undo_text() == "Delete connection"
    window.editor.undo()
    assert item.edge in design.edges


def test_dragging_an_edge_end_off_its_port_disconnects_or_moves_it(window):
    design = window.editor.design
    edge = edge_item(window, "relu1", "flatten").edge
    flatten = ids(window, "flatten")
    start = port_point(window, flatten, "in")
    drag(window, start, start + QPoint(160, 40))  # to empty canvas
    assert edge not in design.edges and window.editor.stack.undo_text() == "Disconnect"
    window.editor.undo()
    conv, fc1 = ids(window, "conv1"), ids(window, "fc1")
    assert window.scene.edge_items[edge][0].isVisible()
    drag(window, port_point(window, fc1, "in"), port_point(window, fc1, "in"))  # put back
    assert len(design.edges) == 5 and window.editor.stack.redo_text() == "Disconnect"
    # An input already fed: connecting to it offers to replace the connection.
    window.answers.replies["confirm"] = True
    drag(window, port_point(window, conv, "out"), start)
    assert Edge(conv, flatten, "in") in design.edges and edge not in design.edges
    assert [n for n, _ in window.answers.asked] == ["confirm"]
    assert "fed by relu1" in window.answers.asked[0][1][1]
    assert window.editor.stack.undo_text() == "Reconnect" and len(design.edges) == 5
    window.editor.undo()
    assert edge in design.edges and Edge(conv, flatten, "in") not in design.edges


def test_delete_and_reconnect_keeps_shapes_valid(window):
    design = window.editor.design
    relu, conv, flatten = ids(window, "relu1"), ids(window, "conv1"), ids(window, "flatten")
    window.scene.select_nodes([relu])
    QTest.keyClick(
        window.view,
        Qt.Key.Key_Delete,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert relu not in design.nodes and Edge(conv, flatten, "in") in design.edges
    assert not window.editor.analysis.problems
    assert window.editor.stack.undo_text() == "Delete relu1 and reconnect"
    window.editor.undo()
    assert relu in design.nodes and len(design.edges) == 5
    # Bypassing the flatten would feed 4 x 8 x 8 to the head's Linear: refused, nothing changes.
    fc1 = ids(window, "fc1")
    window.editor.set_node_attr(fc1, "params.out_features", 10)
    window.scene.select_nodes([flatten])
    before = design_to_dict(design)
    assert not window.editor.delete_and_reconnect()
    assert (
        design_to_dict(design) == before
        and "Cannot delete flatten" in window.statusBar().currentMessage()
    )


def test_edge_menu_inserts_a_layer_into_the_connection(window):
    design = window.editor.design
    item = edge_item(window, "conv1", "relu1")
    window.scene.menu_edge = item.edge
    menu = window.actions_.context_menu("")
    texts = [a.text() for a in menu.actions()]
    assert texts[:2] == ["&Disconnect", "&Insert layer here"]
    insert = menu.actions()[1].menu()
    bn = next(a for a in insert.actions() if a.text() == "Batch normalization")
    bn.trigger()
    menu.deleteLater()
    (new,) = window.scene.selected_node_ids()
    conv, relu = ids(window, "conv1"), ids(window, "relu1")
    assert Edge(conv, new, "in") in design.edges and Edge(new, relu, "in") in design.edges
    assert not window.editor.analysis.problems and overlapping(design) == []
    window.editor.undo()
    assert new not in design.nodes and Edge(conv, relu, "in") in design.edges


def test_names_stay_legible_when_zoomed_out(window):
    design = window.editor.design
    item = window.scene.node_items[ids(window, "conv1")]
    assert not item.overview_label.isVisible()
    window.view.set_zoom(0.2)  # boxes 12 px tall: the name goes beside the box, at screen size
    assert item.overview_label.isVisible() and item.overview_label.text == "conv1"
    window.editor.set_node_attr(item.node_id, "name", "stem")
    assert item.overview_label.text == "stem"
    window.view.set_zoom(1.0)
    assert not item.overview_label.isVisible()
    assert len(design.nodes) == len(window.scene.node_items)
