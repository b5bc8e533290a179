"""Transfer learning in the app: the canvas actions and the Adapt to dataset wizard as one
undoable step each, weights carried into a new file, a run that trains only the unfrozen part,
and two-stage fine-tuning as two runs, the second from the first's weights."""

from __future__ import annotations

import pytest
import torch

from designer.core import transfer as tr
from designer.core.serialization import save_design
from designer.interop.weights import WEIGHTS_KEY, read_tensors
from designer.templates import new_from_template
from designer.training.rundir import RunDir
from tests.app.test_training_workspace import WAIT_MS, set_setting, wait_idle
from tests.training.conftest import tiny_design


def saved_with_weights(tmp_path, design):
    """The design saved with a weights file of its own (as `new --pretrained` leaves it)."""
    from designer.codegen import compile_design
    from designer.interop.weights import save_weights

    torch.manual_seed(0)
    save_weights(compile_design(design), tmp_path / "net.safetensors")
    design.metadata[WEIGHTS_KEY] = "net.safetensors"
    save_design(design, tmp_path / "net.json")
    return tmp_path / "net.json"


def test_the_wizard_adapts_resnet18_to_digits_in_one_undoable_step(make_window, tmp_path):
    design = new_from_template("resnet18")
    path = saved_with_weights(tmp_path, design)
    window = make_window(design, str(path))
    before = read_tensors(tmp_path / "net.safetensors")
    plan = tr.AdaptPlan(
        dataset="digits", num_classes=10, size=(32, 32), freeze_until="layer4_1", head_lr_mult=10.0
    )
    window.answers.replies["adapt_to_dataset"] = plan
    assert window.transfer.adapt_to_dataset()
    d = window.editor.design
    assert d.input_shape == (3, 32, 32) and d.num_classes == 10
    fc = d.find("fc")
    assert fc.params["out_features"] == 10 and fc.trainable and fc.lr_mult == 10.0
    assert not d.find("conv1").trainable and not d.find("layer4_1").trainable
    assert d.metadata["training"]["dataset"] == "digits"
    carried = read_tensors(tmp_path / d.metadata[WEIGHTS_KEY])
    assert d.metadata[WEIGHTS_KEY] == "net-transfer-1.safetensors"
    assert torch.equal(carried["conv1.weight"], before["conv1.weight"])
    assert carried["fc.weight"].shape == (10, 512)
    window.editor.undo()  # one step back: the ImageNet network with its own weights
    d = window.editor.design
    assert d.input_shape == (3, 224, 224) and d.find("fc").params["out_features"] == 1000
    assert d.metadata[WEIGHTS_KEY] == "net.safetensors" and d.find("conv1").trainable


def test_a_refused_edit_says_why_and_changes_nothing(make_window):
    window = make_window(tiny_design())
    before = window.editor.stack.undo_text()
    input_id = next(n.id for n in window.editor.design.nodes.values() if n.type == "Input")
    assert not window.transfer.cut_here(input_id)
    assert "cut at a layer, not at the input" in window.answers.errors[-1]
    assert window.editor.stack.undo_text() == before


@pytest.mark.slow
def test_canvas_freeze_and_a_run_trains_only_the_unfrozen_part(make_window, qtbot, tmp_path):
    design = tiny_design()
    window = make_window(design)
    conv = next(n for n in window.editor.design.nodes.values() if n.type == "Conv2d")
    flatten = next(n for n in window.editor.design.nodes.values() if n.type == "Flatten")
    assert window.transfer.freeze_up_to(flatten.id)
    assert not window.editor.design.nodes[conv.id].trainable
    ws = window.show_training()
    qtbot.waitUntil(lambda: ws.data.summary is not None, timeout=WAIT_MS)
    set_setting(ws, "epochs", "1")
    ws.form.fields["device"].editor.setCurrentText("cpu")
    assert ws.train()
    wait_idle(ws, qtbot)
    run = ws.runs[0].path
    from designer.codegen import generate

    code = generate(window.editor.design)
    conv_name = code.module_names[conv.id]
    # The frozen conv's weights are its initial ones: the same as a fresh model with the seed.
    from designer.training.model import build_trainable

    fresh = build_trainable(
        window.editor.design, {**RunDir(run).read_json("config.json")}, torch.device("cpu"), seed=0
    ).model.state_dict()
    trained = read_tensors(run / "last.safetensors")
    assert torch.equal(trained[f"{conv_name}.weight"], fresh[f"{conv_name}.weight"])
    linear = next(n for n in window.editor.design.nodes.values() if n.type == "Linear")
    lin_name = code.module_names[linear.id]
    assert not torch.equal(trained[f"{lin_name}.weight"], fresh[f"{lin_name}.weight"])


