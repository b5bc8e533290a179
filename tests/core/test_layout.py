"""Automatic layout: rows by depth, branches side by side, room for edges that skip rows."""

import itertools

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.core.layout import COLUMN, ROW, layered_positions


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
    assert pos[x][0] == pos[s][0]  # the shortcut's ends line up...
    assert abs(pos[y][0] - pos[x][0]) >= COLUMN / 2  # ...and the skipped layers step aside


def test_branches_sit_side_by_side():
    d = Design("b", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    left, right = b.add("ReLU", x), b.add("Tanh", x)
    b.add("Concat", [left, right])
    pos = layered_positions(d)
    assert pos[left][1] == pos[right][1] and pos[left][0] != pos[right][0]


def test_a_tall_chain_is_wrapped_into_columns_unless_asked_not_to():
    d = Design("long")
    b = GraphBuilder(d)
    ids = [b.add("Input")]
    for _ in range(40):
        ids.append(b.add("ReLU", ids[-1]))
    column = layered_positions(d, wrap=False)
    assert len({x for x, _ in column.values()}) == 1
    wrapped = layered_positions(d)
    xs = sorted({x for x, _ in wrapped.values()})
    assert len(xs) >= 3 and min(b - a for a, b in itertools.pairwise(xs)) >= COLUMN
    assert len(set(wrapped.values())) == len(wrapped)  # nothing on top of anything
    height = max(y for _, y in wrapped.values())
    assert height < max(y for _, y in column.values()) / 2
    # Reading order: down a column, then the next column to the right.
    order = sorted(ids, key=lambda n: (wrapped[n][0], wrapped[n][1]))
    assert order == ids


def test_short_branches_keep_to_their_lane():
    """Inception-like: a one-layer branch's edge to the merge runs in its own lane, not
    through the longer branch's layers."""
    d = Design("i", input_shape=(3, 8, 8))
    b = GraphBuilder(d)
    x = b.add("Input")
    short = b.add("ReLU", x)
    long = b.add("Tanh", b.add("Sigmoid", b.add("ReLU", x)))
    b.add("Concat", [short, long])
    pos = layered_positions(d)
    lane = pos[short][0]
    skipped = [n for n in d.nodes if pos[n][1] == 2 * ROW]  # beside the short lane
    assert all(abs(pos[n][0] - lane) >= COLUMN * 0.6 for n in skipped)
