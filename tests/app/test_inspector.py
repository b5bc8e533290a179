"""The inspector: edits change the model and the shape labels downstream; invalid values are
shown in red with the reason and not applied; design settings when nothing is selected."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from designer.core.serialization import design_to_dict
from tests.app.gestures import next_turn


def select(window, name):
    node = window.editor.design.find(name)
    window.scene.select_nodes([node.id])
    return node


def test_param_edit_changes_model_and_downstream_labels(window):
    design = window.editor.design
    conv = select(window, "conv1")
    relu = design.find("relu1")
    field = window.inspector.fields["params.out_channels"]
    spin = field.editor
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "12")  # typed: "1" then "12", each applied as it is typed

    assert design.nodes[conv.id].params["out_channels"] == 12
    assert window.scene.node_items[conv.id].view.shape == "12 x 8 x 8"
    assert window.scene.node_items[relu.id].view.shape == "12 x 8 x 8"
    flatten = design.find("flatten")
    assert window.scene.node_items[flatten.id].view.shape == "768"
    edge_items = window.scene.edge_items
    assert {it.label for e, items in edge_items.items() if e.src == relu.id for it in items} == {
        "12 x 8 x 8"
    }
    # Consecutive edits of one field are one undo step.
    assert window.editor.stack.undo_text() == "Change out_channels"
    window.editor.undo()
    assert design.nodes[conv.id].params["out_channels"] == 4
    assert window.scene.node_items[flatten.id].view.shape == "256"  # the canvas at once
    next_turn()  # the panels at the end of the turn
    assert spin.value() == 4


def test_invalid_value_is_shown_in_red_and_not_applied(window):
    design = window.editor.design
    conv = select(window, "conv1")
    field = window.inspector.fields["params.kernel_size"]
    edit = field.editor
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, "0")
    assert field.has_error() and "at least 1" in field.error.text()
    assert "e03131" in edit.styleSheet()
    assert design.nodes[conv.id].params["kernel_size"] == 3
    edit.selectAll()
    QTest.keyClicks(edit, "3, a")
    assert field.has_error() and "[h, w]" in field.error.text()
    assert design.nodes[conv.id].params["kernel_size"] == 3
    edit.selectAll()
    QTest.keyClicks(edit, "3x5")
    assert not field.has_error()
    assert design.nodes[conv.id].params["kernel_size"] == [3, 5]
    edit.selectAll()
    QTest.keyClicks(edit, "2x")  # not 2: half-typed or mistyped text is red, with the reason
    assert field.has_error() and "'2x' is not a whole number" in field.error.text()
    assert design.nodes[conv.id].params["kernel_size"] == 2  # applied as "2" was typed, no more


def test_numbers_are_parsed_strictly():
    from designer.app.panels.fields import parse
    from designer.core import params as P

    size, whole, rate = P.Size("k", 3), P.OptionalInt("n", None), P.Float("p", 0.5)
    assert parse(size, "3x5") == ([3, 5], None) and parse(size, "[3, 5]") == ([3, 5], None)
    assert parse(size, " 7 ") == (7, None)
    for text in ("2x", "x2", "3,,5", "3.5", "3 five"):
        value, why = parse(size, text)
        assert value is None and ("not a whole number" in why or "missing" in why), text
    assert (
        parse(whole, "1_0")[0] is None and "'1_0' is not a whole number" in parse(whole, "1_0")[1]
    )
    assert parse(whole, "none") == (None, None) and parse(whole, "12") == (12, None)
    assert parse(rate, "1e-3") == (0.001, None) and parse(rate, ".5") == (0.5, None)
    for text in ("0.5x", "nan", "inf", "1_0.5"):
        assert parse(rate, text)[0] is None and "not a number" in parse(rate, text)[1], text


def test_float_field_validates(window):
    design = window.editor.design
    window.editor.add_after_selection("Dropout")
    node_id = window.scene.selected_node_ids()[0]
    field = window.inspector.fields["params.p"]
    field.editor.setFocus()
    field.editor.selectAll()
    QTest.keyClicks(field.editor, "2")
    assert field.has_error() and "at most 1" in field.error.text()
    assert design.nodes[node_id].params["p"] == 0.5
    QTest.keyClicks(field.editor, "x")
    assert "float expected" in field.error.text()
    field.editor.selectAll()
    QTest.keyClicks(field.editor, "0.25")
    assert design.nodes[node_id].params["p"] == 0.25


def test_name_trainable_and_lr_multiplier(window):
    design = window.editor.design
    conv = select(window, "conv1")
    name = window.inspector.fields["name"]
    name.editor.setFocus()
    name.editor.selectAll()
    QTest.keyClicks(name.editor, "relu1")
    assert name.has_error() and "already called relu1" in name.error.text()
    QTest.keyClick(name.editor, Qt.Key.Key_Return)
    assert design.nodes[conv.id].name == "conv1"
    name.editor.selectAll()
    QTest.keyClicks(name.editor, "stem")
    assert design.nodes[conv.id].name == "conv1"  # a name is applied on Enter, not per letter
    QTest.keyClick(name.editor, Qt.Key.Key_Return)
    assert design.nodes[conv.id].name == "stem"
    assert window.scene.node_items[conv.id].view.name == "stem"

    window.inspector.fields["trainable"].editor.click()
    assert design.nodes[conv.id].trainable is False
    assert window.scene.node_items[conv.id].view.frozen
    lr = window.inspector.fields["lr_mult"].editor
    lr.setFocus()
    lr.selectAll()
    QTest.keyClicks(lr, "0.1")
    assert design.nodes[conv.id].lr_mult == 0.1


def test_choice_and_bool_params(window):
    design = window.editor.design
    conv = select(window, "conv1")
    window.inspector.fields["params.bias"].editor.click()
    assert design.nodes[conv.id].params["bias"] is False
    window.editor.add_after_selection("GELU")
    gelu = window.scene.selected_node_ids()[0]
    combo = window.inspector.fields["params.approximate"].editor
    combo.setCurrentIndex(combo.findText("tanh"))
    assert design.nodes[gelu].params["approximate"] == "tanh"


def test_design_settings_when_nothing_is_selected(window):
    design = window.editor.design
    window.scene.select_nodes([])
    assert set(window.inspector.fields) == {
        "name",
        "description",
        "input_shape",
        "task",
        "num_classes",
    }
    window.answers.replies["confirm"] = False  # keep the head at 10 when asked
    classes = window.inspector.fields["num_classes"].editor
    classes.setFocus()
    classes.selectAll()
    QTest.keyClicks(classes, "5")
    assert design.num_classes == 5
    next_turn()
    head = design.find("output")
    assert window.scene.node_items[head.id].view.problems  # 10 features for 5 classes
    assert window.problems.count() == 1 and "5 classes" in window.problems.item(0).text()

    shape = window.inspector.fields["input_shape"]
    shape.editor.setFocus()
    shape.editor.selectAll()
    QTest.keyClicks(shape.editor, "3, 16")
    assert shape.has_error() and "three positive numbers" in shape.error.text()
    QTest.keyClick(shape.editor, Qt.Key.Key_Return)
    assert design.input_shape == (3, 8, 8)
    QTest.keyClicks(shape.editor, ", 16")
    assert not shape.has_error()
    QTest.keyClick(shape.editor, Qt.Key.Key_Return)
    assert design.input_shape == (3, 16, 16)
    conv = design.find("conv1")
    assert window.scene.node_items[conv.id].view.shape == "4 x 16 x 16"


def test_changing_classes_or_task_offers_to_update_the_head(window):
    design = window.editor.design
    window.scene.select_nodes([])
    window.answers.replies["confirm"] = True
    classes = window.inspector.fields["num_classes"].editor
    classes.setFocus()
    classes.selectAll()
    QTest.keyClicks(classes, "5")
    QTest.keyClick(classes, Qt.Key.Key_Return)
    (question,) = [a for name, a in window.answers.asked if name == "confirm"]
    assert "fc1's out_features to 5" in question[1]
    assert design.find("fc1").params["out_features"] == 5 and not window.editor.analysis.problems
    window.editor.undo()  # the head update is one step of its own
    assert design.find("fc1").params["out_features"] == 10 and design.num_classes == 5

    window.editor.redo()
    task = window.inspector.fields["task"].editor
    task.setCurrentIndex(task.findText("regression"))
    assert design.task == "regression"
    assert design.find("output").type == "RegressionOutput" and not window.editor.analysis.problems
    assert window.scene.node_items[design.find("output").id].view.subtitle == "RegressionOutput"


def test_problem_click_selects_the_node(window):
    design = window.editor.design
    fc = select(window, "fc1")
    before = design_to_dict(design)
    window.editor.set_node_attr(fc.id, "params.out_features", 7)
    next_turn()
    assert window.problems.count() == 1
    item = window.problems.item(0)
    window.scene.select_nodes([])
    window.problems.itemClicked.emit(item)
    assert window.scene.selected_node_ids() == [design.find("output").id]
    assert window.scene.node_items[design.find("output").id].badge.isVisible()
    assert "7 features" in window.scene.node_items[design.find("output").id].badge.toolTip()
    window.editor.undo()
    assert design_to_dict(design) == before
    next_turn()
    assert window.problems.item(0).flags() == Qt.ItemFlag.NoItemFlags  # "No problems"


def test_summary_panel_and_status_bar(window):
    s = window.summary.summary
    assert [r.name for r in s.rows] == ["conv1", "relu1", "flatten", "fc1", "output"]
    assert window.summary.model.rowCount() == 5
    assert f"{s.total_params:,}" in window.summary.totals.text()
    assert window.totals.text().startswith(f"{s.total_params / 1000:.3g}k params")


def test_totals_stay_known_while_there_are_problems(window):
    design = window.editor.design
    fc1 = design.find("fc1")
    feed = design.in_edges(fc1.id)[0]
    window.scene.set_selection(window.scene.edge_items[feed])
    window.editor.delete_selection()  # fc1 and the head lose their shapes
    next_turn()
    conv_params = 4 * 3 * 3 * 3 + 4
    s = window.summary.summary
    assert s.partial and s.total_params == conv_params and s.macs > 0
    assert window.totals.text().startswith(f"{conv_params} params")
    assert "(partial)" in window.totals.text() and "4 problems" in window.totals.text()
    assert "partial" in window.summary.totals.text()
    window.editor.undo()
    next_turn()
    assert not window.summary.summary.partial and "(partial)" not in window.totals.text()
    assert window.summary.summary.total_params > conv_params


def test_layers_without_parameters_have_no_trainable_flag(window):
    design = window.editor.design
    select(window, "relu1")
    assert "trainable" not in window.inspector.fields and "lr_mult" not in window.inspector.fields
    relu = design.find("relu1")
    window.editor.set_node_attr(relu.id, "trainable", False)  # e.g. from an old file
    assert not window.scene.node_items[relu.id].view.frozen  # no "frozen" tag on a ReLU
    select(window, "conv1")
    assert "trainable" in window.inspector.fields
    rows = {r.name: r for r in window.summary.summary.rows}
    model = window.summary.model
    index = {r.name: i for i, r in enumerate(window.summary.summary.rows)}
    assert model.headerData(4, Qt.Orientation.Horizontal) == "MACs"
    assert model.data(model.index(index["conv1"], 4)) == f"{rows['conv1'].macs / 1000:.3g}k"
    assert model.data(model.index(index["relu1"], 5)) == ""  # Trainable: nothing to train
    assert model.data(model.index(index["conv1"], 5)) == "yes"
    table = window.summary.table
    assert table.height() >= 5 * table.verticalHeader().defaultSectionSize()


def test_freezing_several_layers_is_one_step(window):
    design = window.editor.design
    ids = [design.find(n).id for n in ("conv1", "fc1")]
    window.scene.select_nodes(ids)
    box = window.inspector._multi
    assert box is not None and box.checkState() == Qt.CheckState.Checked
    box.click()
    assert [design.nodes[i].trainable for i in ids] == [False, False]
    assert window.editor.stack.undo_text() == "Freeze 2 nodes"
    next_turn()
    assert window.summary.summary.non_trainable_params > 0
    window.editor.undo()
    assert [design.nodes[i].trainable for i in ids] == [True, True]


def test_a_burst_of_edits_refreshes_the_panels_once_per_turn(window):
    design = window.editor.design
    conv = design.find("conv1")
    flatten = design.find("flatten")
    refreshes = []
    window.editor.refreshed.connect(lambda: refreshes.append(window.summary.summary.total_params))
    for channels in (5, 6, 7):
        window.editor.set_node_attr(conv.id, "params.out_channels", channels)
        window.editor.end_merge()
    assert window.scene.node_items[flatten.id].view.shape == "448"  # the canvas at once: 7x8x8
    assert refreshes == []
    next_turn()
    assert len(refreshes) == 1  # one refresh of summary, problems and status for three edits
    assert window.summary.summary.total_params == refreshes[0]
    assert f"{refreshes[0]:,}" in window.summary.totals.text()
