"""Transfer learning: freezing, learning-rate multipliers, a new head, a cut, another input and
a stage's depth, as pure design edits (undoable as Snapshot commands) and through
`netdesigner transfer`, with the weights carried over exactly."""

from __future__ import annotations

import pytest
import torch

from designer.cli import main
from designer.codegen import compile_design, generate
from designer.core import transfer as tr
from designer.core.analysis import analyze
from designer.core.commands import Snapshot, UndoStack
from designer.core.serialization import clone, dumps, load_design, save_design
from designer.core.summary import summarize
from designer.interop.torchvision_weights import save_design_weights
from designer.interop.transfer_weights import carry_weights
from designer.interop.weights import WEIGHTS_KEY, design_weights_path, save_weights
from designer.templates import new_from_template
from tests.templates.reference import exported_module, randomize_, rel_diff


@pytest.fixture
def resnet():
    """A ResNet-18 for 32 x 32 images with random weights (BatchNorm statistics included)."""
    design = new_from_template("resnet18", input_size=32, num_classes=10)
    model = randomize_(compile_design(design), seed=7).eval()
    return design, model


def tensors_of(design, model):
    """The model's state_dict keyed by node name + tensor path (stable across edits)."""
    code = generate(design)
    names = {attr: design.nodes[nid].name for nid, attr in code.module_names.items()}
    return {
        names[k.partition(".")[0]] + "." + k.partition(".")[2]: v
        for k, v in model.state_dict().items()
    }


def edited(design, model, edit_fn):
    """Apply an edit to a copy; return (new design, a model of it holding the carried weights)."""
    new = clone(design)
    edit = edit_fn(new)
    carried = carry_weights(design, model.state_dict(), new, edit)
    new_model = compile_design(new)
    new_model.load_state_dict(carried, strict=True)
    return new, new_model.eval(), edit


def test_replace_head_keeps_every_other_weight(resnet):
    design, model = resnet
    new, new_model, edit = edited(design, model, lambda d: tr.replace_head(d, 2))
    assert new.num_classes == 2 and summarize(new).output_shape == (2,)
    assert {new.nodes[n].name for n in edit.fresh} == {"fc"}
    before, after = tensors_of(design, model), tensors_of(new, new_model)
    assert set(before) == set(after)
    for key, value in after.items():
        if key.startswith("fc."):
            assert value.shape[0] == 2
        else:
            assert torch.equal(value, before[key]), key


def test_replace_head_with_hidden_layers_seed_000(resnet):
    design, model = resnet
    new, _, edit = edited(design, model, lambda d: tr.replace_head(d, 1, hidden=[256], dropout=0.5))
    order = [new.nodes[n].name for n in analyze(new).order]
    assert order[-6:] == ["avgpool", "fc_new1", "relu_new1", "dropout_new1", "fc", "output"]
    assert new.find("fc_new1").params["out_features"] == 256
    assert new.find("dropout_new1").params["p"] == 0.5
    assert {new.nodes[n].name for n in edit.fresh} >= {"fc", "fc_new1"}
    assert summarize(new).output_shape == (1,)


def test_freeze_until_counts_frozen_params_as_non_trainable(resnet):
    design, _ = resnet
    frozen = tr.freeze_until(design, "layer3_1")
    names = {design.nodes[n].name for n in frozen}
    assert names == {
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1_0",
        "layer1_1",
        "layer2_0",
        "layer2_1",
        "layer3_0",
        "layer3_1",
    }
    s, info = summarize(design), analyze(design).info
    learned = {n.name: info[n.id].trainable_params for n in design.nodes.values()}
    assert s.trainable_params == sum(v for k, v in learned.items() if k not in names)
    assert s.non_trainable_params == sum(learned[k] for k in names) + sum(
        i.buffer_params for i in info.values()
    )
    tr.unfreeze_all(design)
    assert all(n.trainable for n in design.nodes.values())


def test_lr_multiplier(resnet):
    design, _ = resnet
    tr.set_lr_mult(design, ["fc"], 10)
    assert design.find("fc").lr_mult == 10.0
    assert clone(design).find("fc").lr_mult == 10.0  # kept in the design file
    with pytest.raises(tr.TransferError, match="at least 0"):
        tr.set_lr_mult(design, ["fc"], -1)


