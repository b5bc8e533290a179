"""Blocks: a built-in block opens read-only on double-click with a breadcrumb back; group a
selection into a custom block, edit its interior, ungroup, save a selection to the palette."""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.serialization import design_to_dict

from .gestures import double_click, next_turn, node_point


def residual_design() -> Design:
    d = Design("Res", input_shape=(3, 16, 16), num_classes=10)
    b = GraphBuilder(d)
    x = b.add("Input", name="input")
    x = b.add("Conv2d", x, name="stem", out_channels=8, kernel_size=3, padding=1)
    x = b.add("ResidualBasicBlock", x, name="res1", out_channels=16, stride=2)
    x = b.add("GlobalAvgPool", x, name="gap")
    x = b.add("Linear", x, name="fc", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    return d


def test_built_in_block_opens_read_only_with_a_breadcrumb(make_window):
    window = make_window(residual_design())
    ed = window.editor
    res = ed.design.find("res1")
    double_click(window, node_point(window, res.id))

    assert [f.title for f in ed.frames] == ["res1"] and not ed.editable
    inner = window.scene.graph
    assert inner is not ed.design and window.scene.readonly
    types = sorted(n.type for n in inner.nodes.values())
    assert types.count("Conv2d") == 3 and "Add" in types  # two 3x3 convs and the projection
    assert len(window.scene.node_items) == len(inner.nodes)
    out = next(n for n in inner.nodes.values() if n.type == "BlockOutput")
    assert window.scene.node_items[out.id].view.shape == "16 x 8 x 8"
    assert [b.text() for b in window.breadcrumb.buttons] == ["Res", "res1"]
    before = design_to_dict(ed.design)
    ed.add_layer("ReLU")  # refused: read-only
    assert design_to_dict(ed.design) == before
    assert "read-only" in window.statusBar().currentMessage()

    window.breadcrumb.buttons[0].click()
    assert ed.frames == [] and window.scene.graph is ed.design
    assert len(window.scene.node_items) == len(ed.design.nodes)


def test_group_edit_inside_and_undo(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    original = design_to_dict(d)
    stem, res = d.find("stem").id, d.find("res1").id
    window.scene.select_nodes([stem, res])
    window.answers.replies["text"] = "trunk"
    window.actions_.group.trigger()
    next_turn()

    assert "trunk" in d.blocks
    block_node = next(n for n in d.nodes.values() if n.type == "Block")
    assert block_node.params == {"block": "trunk"} and stem not in d.nodes
    assert window.scene.node_items[block_node.id].view.shape == "16 x 8 x 8"
    assert window.palette_panel.find_entry("Block", "trunk") is not None
    assert ed.analysis.problems == []
    grouped = design_to_dict(d)

    assert ed.open_block(block_node.id)
    assert ed.editable and ed.block_path == ("trunk",) and window.scene.graph is d.blocks["trunk"]
    inner_stem = d.blocks["trunk"].find("stem")
    ed.set_node_attr(inner_stem.id, "params.stride", 2)
    assert d.blocks["trunk"].nodes[inner_stem.id].params["stride"] == 2
    assert window.scene.node_items[inner_stem.id].view.shape == "8 x 8 x 8"
    assert ed.levels[0].analysis.shape(block_node.id) == (16, 4, 4)  # the top level followed

    ed.undo()
    assert design_to_dict(d) == grouped
    ed.go_up()
    ed.undo()
    assert design_to_dict(d) == original
    assert len(window.scene.node_items) == len(d.nodes)


def test_ungroup_a_built_in_block_lays_its_layers_out(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    original = design_to_dict(d)
    window.scene.select_nodes([d.find("res1").id])
    new = ed.ungroup_selection()
    assert len(new) == 9 and not any(n.type == "ResidualBasicBlock" for n in d.nodes.values())
    positions = [n.position for n in d.nodes.values()]
    assert len(set(positions)) == len(positions)
    assert ed.analysis.problems == []
    assert ed.analysis.shape(d.find("output").id) == (10,)
    assert len(window.scene.node_items) == len(d.nodes)
    ed.undo()
    assert design_to_dict(d) == original


def test_save_selection_as_block_keeps_the_layers(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    window.scene.select_nodes([d.find("gap").id, d.find("fc").id])
    window.answers.replies["text"] = "head"
    window.actions_.save_block.trigger()
    next_turn()
    assert "head" in d.blocks and d.find("gap") is not None
    entry = window.palette_panel.find_entry("Block", "head")
    window.palette_panel.tree.itemDoubleClicked.emit(entry, 0)
    added = d.nodes[window.scene.selected_node_ids()[0]]
    assert added.type == "Block" and added.params["block"] == "head"
    ed.undo()
    ed.undo()
    assert "head" not in d.blocks


def test_grouping_refuses_a_selection_with_two_outputs(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    before = design_to_dict(d)
    window.scene.select_nodes([d.find("input").id, d.find("stem").id])
    assert ed.group_selection("bad") is None
    assert design_to_dict(d) == before
    assert "cannot be grouped" in window.statusBar().currentMessage()


def test_a_block_cannot_be_placed_inside_itself(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    window.scene.select_nodes([d.find("stem").id])
    window.answers.replies["text"] = "stage"
    window.actions_.group.trigger()
    block_node = next(n for n in d.nodes.values() if n.type == "Block")
    assert ed.open_block(block_node.id)
    before = design_to_dict(d)
    assert ed.add_layer("Block", "stage") is None
    assert design_to_dict(d) == before
    assert "inside itself" in window.statusBar().currentMessage()


def test_inspector_edits_a_built_in_blocks_params(make_window):
    window = make_window(residual_design())
    d = window.editor.design
    res = d.find("res1")
    window.scene.select_nodes([res.id])
    spin = window.inspector.fields["params.out_channels"].editor
    spin.setValue(32)
    assert d.nodes[res.id].params["out_channels"] == 32
    assert window.scene.node_items[res.id].view.shape == "32 x 8 x 8"
    assert window.scene.node_items[d.find("fc").id].view.in_shapes == ((32,),)


def test_context_menu_offers_block_actions(make_window):
    window = make_window(residual_design())
    res = window.editor.design.find("res1").id
    window.scene.select_nodes([res])
    menu = window.actions_.context_menu(res)
    texts = [a.text() for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    assert "&Open block" in texts and "U&ngroup" in texts and "&Delete" in texts
    menu.deleteLater()


def test_a_new_blocks_interior_is_laid_out(make_window):
    window = make_window(residual_design())
    ed = window.editor
    d = ed.design
    window.scene.select_nodes([d.find("stem").id, d.find("res1").id])
    ed.group_selection("trunk")
    positions = [n.position for n in d.blocks["trunk"].nodes.values()]
    assert len(set(positions)) == len(positions) == 4  # input, stem, res1, output
    ys = {n.name: n.position[1] for n in d.blocks["trunk"].nodes.values()}
    assert ys["input"] < ys["stem"] < ys["res1"] < ys["output"]
