"""Uses of one block type become one class parameterized like torchvision's, when every number
that differs between uses can be named; otherwise they keep classes of their own."""

from __future__ import annotations

import torch

from designer.codegen import compile_design, generate
from designer.codegen.block_classes import PLACEHOLDER, Use, merge_uses
from designer.templates import new_from_template

SOURCE = f'''class {PLACEHOLDER}(nn.Module):
    """Doc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d({{cin}}, {{cout}}, kernel_size=3)
        self.bn = nn.BatchNorm2d({{cout}})

    def forward(self, x: Tensor) -> Tensor:
        # N x {{cin}} x 8 x 8
        return self.bn(self.conv(x))
'''


def use(key, cin, cout, ints):
    return Use(key, SOURCE.format(cin=cin, cout=cout), ints, {})


def names():
    taken = set()

    def new(title):
        name = title if title not in taken else f"{title}{len(taken) + 1}"
        taken.add(name)
        return name
    return new


def test_numbers_named_by_params_become_arguments():
    classes = merge_uses([use("a", 3, 16, {"in_channels": 3, "out": 16}),
                          use("b", 16, 32, {"in_channels": 16, "out": 32})], "Unit", names())
    assert len(classes) == 1
    cls = classes[0]
    assert "def __init__(self, in_channels: int, out: int) -> None:" in cls.source
    assert "nn.Conv2d(in_channels, out, kernel_size=3)" in cls.source
    assert "# N x" not in cls.source  # shape comments only hold for one use
    assert cls.calls == {"a": "Unit(3, 16)", "b": "Unit(16, 32)"}


def test_products_are_found():
    classes = merge_uses([use("a", 4, 8, {"in_channels": 4, "k": 2}),
                          use("b", 5, 15, {"in_channels": 5, "k": 3})], "Unit", names())
    assert "nn.BatchNorm2d(in_channels * k)" in classes[0].source


def test_unnamed_numbers_keep_separate_classes():
    classes = merge_uses([use("a", 3, 16, {"in_channels": 3}), use("b", 3, 17, {"in_channels": 3})],
                         "Unit", names())
    assert len(classes) == 2
    assert all("def __init__(self) -> None:" in c.source for c in classes)
    assert "# N x 3 x 8 x 8" in classes[0].source


def test_googlenet_reads_like_torchvision():
    design = new_from_template("googlenet", input_size=64)
    code = generate(design)
    assert code.source.count("class InceptionModule") == 1
    assert "self.inception3a = InceptionModule(192, 64, 96, 128, 16, 32, 32)" in code.source
    assert "self.inception5b = InceptionModule(832, 384, 192, 384, 48, 128, 128)" in code.source
    model = compile_design(design, code).eval()
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
