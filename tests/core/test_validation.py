"""Validation names the node (and param) and says what to do; it never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.core.analysis import analyze, validate
from designer.core.builder import GraphBuilder
from designer.core.design import Design, Edge, Node
from designer.core.registry import list_specs
from tests.helpers import chain


def problems(design):
    return [(p.node_name, p.param, p.message) for p in analyze(design).problems]


def only(design, node_name):
    found = [p for p in analyze(design).problems if p.node_name == node_name]
    assert found, f"no problem reported on {node_name}: {analyze(design).problems}"
    return found[0]


def test_a_valid_chain_has_no_problems():
    d = chain(("Conv2d", {"out_channels": 4}), "ReLU", "Flatten", ("Linear", {"out_features": 10}))
    assert problems(d) == []


def test_cycle_is_reported_with_its_nodes():
    d = chain(
        ("Conv2d", {"name": "c1", "padding": 1}),
        ("Conv2d", {"name": "c2", "padding": 1}),
        "GlobalAvgPool",
        ("Linear", {"out_features": 10}),
    )
    add = d.add_node(Node("a", "Add", "merge", {"num_inputs": 2}))
    c1, c2 = d.find("c1").id, d.find("c2").id
    # c1 -> c2 -> merge -> c1 is a cycle (c1's input is already taken, so rewire it through merge)
    d.remove_edge(d.in_edges(c1)[0])
    d.add_edge(Edge(d.find("input").id, add.id, "in1"))
    d.add_edge(Edge(c2, add.id, "in2"))
    d.add_edge(Edge(add.id, c1), checked=False)  # as a hand-edited file can hold it
    msgs = [p.message for p in analyze(d).problems]
    assert any("cycle" in m and "c1" in m and "c2" in m and "merge" in m for m in msgs)


def test_unconnected_input_port_and_dangling_node():
    d = chain("Flatten", ("Linear", {"out_features": 10}))
    d.add_node(Node("z", "ReLU", "lonely"))
    GraphBuilder(d).add("Add", [d.find("input").id], name="half_add", num_inputs=2)
    found = problems(d)
    assert ("lonely", None, "is not connected to the output; connect it or delete it") in found
    assert any(n == "lonely" and "its input is not connected" in m for n, _, m in found)
    assert any(n == "half_add" and "input 'in2' is not connected" in m for n, _, m in found)


def test_no_input_and_no_output():
    d = Design("empty")
    msgs = " ".join(p.message for p in analyze(d).problems)
    assert "no input layer" in msgs and "no output" in msgs


def test_add_of_mismatched_shapes_shows_both():
    d = Design("res", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    a = b.add("Conv2d", x, name="a", out_channels=4, padding=1)
    c = b.add("Conv2d", x, name="c", out_channels=8, padding=1)
    s = b.add("Add", [a, c], name="sum")
    b.add("ClassificationOutput", b.add("Linear", b.add("Flatten", s), out_features=10))
    msg = only(d, "sum").message
    assert "4 x 8 x 8" in msg and "8 x 8 x 8" in msg


def test_concat_with_mismatched_spatial_sizes():
    d = Design("cat", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    a = b.add("Conv2d", x, name="a", out_channels=4, padding=1)
    c = b.add("MaxPool2d", x, name="c")
    s = b.add("Concat", [a, c], name="join")
    b.add("ClassificationOutput", b.add("Linear", b.add("Flatten", s), out_features=10))
    msg = only(d, "join").message
    assert "height and width" in msg and "8 x 8" in msg and "4 x 4" in msg


def test_linear_fed_a_4d_tensor_suggests_flatten_or_gap():
    d = chain(("Linear", {"name": "fc", "out_features": 10}))
    msg = only(d, "fc").message
    assert "Flatten" in msg and "GlobalAvgPool" in msg


def test_kernel_larger_than_input():
    d = chain(
        ("Conv2d", {"name": "big", "kernel_size": 11}), "Flatten", ("Linear", {"out_features": 10})
    )
    p = only(d, "big")
    assert p.param == "kernel_size" and "larger than its input" in p.message


def test_channels_not_divisible_by_groups():
    d = chain(
        ("Conv2d", {"name": "g", "groups": 2, "out_channels": 4}),
        "Flatten",
        ("Linear", {"out_features": 10}),
    )
    p = only(d, "g")
    assert p.param == "groups" and "3" in p.message and "2" in p.message


def test_param_of_wrong_type_and_out_of_range():
    d = chain(("Conv2d", {"name": "c"}), "Flatten", ("Linear", {"out_features": 10}))
    d.nodes[d.find("c").id].params["out_channels"] = "16"
    p = only(d, "c")
    assert p.param == "out_channels" and "whole number" in p.message
    d.nodes[d.find("c").id].params["out_channels"] = 0
    assert "at least 1" in only(d, "c").message
    d.nodes[d.find("c").id].params["stride"] = True
    assert any(p.param == "stride" for p in analyze(d).problems)


def test_head_must_match_the_number_of_classes():
    d = chain("Flatten", ("Linear", {"name": "fc", "out_features": 7}), num_classes=10)
    msg = only(d, "output").message
    assert "7 features" in msg and "10 classes" in msg


def test_problems_name_the_node_in_str():
    d = chain(("Linear", {"name": "fc", "out_features": 10}))
    assert any(str(p).startswith("node fc: ") for p in analyze(d).problems)


TYPES = [s.type for s in list_specs()]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nodes=st.lists(
        st.tuples(
            st.sampled_from(TYPES + ["NoSuchLayer"]),
            st.dictionaries(
                st.sampled_from(
                    [
                        "out_channels",
                        "kernel_size",
                        "stride",
                        "padding",
                        "groups",
                        "p",
                        "num_inputs",
                        "block",
                        "index",
                        "mode",
                        "shape",
                    ]
                ),
                json_values,
                max_size=3,
            ),
        ),
        min_size=0,
        max_size=8,
    ),
    edges=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7), st.sampled_from(["in", "in1", "in2", "x"])),
        max_size=12,
    ),
    shape=st.sampled_from([(3, 8, 8), (1, 1, 1), (10,), (2, 300, 3)]),
)
def test_validation_never_raises(nodes, edges, shape):
    d = Design("fuzz", input_shape=shape)
    for i, (t, params) in enumerate(nodes):
        d.nodes[f"n{i}"] = Node(f"n{i}", t, f"node{i}", params)
    for a, b, port in edges:
        if a < len(nodes) and b < len(nodes):
            d.edges.append(Edge(f"n{a}", f"n{b}", port))
    result = validate(d)
    assert isinstance(result, list)
    assert all(
        "internal error" not in p.message and "please report" not in p.message for p in result
    )


def test_blocks_that_contain_each_other_are_a_problem_not_a_crash():
    from designer.core.design import BlockDef

    d = chain(
        ("Block", {"name": "outer", "block": "A"}), "Flatten", ("Linear", {"out_features": 10})
    )
    for name, inner in (("A", "B"), ("B", "A")):
        block = BlockDef(name)
        b = GraphBuilder(block)
        x = b.add("BlockInput", name="input", index=1)
        y = block.add_node(Node(f"use{inner}", "Block", f"use{inner}", {"block": inner}))
        block.add_edge(Edge(x, y.id, "in1"), checked=False)  # as a hand-edited file holds it
        b.add("BlockOutput", y.id, name="output")
        d.blocks[name] = block
    msgs = [p.message for p in analyze(d).problems]
    assert any("contains itself" in m for m in msgs), msgs


def test_head_must_suit_the_task():
    d = chain("Flatten", ("Linear", {"name": "fc", "out_features": 1000}), num_classes=1000)
    assert not analyze(d).problems
    d.set_setting("task", "regression")
    msg = only(d, "output").message
    assert "classification head" in msg and "regression" in msg
    d = chain("Flatten", ("Linear", {"name": "fc", "out_features": 4}), task="regression")
    assert not analyze(d).problems
    d.set_setting("task", "classification")
    assert "regression head" in only(d, "output").message


def test_head_fixes_follow_task_and_classes():
    from designer.core.head import head_fixes

    d = chain(
        "GlobalAvgPool",
        ("Linear", {"name": "fc", "out_features": 1000}),
        "Dropout",
        num_classes=1000,
    )
    assert head_fixes(d) == []
    d.set_setting("num_classes", 10)
    (fix,) = head_fixes(d)
    assert (d.nodes[fix.node_id].name, fix.field_name, fix.value) == (
        "fc",
        "params.out_features",
        10,
    )
    d.set_setting("task", "regression")
    (fix,) = head_fixes(d)
    assert (fix.field_name, fix.value) == ("type", "RegressionOutput")
