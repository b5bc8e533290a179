"""Undo/redo restore the model exactly (compared as design files) through a mixed session, and
the menu entries name the action."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from designer.core.design import Edge
from designer.core.serialization import design_to_dict


def test_undo_redo_restore_the_model_exactly(window):
    ed = window.editor
    d = ed.design
    states = [design_to_dict(d)]
    texts = []

    def step(action):
        action()
        states.append(design_to_dict(d))
        texts.append(ed.stack.undo_text())

    conv, relu, flatten = d.find("conv1").id, d.find("relu1").id, d.find("flatten").id
    step(lambda: ed.add_layer("BatchNorm", pos=QPointF(300, 100)))
    bn = window.scene.selected_node_ids()[0]
    step(lambda: ed.set_node_attr(conv, "params.out_channels", 6))
    step(lambda: ed.move_nodes({relu: (d.nodes[relu].position, (50.0, 60.0))}))
    step(lambda: ed.connect(Edge(conv, bn, "in")))
    step(lambda: (window.scene.select_nodes([relu, flatten]), ed.delete_selection()))
    step(lambda: ed.set_setting("num_classes", 7))
    step(lambda: (window.scene.select_nodes([conv, bn]), ed.group_selection("pair")))
    assert texts == [
        "Add Batch normalization",
        "Change out_channels",
        "Move relu1",
        "Connect",
        "Delete 2 items",
        "Change num classes",
        "Group into pair",
    ]
    assert len({str(s) for s in states}) == len(states)  # every step changed something

    for i in range(len(texts), 0, -1):
        assert window.actions_.undo.text() == f"&Undo {texts[i - 1]}"
        window.actions_.undo.trigger()
        assert design_to_dict(d) == states[i - 1]
        assert set(window.scene.node_items) == set(d.nodes)
    assert not window.actions_.undo.isEnabled()
    for i in range(len(texts)):
        assert window.actions_.redo.text() == f"&Redo {texts[i]}"
        window.actions_.redo.trigger()
        assert design_to_dict(d) == states[i + 1]
        assert set(window.scene.node_items) == set(d.nodes)
    assert not window.actions_.redo.isEnabled()
