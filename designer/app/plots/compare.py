"""The architecture comparison chart with pyqtgraph: a labelled bubble per network, x = MACs per
sample (log), y = accuracy, bubble area ∝ parameters. Shared by the app's View → Compare
architectures and `netdesigner compare`."""

from __future__ import annotations

import math

import pyqtgraph as pg

from designer.app.plots import PALETTE
from designer.core.summary import human
from designer.training.compare import Point


def bubble_size(params: int, largest: int) -> float:
    """Pixels across: area proportional to the parameter count, 8 to 48 px."""
    return 8 + 40 * math.sqrt(params / largest) if largest else 12


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Ticks at 1, 2, 5 × 10^k between two MAC counts, placed on log10 and labelled "2G"."""
    ticks = []
    for k in range(math.floor(math.log10(max(low, 1))), math.ceil(math.log10(high)) + 1):
        for m in (1, 2, 5):
            v = m * 10**k
            if low / 1.5 <= v <= high * 1.5:
                ticks.append((math.log10(v), human(v)))
    return ticks


CHAR_WIDTH = 0.026  # a label character's width in log10(MACs) units at the usual chart size


def label_text(p: Point) -> str:
    return f"{p.label} · {human(p.params)}"


def label_places(points: list[Point]) -> list[tuple[float, float]]:
    """Anchors for the labels: above-right of the bubble, or below it when that would cover a
    label already placed nearby (close networks such as GoogLeNet and ResNet-18)."""
    placed: list[tuple[float, float, float]] = []  # label's left, right, baseline
    anchors = []
    for p in points:
        x = math.log10(max(p.macs, 1))
        right = x + CHAR_WIDTH * len(label_text(p))
        clash = any(
            left - 0.05 < right and x < r + 0.05 and abs(p.accuracy - y) < 2.2
            for left, r, y in placed
        )
        anchors.append((0, 0) if clash else (0, 1))
        placed.append((x, right, p.accuracy - (2.2 if clash else 0)))
    return anchors


def draw(item: pg.PlotItem, points: list[Point], y_label: str, on_click=None) -> pg.ScatterPlotItem:
    """Draw the points on a PlotItem; ``on_click(point)`` when one is clicked."""
    item.clear()
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setLabel("bottom", "MACs per sample (log scale)")
    item.setLabel("left", y_label)
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)
    largest = max((p.params for p in points), default=0)
    xs = [math.log10(max(p.macs, 1)) for p in points]
    spots = [
        {
            "pos": (x, p.accuracy),
            "size": bubble_size(p.params, largest),
            "brush": pg.mkBrush(pg.mkColor(PALETTE[i % len(PALETTE)]).lighter(110)),
            "pen": pg.mkPen("#333", width=1),
            "data": p,
        }
        for i, (x, p) in enumerate(zip(xs, points))
    ]
    scatter = pg.ScatterPlotItem(spots=spots, hoverable=True)
    item.addItem(scatter)
    for x, p, anchor in zip(xs, points, label_places(points)):
        text = pg.TextItem(label_text(p), color="#222", anchor=anchor)
        text.setPos(x, p.accuracy)
        item.addItem(text)
    if points:
        macs = [p.macs for p in points]
        item.getAxis("bottom").setTicks([log_ticks(min(macs), max(macs))])
        item.setXRange(min(xs) - 0.15, max(xs) + 0.6, padding=0)
        accs = [p.accuracy for p in points]
        item.setYRange(min(accs) - 3, max(accs) + 3, padding=0)
    if on_click is not None:
        scatter.sigClicked.connect(lambda _s, pts, _ev: len(pts) and on_click(pts[0].data()))
    return scatter


def chart_widget(points: list[Point], y_label: str, title: str = "", on_click=None):
    widget = pg.PlotWidget(background="w")
    item = widget.getPlotItem()
    if title:
        item.setTitle(title, color="#222")
    for side in ("left", "bottom"):
        item.getAxis(side).setPen("#333")
        item.getAxis(side).setTextPen("#333")
    widget.scatter = draw(item, points, y_label, on_click)
    return widget


def save_chart(
    points: list[Point], path, y_label: str, title: str = "", size: tuple[int, int] = (1000, 640)
) -> None:
    """Write the chart as .png or .svg, headless (the app's plot export)."""
    from designer.app.plots.export import _app, save_plot_widget

    app = _app()
    widget = chart_widget(points, y_label, title)
    widget.resize(*size)
    app.processEvents()
    save_plot_widget(widget, path, title)
    widget.deleteLater()
