"""Automatic layout: rows by depth, branches side by side, room for edges that skip rows."""

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.layout import COLUMN, layered_positions


def test_chain_is_one_column_top_to_bottom():
    d = Design("c")
    b = GraphBuilder(d)
    ids = [b.add("Input")]
    for _ in range(3):
        ids.append(b.add("ReLU", ids[-1]))
    pos = layered_positions(d)
    assert [pos[i][0] for i in ids] == [0.0] * 4
    assert [pos[i][1] for i in ids] == sorted(pos[i][1] for i in ids)


def test_a_shortcut_runs_beside_the_layers_it_skips():
    d = Design("r", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    y = b.add("Conv2d", x, padding=1, out_channels=3)
    y = b.add("ReLU", y)
    s = b.add("Add", [x, y])
    pos = layered_positions(d)
    assert pos[x][0] == pos[s][0]            # the shortcut's ends line up...
    assert abs(pos[y][0] - pos[x][0]) >= COLUMN / 2  # ...and the skipped layers step aside


def test_branches_sit_side_by_side():
    d = Design("b", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    left, right = b.add("ReLU", x), b.add("Tanh", x)
    b.add("Concat", [left, right])
    pos = layered_positions(d)
    assert pos[left][1] == pos[right][1] and pos[left][0] != pos[right][0]
