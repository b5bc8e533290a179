"""Undoable edits: every command's undo restores the model exactly; redo re-applies it."""

from __future__ import annotations

import pytest

from designer.core import commands as c
from designer.core.analysis import analyze
from designer.core.design import Edge, Node
from designer.core.errors import ConnectionRefused
from designer.core.grouping import group_nodes, ungroup_node
from designer.core.serialization import design_to_dict
from designer.core.summary import summarize
from designer.templates import new_from_template


@pytest.fixture
def design():
    return new_from_template("lenet5")


def roundtrip(design, cmd):
    stack = c.UndoStack(design)
    before = design_to_dict(design)
    stack.push(cmd)
    after = design_to_dict(design)
    assert after != before
    assert stack.undo()
    assert design_to_dict(design) == before
    assert stack.redo()
    assert design_to_dict(design) == after
    return stack


def test_add_remove_move(design):
    roundtrip(design, c.AddNodes([Node("new", "ReLU", "extra", {}, (5, 5))]))
    roundtrip(design, c.RemoveNodes([design.find("relu1").id, design.find("fc2").id]))
    nid = design.find("conv1").id
    roundtrip(design, c.MoveNodes({nid: (design.nodes[nid].position, (100.0, 7.0))}))


def test_connect_and_disconnect(design):
    edge = design.in_edges(design.find("relu3").id)[0]
    roundtrip(design, c.Disconnect(edge))  # leaves the edge removed (redone)
    assert edge not in design.edges
    roundtrip(design, c.Connect(edge))


def test_set_param_changes_shapes_and_undo_restores_them(design):
    conv = design.find("conv1").id
    before = analyze(design).shape(design.find("pool1").id)
    stack = roundtrip(design, c.SetNodeAttr(conv, "params.out_channels", 12))
    assert analyze(design).shape(design.find("pool1").id) == (12, 14, 14)
    stack.undo()
    assert analyze(design).shape(design.find("pool1").id) == before


def test_consecutive_edits_of_one_field_merge(design):
    stack = c.UndoStack(design)
    conv = design.find("conv1").id
    for v in (7, 8, 9):
        stack.push(c.SetNodeAttr(conv, "params.out_channels", v))
    assert stack.undo_text() == "Change out_channels"
    stack.undo()
    assert design.nodes[conv].params["out_channels"] == 6
    assert not stack.can_undo()


def test_end_merge_starts_a_new_step(design):
    stack = c.UndoStack(design)
    conv = design.find("conv1").id
    stack.push(c.SetNodeAttr(conv, "params.out_channels", 7))
    stack.end_merge()
    stack.push(c.SetNodeAttr(conv, "params.out_channels", 8))
    stack.undo()
    assert design.nodes[conv].params["out_channels"] == 7


def test_node_attrs_and_design_settings(design):
    conv = design.find("conv1").id
    roundtrip(design, c.SetNodeAttr(conv, "name", "first_conv"))
    roundtrip(design, c.SetNodeAttr(conv, "trainable", False))
    roundtrip(design, c.SetNodeAttr(conv, "lr_mult", 0.1))
    roundtrip(design, c.SetDesignSetting("num_classes", 5))
    roundtrip(design, c.SetDesignSetting("input_shape", (1, 32, 32)))


def test_frozen_node_counts_as_non_trainable(design):
    conv = design.find("conv1").id
    c.UndoStack(design).push(c.SetNodeAttr(conv, "trainable", False))
    s = summarize(design)
    assert s.non_trainable_params == 156 and s.trainable_params == 61706 - 156


def test_macro_is_one_step(design):
    stack = c.UndoStack(design)
    before = design_to_dict(design)
    with stack.macro("Delete 2 nodes"):
        stack.push(c.RemoveNodes([design.find("relu1").id]))
        stack.push(c.RemoveNodes([design.find("relu2").id]))
    assert stack.undo_text() == "Delete 2 nodes"
    stack.undo()
    assert design_to_dict(design) == before


def test_clean_state_tracks_saves(design):
    stack = c.UndoStack(design)
    assert stack.is_clean()
    stack.push(c.SetNodeAttr(design.find("conv1").id, "params.out_channels", 7))
    assert not stack.is_clean()
    stack.set_clean()
    assert stack.is_clean()
    stack.undo()
    assert not stack.is_clean()
    stack.redo()
    assert stack.is_clean()


