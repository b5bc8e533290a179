"""Axis ranges for live curves that change in steps, not on every new point.

pyqtgraph's auto-range follows the data exactly, so while training every update moves both
axes and each axis redraws its tick text (the costly part of a plot's repaint, ~5 ms, which made
the window stutter). A live plot instead keeps its range while the data stays inside it and
fills a fair part of it; data that leaves it grows the range by half its size (so a range
follows a growing series in a few geometric steps); edges are rounded to the grid's step.
"""

from __future__ import annotations

import math

HEADROOM = 0.15  # room beyond the data in a fresh fit, as a fraction of the data's span
GROWTH = 0.5  # data outside the range grows it by this fraction of its size
MIN_FILL = 0.25  # a range the data fills less than this is fitted afresh
NEAR_CONSTANT = 0.1  # a series varies by at least this fraction of its size, for the fit


def nice_step(span: float) -> float:
    """A 1-2-5 step near a fifth of ``span`` (the grid's spacing at that span)."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(span / 5))
    return next(base * m for m in (1, 2, 5, 10) if span / (base * m) <= 5)


def _rounded(
    lo: float, hi: float, low: float, high: float, floor: float | None, ceiling: float | None
) -> tuple[float, float]:
    """[lo, hi] rounded outward to the grid, reaching down to ``floor`` when the data lies
    nearer to it than its own size (a loss from 2.3 to 0.1 shows from 0), and never beyond
    ``floor`` or ``ceiling`` (an accuracy stops at 1) where the data does not go."""
    if floor is not None and low >= floor and low - floor <= hi - lo:
        lo = floor
    step = nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if floor is not None and low >= floor:
        lo = max(lo, floor)
    if ceiling is not None and high <= ceiling:
        hi = min(hi, ceiling)
    return lo, hi


def settled_range(
    current: tuple[float, float] | None,
    low: float,
    high: float,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
) -> tuple[float, float]:
    """The range to show data spanning [low, high]: ``current`` while it holds the data well,
    else a grown or a fresh one. ``floor`` (0 for losses, rates and steps) and ``ceiling`` (1
    for accuracies) bound the range where the data stays within them."""
    span = max(high - low, NEAR_CONSTANT * max(abs(low), abs(high)), 1e-12)
    if current is not None:
        lo, hi = current
        inside = lo <= low and high <= hi
        if inside and span >= MIN_FILL * (hi - lo):
            return current
        if not inside:
            grow = GROWTH * (hi - lo)
            new_lo = min(lo, low - grow) if low < lo else lo
            new_hi = max(hi, high + grow) if high > hi else hi
            return _rounded(new_lo, new_hi, low, high, floor, ceiling)
    middle = (low + high) / 2
    half = span / 2 + HEADROOM * span
    return _rounded(middle - half, middle + half, low, high, floor, ceiling)
