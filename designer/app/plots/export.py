"""Training curves drawn with pyqtgraph and saved as PNG or SVG without showing a window, for
`netdesigner plot` (the data side, designer.training.curves, is shared with the app's plots).

One colour per run, a legend by run name; when the curves are smoothed, the recorded values
are drawn faintly behind them (as TensorBoard does), so the smoothing hides nothing.
"""

from __future__ import annotations

from pathlib import Path

from designer.app.plots import PALETTE
from designer.core.atomic import atomic_path, atomic_write_text
from designer.training.curves import X_LABELS, Curve

FORMATS = (".png", ".svg")
RAW_ALPHA = 60  # of 255: the recorded values behind smoothed curves


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def plot_widget(curves: list[Curve], title: str = ""):
    """A pyqtgraph PlotWidget with the curves: white background, black axes, a legend."""
    import pyqtgraph as pg

    widget = pg.PlotWidget(background="w")
    item = widget.getPlotItem()
    legend = item.addLegend(labelTextColor="k", offset=(-10, 10))
    legend.setBrush(pg.mkBrush(255, 255, 255, 200))
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen("k")
        axis.setTextPen("k")
        axis.enableAutoSIPrefix(False)  # accuracies stay 0..1, not "x0.001"
    item.showGrid(x=True, y=True, alpha=0.15)
    for i, curve in enumerate(curves):
        color = pg.mkColor(PALETTE[i % len(PALETTE)])
        if len(curve) and (curve.smoothed != curve.y).any():
            faint = pg.mkColor(color)
            faint.setAlpha(RAW_ALPHA)
            item.plot(curve.x, curve.y, pen=pg.mkPen(faint, width=1))
        symbol = "o" if len(curve) <= 1 else None  # a single point would draw no line
        item.plot(
            curve.x,
            curve.smoothed,
            pen=pg.mkPen(color, width=2),
            name=curve.name,
            symbol=symbol,
            symbolBrush=color,
            symbolPen=color,
            symbolSize=6,
        )
    if curves:
        item.setLabel("bottom", X_LABELS[curves[0].x_axis], color="k")
        item.setLabel("left", curves[0].metric, color="k")
    if title:
        item.setTitle(title, color="k")
    return widget


def save_plot(
    curves: list[Curve], path: str | Path, size: tuple[int, int] = (900, 560), title: str = ""
) -> None:
    """Draw the curves and write them to ``path`` (.png of ``size`` pixels, or .svg)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: a plot is saved as {' or '.join(FORMATS)}")
    app = _app()
    widget = plot_widget(curves, title)
    widget.resize(*size)
    widget.getPlotItem().resize(*size)
    app.processEvents()
    save_plot_widget(widget, path, title)
    widget.deleteLater()


def save_plot_widget(widget, path: str | Path, title: str = "") -> None:
    """Write a PlotWidget as it is drawn to ``path``: .png at the widget's size, or .svg."""
    from pyqtgraph import exporters

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: a plot is saved as {' or '.join(FORMATS)}")
    size = (max(1, widget.width()), max(1, widget.height()))
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".png":
            exporter = exporters.ImageExporter(widget.getPlotItem())
            exporter.parameters()["width"] = size[0]
            exporter.parameters()["height"] = size[1]
            exporter.export(str(tmp))
        else:
            _save_svg(widget, tmp, size, title)


def save_plot_data(widget, path: str | Path) -> None:
    """The curves of a PlotWidget as CSV: one row per point (curve, x, y)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["curve", "x", "y"])
    for item in widget.getPlotItem().listDataItems():
        x, y = item.getOriginalDataset()
        if x is None:
            continue
        name = item.name() or ""
        writer.writerows((name, f"{a:.10g}", f"{b:.10g}") for a, b in zip(x, y))
    atomic_write_text(path, out.getvalue())


def _save_svg(widget, path: Path, size: tuple[int, int], title: str) -> None:
    """The widget painted onto Qt's SVG generator: vector curves, axes and text. (pyqtgraph's
    SVGExporter cannot read the path data Qt 6.10+ writes: pyqtgraph issue #3485.)"""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(*size))
    generator.setViewBox(QRect(0, 0, *size))
    generator.setTitle(title or "training curves")
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
