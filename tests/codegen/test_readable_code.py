"""Generated code reads as a person would write it: lines within 100 characters, whole
sentences in docstrings, variables named after what they hold, and activations in place where
nothing else reads their input (as torchvision writes them), computing exactly what the
out-of-place version computes."""

from __future__ import annotations

import copy

import torch

from designer.codegen import compile_design, generate
from designer.core.builder import GraphBuilder
from designer.core.design import BlockDef, Design
from designer.templates import list_templates, new_from_template
from tests.codegen.test_codegen import mixed_design
from tests.templates.reference import randomize_


def test_every_line_fits_in_100_characters():
    designs = [new_from_template(t.name) for t in list_templates()] + [mixed_design()]
    for design in designs:
        for number, line in enumerate(generate(design).source.splitlines(), start=1):
            assert len(line) <= 100, f"{design.name}, line {number}: {line}"


def test_a_long_description_is_kept_whole():
    sentences = [f"Sentence number {i} says something about the network." for i in range(12)]
    design = mixed_design()
    design.description = " ".join(sentences)
    source = generate(design).source
    doc = source[source.index("class MixedNet") :].split('"""')[1]
    assert " ".join(doc.split()) == "Mixed net: " + " ".join(sentences)


def branches_design() -> Design:
    """Two conv branches and a pooling branch off a stem, concatenated, as Inception does."""
    design = Design("Branches", input_shape=(3, 8, 8), num_classes=2)
    b = GraphBuilder(design)
    x = b.add("Conv2d", b.add("Input", name="input"), name="stem", out_channels=4, padding=1)
    outs = []
    for i in (1, 2):
        y = b.add("Conv2d", x, name=f"branch{i}_conv1", out_channels=2, kernel_size=1)
        y = b.add("ReLU", y, name=f"branch{i}_relu1")
        outs.append(b.add("Conv2d", y, name=f"branch{i}_conv2", out_channels=2, padding=1))
    pool = b.add("MaxPool2d", x, name="pool", kernel_size=3, stride=1, padding=1)
    y = b.add("Flatten", b.add("Concat", [*outs, pool], name="concat"), name="flatten")
    b.add("ClassificationOutput", b.add("Linear", y, name="fc", out_features=2), name="output")
    return design


def test_variables_are_named_after_what_they_hold():
    forward = generate(branches_design()).source.split("def forward")[1]
    assert "branch2 = self.branch2_conv1(x)" in forward
    assert "branch2 = self.branch2_conv2(branch2)" in forward
    assert "pool = self.pool(x)" in forward
    assert "x = torch.cat([branch1, branch2, pool], 1)" in forward


def test_a_custom_block_with_two_inputs_gets_both():
    pair = BlockDef("Pair", "Adds its two inputs.")
    pb = GraphBuilder(pair)
    total = pb.add(
        "Add",
        [pb.add("BlockInput", name="a", index=1), pb.add("BlockInput", name="b", index=2)],
        name="sum",
    )
    pb.add("BlockOutput", total, name="output")
    design = Design("Two inputs", input_shape=(4,), task="regression")
    design.blocks["Pair"] = pair
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    y = b.add("Linear", x, name="fc", out_features=4)
    b.add("RegressionOutput", b.add("Block", [x, y], name="pair", block="Pair"), name="output")
    code = generate(design)
    assert "def forward(self, x1: Tensor, x2: Tensor) -> Tensor:" in code.source
    assert "x = self.pair(x, fc)" in code.source
    model = compile_design(design, code)
    x = torch.randn(3, 4)
    assert torch.allclose(model(x), x + model.fc(x))


def inplace_design() -> Design:
    d = Design("In place", input_shape=(3, 6, 6), num_classes=3)
    b = GraphBuilder(d)
    x = b.add("ReLU", b.add("Input", name="input"), name="relu_of_input")
    x = b.add(
        "ReLU", b.add("Conv2d", x, name="conv_a", out_channels=4, padding=1), name="relu_of_conv"
    )
    conv_b = b.add("Conv2d", x, name="conv_b", out_channels=4, padding=1)
    x = b.add("Add", [conv_b, b.add("ReLU", conv_b, name="relu_of_shared")], name="add")
    x = b.add("ReLU", b.add("Sigmoid", x, name="sigmoid"), name="relu_of_sigmoid")
    x = b.add("ReLU", b.add("Dropout", x, name="dropout", p=0.3), name="relu_of_dropout")
    x = b.add("LeakyReLU", b.add("BatchNorm", x, name="bn"), name="leaky_of_bn", negative_slope=0.2)
    x = b.add("Linear", b.add("Flatten", x, name="flatten"), name="fc1", out_features=8)
    x = b.add("Linear", b.add("ELU", x, name="elu_of_linear"), name="fc2", out_features=3)
    b.add("ClassificationOutput", x, name="output")
    return d


def test_activations_run_in_place_only_where_nothing_else_reads_their_input():
    design = inplace_design()
    code = generate(design)
    inplace = {
        line.split("=")[0].strip().removeprefix("self.")
        for line in code.source.splitlines()
        if "inplace=True" in line
    }
    assert inplace == {"relu_of_conv", "leaky_of_bn", "elu_of_linear"}
    assert "self.leaky_of_bn = nn.LeakyReLU(0.2, inplace=True)" in code.source

    model = randomize_(compile_design(design, code), seed=3).train()
    reference = copy.deepcopy(model)
    for module in reference.modules():
        if hasattr(module, "inplace"):
            module.inplace = False
    x = torch.randn(4, 3, 6, 6)
    grads = []
    for net in (model, reference):
        torch.manual_seed(0)  # the same dropout mask
        inputs = x.clone().requires_grad_()
        out = net(inputs)
        out.square().sum().backward()
        grads.append((out, inputs.grad, [p.grad for p in net.parameters()]))
    (out, x_grad, p_grads), (want, want_x_grad, want_p_grads) = grads
    assert torch.equal(out, want)
    # Gradients: equal up to the summation order of multithreaded convolution backward passes
    # (bit-equal with one thread, a last-bit difference with two).
    torch.testing.assert_close(x_grad, want_x_grad, rtol=1e-5, atol=1e-7)
    for a, b in zip(p_grads, want_p_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_long_statements_are_broken_as_black_breaks_them():
    design = Design("Wide", input_shape=(2, 4, 4), num_classes=2)
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    branches = [
        b.add("Conv2d", x, name=f"a_rather_long_branch_name_{i}", out_channels=1, kernel_size=1)
        for i in range(8)
    ]
    y = b.add("Flatten", b.add("Concat", branches, name="concat", num_inputs=8), name="flatten")
    b.add("ClassificationOutput", b.add("Linear", y, name="fc", out_features=2), name="output")
    code = generate(design)
    lines = code.source.splitlines()
    assert max(map(len, lines)) <= 100
    start = lines.index("        x = torch.cat(")
    assert lines[start + 1].strip() == "["
    assert lines[start + 2] == "                a_rather_long_branch_name_0,"
    assert compile_design(design, code)(torch.randn(1, 2, 4, 4)).shape == (1, 2)