@pytest.mark.slow
def test_two_stage_fine_tuning_gives_two_runs_the_second_from_the_first(make_window, qtbot):
    from designer.app.training.fine_tune import TwoStagePlan

    window = make_window(tiny_design())
    ws = window.show_training()
    qtbot.waitUntil(lambda: ws.data.summary is not None, timeout=WAIT_MS)
    ws.form.fields["device"].editor.setCurrentText("cpu")
    set_setting(ws, "lr", "0.01")
    window.answers.replies["two_stage"] = TwoStagePlan(1, 1, 0.1)
    assert ws.fine_tune()
    qtbot.waitUntil(lambda: len(ws.runs) == 2 and not ws.controller.running, timeout=WAIT_MS)
    stage1, stage2 = sorted(ws.runs, key=lambda r: r.name)
    assert (stage1.name, stage2.name) == ("finetune-001-stage1", "finetune-001-stage2")
    assert stage1.status == stage2.status == "completed"
    assert stage2.config["lr"] == pytest.approx(0.001)
    first = RunDir(stage1.path).read_json("design.json")["nodes"]
    second = RunDir(stage2.path).read_json("design.json")["nodes"]
    assert not next(n for n in first if n["type"] == "Conv2d")["trainable"]
    assert next(n for n in first if n["type"] == "Linear")["trainable"]
    assert all(n["trainable"] for n in second)
    log = ws.log.toPlainText()
    assert f"Stage 2 starts from {stage1.path / 'best.safetensors'}" in log


def test_the_wizard_proposes_a_plan_from_the_data(qtbot):
    from designer.app.dialogs.adapt import AdaptDialog
    from designer.core.analysis import analyze

    design = new_from_template("resnet18")
    dialog = AdaptDialog(design, analyze(design))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=WAIT_MS)
    assert dialog.classes.value() == 10
    fc = design.find("fc")
    feeding = design.nodes[design.in_edges(fc.id)[0].src].name
    assert dialog.freeze.currentData() == feeding  # only the new head trains
    assert "Little data, different from ImageNet" in dialog.advice.text()
    dialog.similar.setChecked(True)
    assert "Little data, similar to ImageNet" in dialog.advice.text()
    dialog.size.setValue(32)
    dialog.input_mode.setCurrentIndex(1)  # the network takes the images' single channel
    plan = dialog.plan()
    assert (plan.dataset, plan.num_classes, plan.channels, plan.size) == ("digits", 10, 1, (32, 32))
    dialog.hidden.setText("256, x")
    dialog._accept()
    assert dialog.error.isVisibleTo(dialog) and dialog.result_plan is None


def test_layers_with_weights_from_the_file_are_marked_and_fresh_ones_are_not(make_window, tmp_path):
    design = new_from_template("resnet18")
    path = saved_with_weights(tmp_path, design)
    window = make_window(design, str(path))
    scene = window.editor.scene
    conv1 = window.editor.design.find("conv1")
    assert scene.node_items[conv1.id].view.trained
    assert "Weights: net.safetensors" in window.inspector._info.text()
    assert window.transfer.apply("Replace head", lambda d: tr.replace_head(d, 10))
    fc = window.editor.design.find("fc")
    assert scene.node_items[conv1.id].view.trained and not scene.node_items[fc.id].view.trained
    relu = window.editor.design.find("relu")
    assert not scene.node_items[relu.id].view.trained  # no parameters, no badge
