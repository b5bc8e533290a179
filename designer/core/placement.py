"""Where new, pasted and duplicated nodes go: the free spot nearest to where they were wanted,
so a node never lands on top of another one and hides its ports."""

from __future__ import annotations

import math
from collections.abc import Iterable

Point = tuple[float, float]

STEP = 30.0  # candidate positions lie on the canvas grid
MAX_RINGS = 80  # how far to look (80 steps = 2,400 units) before giving up


class Occupancy:
    """Node centres in a grid of buckets, so that a free-spot search in a 2,000-node design
    looks at a few neighbours per candidate, not at every node."""

    def __init__(self, centres: Iterable[Point], size: tuple[float, float]):
        self.w, self.h = size
        self.cells: dict[tuple[int, int], list[Point]] = {}
        for p in centres:
            self.cells.setdefault(self._cell(p), []).append(p)

    def _cell(self, p: Point) -> tuple[int, int]:
        return math.floor(p[0] / self.w), math.floor(p[1] / self.h)

    def free(self, p: Point) -> bool:
        """No node box (of `size`) centred near enough to overlap a box centred at p."""
        cx, cy = self._cell(p)
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for q in self.cells.get((i, j), ()):
                    if abs(q[0] - p[0]) < self.w and abs(q[1] - p[1]) < self.h:
                        return False
        return True


def _candidates(rings: int = MAX_RINGS):
    """Offsets on the grid, nearest first (ring by ring, each ring sorted by distance)."""
    yield 0.0, 0.0
    for r in range(1, rings + 1):
        ring = [
            (i, j) for i in range(-r, r + 1) for j in range(-r, r + 1) if max(abs(i), abs(j)) == r
        ]
        ring.sort(key=lambda ij: (ij[0] ** 2 + ij[1] ** 2, -ij[1], ij[0]))
        for i, j in ring:
            yield i * STEP, j * STEP


def free_offset(
    occupied: Iterable[Point], group: list[Point], preferred: Point, size: tuple[float, float]
) -> Point:
    """The shift, nearest to `preferred`, that puts every point of `group` where a node box of
    `size` (with its margin) overlaps no box centred at an `occupied` point."""
    grid = Occupancy(occupied, size)
    for dx, dy in _candidates():
        ox, oy = preferred[0] + dx, preferred[1] + dy
        if all(grid.free((x + ox, y + oy)) for x, y in group):
            return ox, oy
    return preferred  # a canvas packed that tightly: keep the wanted spot


def free_position(occupied: Iterable[Point], wanted: Point, size: tuple[float, float]) -> Point:
    """The free spot for one node nearest to `wanted`."""
    return free_offset(occupied, [(0.0, 0.0)], wanted, size)
