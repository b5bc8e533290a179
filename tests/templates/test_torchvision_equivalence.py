"""Every ImageNet template is exactly torchvision's architecture: the same trainable parameter
count and, with torchvision's weights mapped in by structure, the same eval outputs through the
exported standalone code. BatchNorm statistics and all biases are randomized first, so every
tensor has to land in the right place.

Networks whose torchvision version pools adaptively before a global pooling run at 64 x 64
(batch 1; Inception-v3 at 80 x 80, above its smallest 75) to keep this fast; AlexNet and VGG run
at 224 x 224, where torchvision's AdaptiveAvgPool2d((6, 6) / (7, 7)) is the identity the designs
leave out.
"""

from __future__ import annotations

import pytest
import torch

from designer.core.summary import summarize
from designer.core.transfer import set_stage_depth, stage_depth, stages
from designer.interop.torchvision_weights import torchvision_to_design
from designer.templates import get_template, list_templates, new_from_template
from designer_templates._imagenet import link_for
from tests.templates.reference import build_with, exported_module, randomize_, rel_diff

IMAGENET = [t.name for t in list_templates() if link_for(t) is not None]
FULL_SIZE = {"alexnet", "vgg16", "vgg19", "vgg16_bn"}
CASES = [(name, {}) for name in IMAGENET] + [
    ("googlenet", {"transform_input": True}),
    ("inception_v3", {"transform_input": True}),
]
SMALL = {"inception_v3": 80}  # its smallest input is 75 x 75; the others run at 64 x 64


def test_the_issue_s_templates_are_all_there():
    assert set(IMAGENET) >= {
        "alexnet",
        "vgg16",
        "vgg19",
        "googlenet",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet152",
        "densenet121",
        "squeezenet1_0",
        "squeezenet1_1",
        "mobilenet_v2",
        "resnext50_32x4d",
        "wide_resnet50_2",
        "vgg16_bn",
        "mobilenet_v3_small",
        "mobilenet_v3_large",
        "efficientnet_b0",
        "regnet_y_400mf",
        "shufflenet_v2_x1_0",
        "convnext_tiny",
        "inception_v3",
    }


def check_equivalent(design, link, tmp_path, seed=0):
    """Map a randomized torchvision model's state_dict into the design; compare outputs."""
    reference = randomize_(link.reference(), seed).eval()
    trainable = sum(p.numel() for p in reference.parameters())
    assert summarize(design).trainable_params == trainable

    mapped = torchvision_to_design(design, reference.state_dict(), link, "reference")
    ours = build_with(exported_module(design, tmp_path), mapped)
    x = torch.randn(1, *design.input_shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert got.shape == expected.shape == (1, design.num_classes)
    assert rel_diff(got, expected) < 1e-4


@pytest.mark.parametrize(
    "name,options", CASES, ids=[n + "".join(f"-{k}" for k in o) for n, o in CASES]
)
def test_template_equals_torchvision(name, options, tmp_path):
    options = {**options, "input_size": 224 if name in FULL_SIZE else SMALL.get(name, 64)}
    design = new_from_template(name, **options)
    check_equivalent(design, link_for(get_template(name), options), tmp_path)


def test_resnet50_is_a_stem_16_bottleneck_blocks_and_a_head():
    design = new_from_template("resnet50")
    types = [n.type for n in design.nodes.values()]
    assert types.count("ResidualBottleneck") == 16
    assert [t for t in types if t != "ResidualBottleneck"] == [
        "Input",
        "Conv2d",
        "BatchNorm",
        "ReLU",
        "MaxPool2d",
        "GlobalAvgPool",
        "Linear",
        "ClassificationOutput",
    ]
    assert [len(s) for s in stages(design)] == [3, 4, 6, 3]


@pytest.mark.parametrize(
    "name,stage_edits,variant",
    [
        ("resnet50", {3: 23}, {"layers": (3, 4, 23, 3)}),  # = torchvision resnet101
        ("resnet18", {1: 1, 4: 3}, {"layers": (1, 2, 2, 3)}),  # a ResNet torchvision can build
        ("densenet121", {3: 32, 4: 32}, {"block_config": (6, 12, 32, 32)}),  # = densenet169
    ],
)
def test_editing_a_stage_gives_the_deeper_torchvision_model(name, stage_edits, variant, tmp_path):
    design = new_from_template(name, input_size=64)
    for stage, depth in stage_edits.items():
        set_stage_depth(design, stage, depth)
        assert stage_depth(design, stage) == depth
    link = link_for(get_template(name), variant)
    if name != "resnet18":
        assert link.model in ("resnet101", "densenet169")  # torchvision's pretrained ones
    # The edited design is the template built with that option, module for module ...
    same = new_from_template(name, input_size=64, **variant)
    from designer.interop.torchvision_weights import meta_module

    shapes = [(k, tuple(v.shape)) for k, v in meta_module(design)[0].state_dict().items()]
    assert shapes == [(k, tuple(v.shape)) for k, v in meta_module(same)[0].state_dict().items()]
    # ... and torchvision's model of that depth maps into it exactly.
    check_equivalent(design, link, tmp_path, seed=1)
