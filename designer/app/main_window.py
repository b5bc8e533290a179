"""The main window: assembles canvas, panels, menus, files and autosave. It holds no editing
logic (that is designer.app.editor) and leaves room for later panels: `add_panel` docks one
beside the others, `add_workspace` adds a tab next to the canvas."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer import __version__
from designer.app import settings
from designer.app.actions import WindowActions
from designer.app.autosave import Autosaver
from designer.app.canvas.breadcrumb import Breadcrumb
from designer.app.canvas.scene import GraphScene
from designer.app.canvas.view import CanvasView
from designer.app.dialogs.prompts import Prompts
from designer.app.editor import Editor
from designer.app.files import Files
from designer.app.panels.inspector import InspectorPanel
from designer.app.panels.palette import PalettePanel
from designer.app.panels.problems import ProblemsPanel
from designer.app.panels.summary import PARTIAL_TIP, SummaryPanel, totals_text
from designer.app.previews.controller import CanvasPreviews
from designer.core.design import Design

APP_TITLE = "Network Designer"


class MainWindow(QMainWindow):
    def __init__(
        self,
        design: Design | None = None,
        path: str | None = None,
        *,
        recovery_dir: Path | None = None,
        autosave_ms: int | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self.scene = GraphScene(self)
        self.view = CanvasView(self.scene)
        self.editor = Editor(self.scene, self.view, self)
        self.prompts = Prompts(self)
        self.editor.prompts = self.prompts
        self.files = Files(self.editor, self.prompts, self)
        from designer.app.transfer_actions import TransferActions

        self.transfer = TransferActions(self)
        kwargs = {} if autosave_ms is None else {"interval_ms": autosave_ms}
        self.autosaver = Autosaver(self.editor, recovery_dir, parent=self, **kwargs)

        canvas_page = QWidget()
        column = QVBoxLayout(canvas_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.breadcrumb = Breadcrumb(self.editor, canvas_page)
        column.addWidget(self.breadcrumb)
        column.addWidget(self.view, 1)
        self.previews = CanvasPreviews(self)
        column.addWidget(self.previews.strip)
        self.workspace = QTabWidget(self)
        self.workspace.setDocumentMode(True)
        self.workspace.setTabBarAutoHide(True)  # a tab bar appears once a second workspace exists
        self.workspace.addTab(canvas_page, "Design")
        # The Training workspace is built the first time it is shown (it imports torch, which
        # would double the app's start-up time).
        self.training = None
        self._docks_shown: list[QDockWidget] = []
        self._training_page = QWidget()
        QVBoxLayout(self._training_page).setContentsMargins(0, 0, 0, 0)
        self.add_workspace("Training", self._training_page)
        # The Inspect workspace too (it imports torch and captum).
        self.inspect = None
        self._inspect_page = QWidget()
        QVBoxLayout(self._inspect_page).setContentsMargins(0, 0, 0, 0)
        self.add_workspace("Inspect", self._inspect_page)
        self.workspace.currentChanged.connect(self._workspace_shown)
        self.setCentralWidget(self.workspace)

        self.palette_panel = PalettePanel(self)
        self.inspector = InspectorPanel(self.editor, self, self.prompts)
        self.problems = ProblemsPanel(self.editor, self)
        self.summary = SummaryPanel(self.editor, self)
        self.docks: dict[str, QDockWidget] = {}
        self.add_panel("Layers", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_panel("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_panel("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.add_panel("Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["Problems"], self.docks["Summary"])
        self.docks["Summary"].raise_()
        self.resizeDocks(
            [self.docks["Layers"], self.docks["Inspector"]], [220, 300], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.docks["Problems"]], [self.summary.sizeHint().height()], Qt.Orientation.Vertical
        )

        self.totals = QLabel(self)
        self.zoom_label = QLabel(self)
        self.training_status = QLabel(self)
        self.training_status.setObjectName("training-status")
        self.statusBar().addPermanentWidget(self.training_status)
        self.statusBar().addPermanentWidget(self.totals)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.actions_ = WindowActions(self)
        self.actions_.build_menus()
        for dock in self.docks.values():
            self.actions_.panels_menu.addAction(dock.toggleViewAction())

        self.editor.message.connect(self.show_message)
        self.editor.refreshed.connect(self._update_status)
        self.editor.history_changed.connect(self._update_title)
        self.editor.document_changed.connect(self._update_title)
        self.editor.frames_changed.connect(self._update_palette)
        self.editor.refreshed.connect(self._update_palette)
        self.editor.inspect_requested.connect(lambda _id: self.docks["Inspector"].raise_())
        self.problems.count_changed.connect(self._problems_counted)
        self.palette_panel.add_requested.connect(self.editor.add_after_selection)
        self.scene.context_menu_requested.connect(self._context_menu)
        self.view.zoom_changed.connect(
            lambda z: self.zoom_label.setText(f"  Zoom {round(z * 100)}%")
        )
        screen = self.screen().availableGeometry()
        self.resize(min(1400, int(screen.width() * 0.92)), min(900, int(screen.height() * 0.92)))
        if design is None:
            from designer.app.launch import default_design

            design = default_design()
        self.editor.set_document(design, path)

    # -- room for later panels ---------------------------------------------------------------------
    def add_panel(
        self,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def add_workspace(self, title: str, widget: QWidget) -> int:
        return self.workspace.addTab(widget, title)

    def training_workspace(self):
        """The Training workspace, built on first use."""
        if self.training is None:
            from PySide6.QtGui import QCursor
            from PySide6.QtWidgets import QApplication

            from designer.app.training.workspace import TrainingWorkspace

            QApplication.setOverrideCursor(QCursor(Qt.CursorShape.WaitCursor))
            try:
                self.training = TrainingWorkspace(self)
            finally:
                QApplication.restoreOverrideCursor()
            self._training_page.layout().addWidget(self.training)
            self.previews.follow_training(self.training)
            self.training.status_text.connect(self.training_status.setText)
        return self.training

    def show_training(self):
        """Bring the Training workspace to the front (building it if needed)."""
        workspace = self.training_workspace()
        self.workspace.setCurrentWidget(self._training_page)
        return workspace

    def inspect_workspace(self):
        """The Inspect workspace, built on first use."""
        if self.inspect is None:
            from designer.app.inspect.workspace import InspectWorkspace

            self.inspect = InspectWorkspace(self)
            self._inspect_page.layout().addWidget(self.inspect)
        return self.inspect

    def show_inspect(self):
        """Bring the Inspect workspace to the front (building it if needed)."""
        workspace = self.inspect_workspace()
        self.workspace.setCurrentWidget(self._inspect_page)
        return workspace

    def _workspace_shown(self, index: int) -> None:
        """The design's panels belong to the Design tab: hidden while another workspace is
        shown (and back as they were when the user returns)."""
        page = self.workspace.widget(index)
        if page is self._training_page:
            self.training_workspace()
        if page is self._inspect_page:
            self.inspect_workspace()
        design = page not in (self._training_page, self._inspect_page)
        if not design and self._docks_shown:
            return  # from one workspace to another: the panels are hidden already
        if not design:
            self._docks_shown = [d for d in self.docks.values() if d.isVisible()]
            for dock in self._docks_shown:
                dock.hide()
        else:
            for dock in self._docks_shown:
                dock.show()
            self._docks_shown = []

    # -- feedback ----------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)
        self.view.show_message(text)

    def _update_status(self) -> None:
        from designer.core.summary import summarize

        s = self.summary.summary or summarize(self.editor.design, self.editor.analysis)
        n = len(self.editor.analysis.problems)
        self.totals.setText(
            totals_text(s) + " · " + (f"{n} problem{'s' if n != 1 else ''}" if n else "no problems")
        )
        self.totals.setToolTip(PARTIAL_TIP if s.partial else "")

    def _problems_counted(self, count: int) -> None:
        dock = self.docks["Problems"]
        had = dock.windowTitle() != "Problems"
        dock.setWindowTitle(f"Problems ({count})" if count else "Problems")
        if count and not had:  # problems just appeared: show what is wrong
            dock.raise_()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — {APP_TITLE}")
        self.setWindowModified(self.editor.is_modified())

    def _update_palette(self) -> None:
        self.palette_panel.set_context(
            list(self.editor.design.blocks),
            in_block=bool(self.editor.block_path) and self.editor.editable,
        )

    def _context_menu(self, pos: QPoint, node_id: str) -> None:
        self.actions_.update()
        menu = self.actions_.context_menu(node_id)
        menu.exec(pos)
        menu.deleteLater()

    # -- help --------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        rows = self.actions_.shortcut_rows()
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name))
            table.setItem(i, 1, QTableWidgetItem(keys))
        hint = QLabel(
            "Canvas: drag from a port to connect · drag on empty space to select · "
            "Ctrl+wheel or pinch to zoom · wheel, middle button or Space+drag to pan · "
            "double-click a block to open it"
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(hint)
        dialog.resize(520, 560)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def show_compare(self):
        """The architecture comparison; a click on a template's bubble opens that template."""
        from designer.app.dialogs.compare import CompareDialog
        from designer.training.runs import list_runs

        workspace = self.training
        if workspace is not None:
            runs = [r.path for r in workspace.runs]
        else:
            from designer.app.training.workspace import unsaved_runs_folder
            from designer.training.runs import runs_folder_for

            folder = (
                runs_folder_for(self.editor.path)
                if self.editor.path
                else unsaved_runs_folder(self.editor.design.name)
            )
            runs = [r.path for r in list_runs(folder)]
        dialog = CompareDialog(self, runs)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: dialog.opened and self.files.new_from_template(dialog.opened)
        )
        dialog.show()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"<b>{APP_TITLE}</b> {__version__}<br>Build convolutional networks "
            "visually, train them, look inside them, export PyTorch code.",
        )

    # -- window layout (kept between sessions) ---------------------------------------------------
    def restore_layout(self) -> None:
        store = settings.store()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def save_layout(self) -> None:
        store = settings.store()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())

    # -- closing -----------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.training is not None and not self.training.confirm_close():
            event.ignore()
            return
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        if self.training is not None:
            self.training.dispose()
        if self.inspect is not None:
            self.inspect.dispose()
        self.previews.dispose()
        self.autosaver.close()
        self.scene.detach()
        self.scene.blockSignals(True)  # tearing the scene down must not wake the panels
        event.accept()