def test_group_and_ungroup_are_undoable_and_keep_the_network(design):
    ids = [design.find(n).id for n in ("conv2", "relu2", "pool2")]
    summary_before = summarize(design)
    stack = roundtrip(design, c.Snapshot(lambda d: group_nodes(d, ids, "Stage2"), "Group"))
    block_node = next(n for n in design.nodes.values() if n.type == "Block")
    assert len(design.blocks["Stage2"].nodes) == 5  # input, 3 layers, output
    s = summarize(design)
    assert (s.total_params, s.macs, s.output_shape) == (
        summary_before.total_params,
        summary_before.macs,
        summary_before.output_shape,
    )
    assert analyze(design).problems == []
    stack.push(c.Snapshot(lambda d: ungroup_node(d, block_node.id), "Ungroup"))
    assert analyze(design).problems == []
    assert summarize(design).total_params == summary_before.total_params
    assert not any(n.type == "Block" for n in design.nodes.values())


def test_ungroup_a_builtin_block():
    from tests.helpers import chain

    d = chain(
        ("ResidualBasicBlock", {"name": "res", "out_channels": 8, "stride": 2}),
        "GlobalAvgPool",
        ("Linear", {"out_features": 10}),
    )
    before = summarize(d)
    new = ungroup_node(d, d.find("res").id)
    assert len(new) >= 8
    after = summarize(d)
    assert (after.total_params, after.macs) == (before.total_params, before.macs)
    assert analyze(d).problems == []


def test_group_refuses_two_outputs_and_heads(design):
    from designer.core.builder import GraphBuilder

    GraphBuilder(design).add("ReLU", design.find("fc1").id, name="side")  # fc1 feeds out twice
    with pytest.raises(ConnectionRefused, match="one output"):
        group_nodes(design, [design.find("fc1").id, design.find("relu3").id], "B")
    with pytest.raises(ConnectionRefused, match="cannot be grouped"):
        group_nodes(design, [design.find("output").id], "B")


@pytest.mark.parametrize(
    "src, dst, port, reason",
    [
        ("fc3", "conv1", "in", "already fed"),
        ("relu4", "relu4", "in", "cannot feed itself"),
        ("output", "relu4", "in", "is an output"),
        ("fc1", "relu1", "x", "no input port"),
    ],
)
def test_connections_refused_with_reason(design, src, dst, port, reason):
    with pytest.raises(ConnectionRefused, match=reason):
        design.check_connect(Edge(design.find(src).id, design.find(dst).id, port))


def test_cycle_refused(design):
    relu = design.find("relu1").id
    design.remove_edge(design.in_edges(relu)[0])
    with pytest.raises(ConnectionRefused, match="cycle"):
        design.check_connect(Edge(design.find("fc1").id, relu))


def test_the_model_refuses_a_bad_edge_and_stays_as_it_was(design):
    edges = list(design.edges)
    fed = Edge(design.find("fc3").id, design.find("conv1").id)
    with pytest.raises(ConnectionRefused, match="already fed"):
        design.add_edge(fed)
    stack = c.UndoStack(design)
    with pytest.raises(ConnectionRefused, match="already fed"):
        stack.push(c.Connect(fed))
    relu = Node("x", "ReLU", "extra")
    with pytest.raises(ConnectionRefused, match="is an output"):  # all of it or nothing
        stack.push(
            c.AddNodes(
                [relu],
                [Edge(design.find("fc1").id, relu.id), Edge(design.find("output").id, relu.id)],
            )
        )
    assert design.edges == edges and "x" not in design.nodes and not stack.can_undo()


def test_a_file_and_undo_put_back_an_edge_the_model_would_refuse(design):
    from designer.core.serialization import design_from_dict

    data = design_to_dict(design)
    conv1, fc3 = design.find("conv1").id, design.find("fc3").id
    data["edges"].append({"from": fc3, "to": conv1, "port": "in"})
    loaded = design_from_dict(data)
    assert any("connected twice" in p.message for p in analyze(loaded).problems)
    before = design_to_dict(loaded)
    stack = c.UndoStack(loaded)
    stack.push(c.RemoveNodes([fc3]))
    stack.undo()
    assert design_to_dict(loaded) == before
