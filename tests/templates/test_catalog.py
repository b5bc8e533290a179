"""The catalog: every template builds a valid design with complete metadata; the ImageNet ones
carry torchvision's documented accuracy, parameter count and operations; the course models keep
the counts of their lectures; `netdesigner templates` lists them all."""

from __future__ import annotations

import json
import math

import pytest
from torchvision.models import get_model_weights

from designer.cli import main
from designer.core.analysis import analyze
from designer.core.summary import summarize
from designer.templates import (
    TemplateOptionError,
    get_template,
    list_templates,
    new_from_template,
    option_defaults,
    parse_option,
    template_info,
)
from designer_templates._imagenet import link_for

TEMPLATES = list_templates()
IMAGENET = [t for t in TEMPLATES if link_for(t) is not None]


@pytest.mark.parametrize("t", TEMPLATES, ids=lambda t: t.name)
def test_every_template_builds_a_valid_design_with_its_metadata(t):
    design = new_from_template(t.name)
    assert analyze(design).problems == []
    assert tuple(design.input_shape) == t.input_shape
    assert t.title and t.description and t.paper and t.year
    for key in ("dataset", "optimizer", "lr", "schedule", "epochs"):
        assert key in t.training, f"{t.name} has no default {key}"
    assert design.metadata["template"] == t.name
    info = template_info(t)
    s = summarize(design)
    assert (info["params"], info["macs"]) == (s.total_params, s.macs)
    assert info["params"] > 0 and info["macs"] > 0
    json.dumps(info)  # JSON-ready for the gallery


def _auxiliary_params(name: str) -> int:
    """torchvision counts Inception-v3's auxiliary classifier, which the template leaves out
    (GoogLeNet's count is without its auxiliary heads already)."""
    if name != "inception_v3":
        return 0
    from torchvision.models import Inception3

    model = Inception3(aux_logits=True, init_weights=False)
    return sum(p.numel() for p in model.AuxLogits.parameters())


@pytest.mark.parametrize("t", IMAGENET, ids=lambda t: t.name)
def test_imagenet_metadata_is_torchvision_s(t):
    weights = get_model_weights(t.name).DEFAULT
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    assert t.accuracy == {"top1": metrics["acc@1"], "top5": metrics["acc@5"]}
    s = summarize(t.build())
    assert s.trainable_params == weights.meta["num_params"] - _auxiliary_params(t.name)
    # torchvision's "_ops" are GFLOPs counted as multiply-accumulates, rounded to 3 decimals
    # (MobileNetV3-Small's 0.0565 is 0.057).
    assert math.isclose(s.macs / 1e9, weights.meta["_ops"], rel_tol=2e-3, abs_tol=5e-4)
    assert link_for(t).model == t.name


def test_course_models_keep_the_lecture_counts():
    counts = {
        name: summarize(get_template(name).build())
        for name in ("lenet5", "mnist_mlp", "cifar10_cnn")
    }
    assert counts["lenet5"].total_params == 61_706
    assert counts["mnist_mlp"].total_params == 932_362
    assert counts["cifar10_cnn"].total_params == 1_345_066
    assert counts["cifar10_cnn"].non_trainable_params == 1_920


def _types(design):
    order = analyze(design).order
    return [design.nodes[n].type for n in order]


@pytest.mark.parametrize("name", ["thesis_fcn", "thesis_mlp"])
def test_thesis_shift_and_scale_follow_the_input_and_every_activation_but_the_last(name):
    design = new_from_template(name, variant="shiftscale")
    types = _types(design)
    assert types[:3] == ["Input", "Shift", "Scale"]
    relus = [i for i, t in enumerate(types) if t == "ReLU"]
    assert relus and all(types[i + 1 : i + 3] == ["Shift", "Scale"] for i in relus)
    # The last activation is the softmax in the loss: nothing follows the classifier.
    last_layer = max(i for i, t in enumerate(types) if t in ("Linear", "Conv2d"))
    assert "Shift" not in types[last_layer:] and "Scale" not in types[last_layer:]
    for node in design.nodes.values():
        if node.type in ("Shift", "Scale"):
            assert node.params["mode"] == "layer"
    assert summarize(design).trainable_params == summarize(
        new_from_template(name)
    ).trainable_params + 2 * (len(relus) + 1)


@pytest.mark.parametrize("name", ["thesis_fcn", "thesis_mlp"])
def test_thesis_variants(name):
    plain = _types(new_from_template(name))
    assert "BatchNorm" not in plain and "Dropout" not in plain and "Shift" not in plain
    bn = _types(new_from_template(name, variant="batchnorm"))
    assert all(bn[i - 1] == "BatchNorm" for i, t in enumerate(bn) if t == "ReLU")
    assert "Dropout" in _types(new_from_template(name, dropout=True))
    only_scale = _types(new_from_template(name, variant="scale", mode="channel"))
    assert "Scale" in only_scale and "Shift" not in only_scale
    hundred = new_from_template(name, num_classes=100)
    assert hundred.num_classes == 100 and analyze(hundred).problems == []
    assert hundred.metadata["training"]["dataset"] == "cifar100"
    assert new_from_template(name).metadata["training"]["dataset"] == "cifar10"
    assert get_template(name).input_shape == (3, 32, 32)
    with pytest.raises(TemplateOptionError, match="variant must be one of"):
        new_from_template(name, variant="dropout")
    with pytest.raises(TemplateOptionError, match="num_classes must be 10"):
        new_from_template(name, num_classes=7)