def test_cut_at_makes_a_feature_extractor_with_the_same_features(tmp_path):
    """Seed 000's FC7 features: cut the CIFAR-10 CNN after its dense layer; the cut design
    computes exactly the original's activations there."""
    design = new_from_template("cifar10_cnn")
    model = randomize_(compile_design(design), seed=8).eval()
    new, new_model, _ = edited(design, model, lambda d: tr.cut_at(d, "relu_dense"))
    assert new.task == "regression" and summarize(new).output_shape == (512,)
    seen = {}
    attr = generate(design).module_names[design.find("relu_dense").id]
    getattr(model, attr).register_forward_hook(lambda m, i, o: seen.update(features=o))
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        model(x)
        features = new_model(x)
    assert torch.equal(features, seen["features"])
    # A classifier for the features goes on top of them; the feature layers stay as they are.
    classifier = clone(new)
    edit = tr.replace_head(classifier, 4)
    assert summarize(classifier).output_shape == (4,) and classifier.task == "classification"
    assert {classifier.nodes[n].name for n in edit.fresh} == {"classifier_new", "output"}
    assert classifier.find("dense1").params == new.find("dense1").params


def test_cut_at_with_a_new_head(resnet):
    design, model = resnet
    new, _, edit = edited(
        design, model, lambda d: tr.cut_at(d, "layer4_1", num_classes=5, hidden=[64])
    )
    assert {new.nodes[n].name for n in edit.fresh} >= {"classifier_new", "fc_new1"}
    assert new.num_classes == 5 and new.task == "classification"
    assert "fc" not in {n.name for n in new.nodes.values()}
    assert summarize(new).output_shape == (5,)


def test_grayscale_input_equals_the_gray_image_three_times(resnet):
    design, model = resnet
    new, new_model, edit = edited(design, model, lambda d: tr.adapt_input(d, channels=1))
    assert edit.input_channels == (3, 1) and {new.nodes[n].name for n in edit.input_nodes} == {
        "conv1"
    }
    assert new.input_shape == (1, 32, 32)
    gray = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert rel_diff(new_model(gray), model(gray.repeat(1, 3, 1, 1))) < 1e-5


def test_another_input_size_keeps_every_weight(resnet):
    design, model = resnet
    new, new_model, edit = edited(design, model, lambda d: tr.adapt_input(d, size=48))
    assert new.input_shape == (3, 48, 48) and not edit.fresh
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(new_model(x), model(x))  # ResNet pools globally: any size works


def test_an_input_size_that_changes_weights_is_refused():
    design = new_from_template("thesis_mlp")
    before = dumps(design)
    with pytest.raises(tr.TransferError, match="the weights of fc1 would need another shape"):
        tr.adapt_input(design, size=16)
    with pytest.raises(tr.TransferError, match="3 channels to 1"):
        tr.adapt_input(design, channels=2)
    assert dumps(design) == before
    fcn = new_from_template("thesis_fcn")
    with pytest.raises(tr.TransferError, match="at input 3x8x8: node conv7"):
        tr.adapt_input(fcn, size=8)  # too small for the last 3x3 convolution
    assert fcn.input_shape == (3, 32, 32)


def test_stage_depth_adds_and_removes_blocks(resnet):
    design, model = resnet
    new, new_model, edit = edited(design, model, lambda d: tr.set_stage_depth(d, 2, 4))
    assert [len(s) for s in tr.stages(new)] == [2, 4, 2, 2]
    assert {new.nodes[n].name for n in edit.fresh} == {"layer2_2", "layer2_3"}
    before, after = tensors_of(design, model), tensors_of(new, new_model)
    assert all(torch.equal(after[k], v) for k, v in before.items())
    shallow = clone(design)
    tr.set_stage_depth(shallow, 4, 1)
    assert [len(s) for s in tr.stages(shallow)] == [2, 2, 2, 1]
    with pytest.raises(tr.TransferError, match="no stage 5"):
        tr.set_stage_depth(design, 5, 2)


def test_failed_edits_change_nothing(resnet):
    design, _ = resnet
    before = dumps(design)
    for bad in (
        lambda: tr.replace_head(design, 0),
        lambda: tr.cut_at(design, "layer9"),
        lambda: tr.cut_at(design, "output"),
        lambda: tr.set_stage_depth(design, 1, 0),
        lambda: tr.replace_head(design, 3, hidden=[0]),
        lambda: tr.adapt_input(design, size=0),
    ):
        with pytest.raises(tr.TransferError):
            bad()
    assert dumps(design) == before
    with pytest.raises(tr.TransferError, match="did you mean layer4_1"):
        tr.freeze_until(design, "layer4_l")


def test_an_unknown_node_lists_every_node(resnet):
    design, _ = resnet
    names = [n.name for n in design.nodes.values()]
    with pytest.raises(tr.TransferError) as refused:
        tr.freeze_until(design, "zzz")
    assert len(names) > 12  # more than the error once showed before its "..."
    assert str(refused.value) == f"the design has no node 'zzz'; the nodes are: {', '.join(names)}"


