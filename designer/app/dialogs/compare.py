"""View → Compare architectures: seed 000's chart (Canziani et al.) of the templates — ImageNet
top-1 against MACs, bubble area = parameters; a click opens the template — and, on a second
tab, the runs of this design against their MACs and test accuracy. Each chart saves as PNG/SVG."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.app.plots.compare import chart_widget
from designer.app.training.background import BackgroundTask
from designer.app.training.plots import adopt_popups, configure_pyqtgraph


class CompareDialog(QDialog):
    def __init__(self, window, run_paths: list) -> None:
        super().__init__(window)
        from PySide6.QtWidgets import QApplication

        self.setWindowTitle("Compare architectures")
        self.resize(1000, 680)
        self.window_ = window
        self.opened: str | None = None
        self._before = set(QApplication.topLevelWidgets())
        configure_pyqtgraph()
        self.tabs = QTabWidget()
        self.templates_page, self.templates_layout = _page("Computing the templates' sizes…")
        self.runs_page, self.runs_layout = _page("Reading the runs…")
        self.tabs.addTab(self.templates_page, "Templates (ImageNet)")
        self.tabs.addTab(self.runs_page, "Your runs")
        self.charts: dict[str, object] = {}
        save_png, save_svg = QPushButton("Save as PNG…"), QPushButton("Save as SVG…")
        save_png.clicked.connect(lambda: self._save("png"))
        save_svg.clicked.connect(lambda: self._save("svg"))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Click a template's bubble to open it."))
        buttons.addStretch(1)
        for b in (save_png, save_svg, close):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        from designer.training.compare import template_points, user_points

        self._templates_task = BackgroundTask(self)
        self._templates_task.start(
            template_points,
            self._show_templates,
            lambda m: self._note(self.templates_layout, m),
            (Exception,),
        )
        self._runs_task = BackgroundTask(self)
        paths = list(run_paths)
        self._runs_task.start(
            lambda: user_points(paths) if paths else [],
            self._show_runs,
            lambda m: self._note(self.runs_layout, m),
            (Exception,),
        )

    @property
    def busy(self) -> bool:
        return self._templates_task.busy or self._runs_task.busy

    def _show_templates(self, points) -> None:
        self._chart(
            "templates", self.templates_layout, points, "ImageNet top-1 accuracy (%)", self._open
        )

    def _show_runs(self, points) -> None:
        if not points:
            self._note(
                self.runs_layout,
                "No finished run of this design yet: train one in the "
                "Training tab (its test accuracy is placed here).",
            )
            return
        self._chart("runs", self.runs_layout, points, "test accuracy (%)")

    def _chart(self, key, layout, points, y_label, on_click=None) -> None:
        from PySide6.QtWidgets import QApplication

        _clear(layout)
        before = set(QApplication.topLevelWidgets())
        chart = chart_widget(
            points, y_label, "Accuracy vs operations (bubble area: parameters)", on_click
        )
        adopt_popups(chart, before)
        chart.points = points
        layout.addWidget(chart)
        self.charts[key] = chart

    def _note(self, layout, text: str) -> None:
        _clear(layout)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)

    def _open(self, point) -> None:
        self.opened = point.name
        self.accept()

    def _save(self, kind: str) -> None:
        from designer.app.dialogs.prompts import with_suffix
        from designer.app.plots.export import save_plot_widget

        key = "templates" if self.tabs.currentIndex() == 0 else "runs"
        chart = self.charts.get(key)
        if chart is None:
            return
        prompts = self.window_.prompts
        filt = "PNG images (*.png)" if kind == "png" else "SVG drawings (*.svg)"
        path = prompts.save_path("Save chart", f"compare-{key}.{kind}", filt)
        if not path:
            return
        path = with_suffix(path, f".{kind}")
        try:
            save_plot_widget(chart, path, "Accuracy vs operations")
        except OSError as exc:
            prompts.error("Cannot save the chart", f"{path}: {exc.strerror or exc}")


def _page(text: str) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(QLabel(text))
    return page, layout


def _clear(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().deleteLater()