@pytest.mark.parametrize("name", ["thesis_fcn", "thesis_mlp"])
def test_thesis_variants_start_from_the_same_weights(name):
    """Seed 001 compares its variants from the same initialization: the same seed gives every
    variant the same convolution / linear weights (batch norm, shift and scale draw none)."""
    import torch

    from designer.training.config import TrainConfig
    from designer.training.model import build_trainable

    settings = TrainConfig.from_dict({"optimizer": "sgd", "init": "he"}).to_dict()

    def weights(variant, seed=0):
        design = new_from_template(name, variant=variant)
        model = build_trainable(design, settings, torch.device("cpu"), seed).model
        return [
            m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
        ]

    plain = weights("plain")
    for variant in ("batchnorm", "shiftscale", "scale"):
        assert all(torch.equal(a, b) for a, b in zip(plain, weights(variant), strict=True))
    assert not torch.equal(plain[0], weights("plain", seed=1)[0])


def test_cifar10_cnn_puts_batch_norm_before_or_after_the_relu():
    """Seed 000's comparison: BN before or after the activation, with or without its scale and
    bias; the default stays the lecture's model (after, with them)."""
    after = _types(new_from_template("cifar10_cnn"))
    assert all(after[i + 1] == "BatchNorm" for i, t in enumerate(after) if t == "ReLU")
    before = _types(new_from_template("cifar10_cnn", bn="before"))
    assert all(before[i - 1] == "BatchNorm" for i, t in enumerate(before) if t == "ReLU")
    bare = new_from_template("cifar10_cnn", bn="before", bn_scale_bias=False)
    channels = 2 * (32 + 64 + 128) + 512  # one scale and one bias per channel of each BN
    assert summarize(bare).trainable_params == 1_343_146 - 2 * channels
    assert summarize(bare).non_trainable_params == 1_920
    with pytest.raises(TemplateOptionError, match="bn must be one of after, before"):
        new_from_template("cifar10_cnn", bn="between")


def test_options_are_parsed_by_the_type_of_their_default():
    t = get_template("resnet50")
    assert option_defaults(t) == {
        "layers": (3, 4, 6, 3),
        "num_classes": 1000,
        "input_size": 224,
        "groups": 1,  # ResNeXt's cardinality
        "width_per_group": 64,  # Wide ResNet's 128
    }
    assert parse_option(t, "layers=3,4,23,3") == ("layers", (3, 4, 23, 3))
    assert parse_option(get_template("googlenet"), "transform_input=true") == (
        "transform_input",
        True,
    )
    with pytest.raises(
        TemplateOptionError, match="has no option 'depth'; its options are: layers="
    ):
        parse_option(t, "depth=101")
    with pytest.raises(TemplateOptionError, match="num_classes of resnet50: 'ten'"):
        parse_option(t, "num_classes=ten")
    with pytest.raises(TemplateOptionError, match="layers must be 4 whole numbers"):
        new_from_template("resnet50", layers=(3, 4))
    assert new_from_template("resnet50", layers=(3, 4, 23, 3)).metadata["template_options"] == {
        "layers": [3, 4, 23, 3]
    }


def test_templates_verb_lists_every_template(capsys):
    assert main(["templates"]) == 0
    text = capsys.readouterr().out
    for t in TEMPLATES:
        assert t.name in text
    assert "25.6M" in text and "4.09G" in text and "80.9" in text  # resnet50's row
    assert main(["templates", "--json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert set(listed) == {t.name for t in TEMPLATES}
    assert listed["vgg16"]["params"] == 138_357_544
    assert listed["vgg16"]["accuracy"] == {"top1": 71.592, "top5": 90.382}
    assert listed["thesis_fcn"]["options"]["variant"] == "plain"


def test_new_verb_takes_options_and_refuses_bad_ones(tmp_path, capsys):
    out = tmp_path / "r101.json"
    assert main(["new", "--template", "resnet50", "--option", "layers=3,4,23,3", str(out)]) == 0
    from designer.core.serialization import load_design

    assert summarize(load_design(out)).trainable_params == 44_549_160  # torchvision's resnet101
    assert (
        main(["new", "--template", "resnet50", "--option", "depth=101", str(tmp_path / "x.json")])
        == 2
    )
    assert "no option 'depth'" in capsys.readouterr().err
    assert main(["new", "--template", "nonet", str(tmp_path / "x.json")]) == 2
    assert "unknown template 'nonet'" in capsys.readouterr().err
    assert (
        main(["new", "--template", "lenet5", "--pretrained", "imagenet", str(tmp_path / "x.json")])
        == 2
    )
    assert "no torchvision counterpart" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
