"""Node names: one policy for a taken name, one for new nodes, one for duplicates."""

from __future__ import annotations

from designer.core.names import copy_name, new_node_name, numbered, unique_name
from designer.core.registry import get_spec


def test_a_taken_name_counts_on_from_its_stem():
    assert unique_name("conv", set()) == "conv"
    assert unique_name("conv1", {"conv1"}) == "conv2"
    assert unique_name("conv1", {"conv1", "conv2"}) == "conv3"
    assert unique_name("res_fc", {"res_fc"}) == "res_fc1"
    assert unique_name("7", {"7"}) == "71"  # all digits: the whole name is the stem


def test_new_nodes_are_numbered_from_one_and_heads_are_not():
    assert new_node_name("Conv2d", set()) == "conv1"
    assert new_node_name("Conv2d", {"conv1", "conv3"}) == "conv2"
    assert new_node_name("ReLU", set()) == "relu1"
    assert new_node_name("Input", set()) == "input"
    assert new_node_name("ClassificationOutput", {"output"}) == "classificationoutput1"
    assert new_node_name("Block", {"stage1"}, block="stage") == "stage2"
    assert numbered("block", {"block1": None}) == "block2"


def test_a_duplicate_is_a_copy_not_another_member_of_its_stage():
    assert copy_name("layer1_0", set()) == "layer1_0"
    assert copy_name("layer1_0", {"layer1_0"}) == "layer1_0_copy"
    assert copy_name("layer1_0_copy", {"layer1_0", "layer1_0_copy"}) == "layer1_0_copy2"


def test_roles_are_predicates_of_the_spec():
    block, head = get_spec("Block"), get_spec("ClassificationOutput")
    inner_out = get_spec("BlockOutput")
    assert block.opens and block.is_custom_block and get_spec("ResidualBasicBlock").opens
    assert not get_spec("Conv2d").opens and not get_spec("ResidualBasicBlock").is_custom_block
    assert head.is_output and inner_out.is_output and not get_spec("ReLU").is_output
    assert get_spec("Input").is_input and get_spec("BlockInput").is_input
    assert block.ports({"block": "missing"}, {}) == ()
    assert get_spec("Add").ports({"num_inputs": 3}, {}) == ("in1", "in2", "in3")