def test_edits_undo_and_redo_as_snapshots(resnet):
    design, _ = resnet
    stack = UndoStack(design)
    before = dumps(design)
    stack.push(Snapshot(lambda d: tr.cut_at(d, "layer4_1", num_classes=3), "Cut"))
    after = dumps(design)
    assert design.num_classes == 3
    stack.undo()
    assert dumps(design) == before
    stack.redo()
    assert dumps(design) == after


# -- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def saved(resnet, tmp_path):
    design, model = resnet
    path = tmp_path / "net.json"
    design.metadata[WEIGHTS_KEY] = "net.safetensors"
    save_weights(model, tmp_path / "net.safetensors")
    save_design(design, path)
    return path, model


def test_transfer_verb_writes_a_design_and_weights_that_load_strictly(saved, tmp_path, capsys):
    path, model = saved
    out = tmp_path / "cats.json"
    assert (
        main(
            [
                "transfer",
                str(path),
                "--classes",
                "2",
                "--freeze-until",
                "layer4_0",
                "--lr-mult",
                "fc=10",
                "--input",
                "1x32x32",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "new classifier for 2 classes" in text and "cats.safetensors" in text
    design = load_design(out)
    assert design.metadata[WEIGHTS_KEY] == "cats.safetensors"
    assert design.find("fc").lr_mult == 10.0 and not design.find("layer4_0").trainable
    assert design.find("layer4_1").trainable
    exported = exported_module(design, tmp_path).build_model()
    from safetensors.torch import load_file

    exported.load_state_dict(load_file(design_weights_path(design, out)), strict=True)
    gray = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        features = {}
        exported.avgpool.register_forward_hook(lambda m, i, o: features.update(new=o))
        model.avgpool.register_forward_hook(lambda m, i, o: features.update(old=o))
        assert exported.eval()(gray).shape == (1, 2)
        model(gray.repeat(1, 3, 1, 1))
    assert rel_diff(features["new"], features["old"]) < 1e-5


def test_transfer_verb_refusals(saved, tmp_path, capsys):
    path, _ = saved
    out = tmp_path / "out.json"
    assert main(["transfer", str(path), "--classes", "2", "--freeze-until", "nope", str(out)]) == 1
    assert "no node 'nope'" in capsys.readouterr().err
    assert main(["transfer", str(path), str(out)]) == 2
    assert "say what to change" in capsys.readouterr().err
    assert main(["transfer", str(path), "--input", "big", str(out)]) == 2
    assert main(["transfer", str(path), "--hidden", "256", str(out)]) == 2
    assert "--hidden goes with --classes" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out.safetensors").exists()
    (tmp_path / "net.safetensors").unlink()
    assert main(["transfer", str(path), "--classes", "2", str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err
    out.write_text("keep")
    assert main(["transfer", str(path), "--classes", "2", str(out)]) == 1
    assert out.read_text() == "keep"


def test_transfer_verb_without_weights_edits_the_design(tmp_path, capsys):
    path = tmp_path / "plain.json"
    save_design(new_from_template("thesis_fcn"), path)
    out = tmp_path / "hundred.json"
    assert main(["transfer", str(path), "--classes", "100", str(out)]) == 0
    assert "none were carried" in capsys.readouterr().out
    assert load_design(out).num_classes == 100 and not (tmp_path / "hundred.safetensors").exists()


def test_saved_design_weights_must_fit(resnet, tmp_path):
    design, model = resnet
    state = dict(model.state_dict())
    state.pop("fc.bias")
    from designer.interop.weights import WeightsError

    with pytest.raises(WeightsError, match="'fc.bias' is missing"):
        save_design_weights(design, state, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_training_settings_travel_with_a_new_input_and_dataset(tmp_path):
    """resnet18 (ImageNet settings: 3-value mean/std, flips, dataset imagenet) moved to 1x32x32
    digits trains: the statistics follow the channels, the data and flips follow the dataset."""
    from designer.cli import main
    from designer.core.serialization import load_design
    from designer.training.config import config_for_design
    from designer.training.engine import prepare_for

    assert main(["new", "--template", "resnet18", str(tmp_path / "r.json")]) == 0
    assert (
        main(
            [
                "transfer",
                str(tmp_path / "r.json"),
                str(tmp_path / "d.json"),
                "--input",
                "1x32x32",
                "--classes",
                "10",
                "--data",
                "digits",
            ]
        )
        == 0
    )
    design = load_design(tmp_path / "d.json")
    config = config_for_design(design)
    assert config.dataset == "digits" and not config.augmentation.horizontal_flip
    assert config.preprocessing.mean == [pytest.approx((0.485 + 0.456 + 0.406) / 3)]
    assert len(config.preprocessing.std) == 1
    data = prepare_for(design, config)  # refused before: 3 statistics for 1-channel images
    assert tuple(data.train_x.shape[1:]) == (1, 32, 32)
