"""The window's actions (with the standard shortcuts), its menus, and their enabled states and
texts ("Undo Move conv1"). The keyboard-shortcut help is generated from these same actions."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from designer.app import settings, theme
from designer.app.dialogs.prompts import with_suffix
from designer.app.mime import clipboard_layers_text
from designer.app.window_keys import WindowKeys

if TYPE_CHECKING:
    from designer.app.main_window import MainWindow

SK = QKeySequence.StandardKey
# What a connection's "Insert layer here" offers, for image (C x H x W) and vector tensors.
INSERT_IMAGE = ("ReLU", "BatchNorm", "Dropout2d", "Conv2d", "MaxPool2d", "AvgPool2d")
INSERT_VECTOR = ("ReLU", "BatchNorm", "Dropout", "Linear")


class _ClipboardWatch(QObject):
    """Follows the system clipboard for Paste's enabled state; a QObject of the window, so the
    connection ends with it (the clipboard outlives every window)."""

    def __init__(self, actions: WindowActions, parent):
        super().__init__(parent)
        self.actions = actions
        QApplication.clipboard().dataChanged.connect(self.changed)

    def changed(self) -> None:
        self.actions.update()


class WindowActions:
    def __init__(self, w: MainWindow):
        self.w = w
        ed, files, view = w.editor, w.files, w.view

        self.keys_shown: dict[QAction, list[str]] = {}

        def act(text: str, slot: Callable, *keys, tip: str = "") -> QAction:
            a = QAction(text, w)
            shortcuts: list[QKeySequence] = []
            shown: list[str] = []
            for k in keys:
                # A standard key brings the platform's bindings; the first one is what people
                # know it by (the rest are e.g. X11 media keys) and is the one the help lists.
                bindings = QKeySequence.keyBindings(k) if isinstance(k, SK) else [QKeySequence(k)]
                for seq in bindings:
                    if not seq.isEmpty() and seq not in shortcuts:
                        shortcuts.append(seq)
                if bindings:
                    label = bindings[0].toString(QKeySequence.SequenceFormat.NativeText)
                    if label not in shown:
                        shown.append(label)
            a.setShortcuts(shortcuts)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _=False: slot())
            w.addAction(a)  # shortcuts work whichever panel has focus
            self.keys_shown[a] = shown
            return a

        # File
        self.new = act("&New", files.new, SK.New, tip="A new design with an input and a head")
        self.new_template = act(
            "New from &template…",
            files.new_from_template,
            "Ctrl+Shift+N",
            tip="Start from a classic architecture",
        )
        self.open = act("&Open…", files.open, SK.Open)
        self.import_model = act(
            "&Import model…",
            self.do_import_model,
            tip="A PyTorch (.py, .pt2), ONNX or torchvision model as an "
            "editable design with its weights",
        )
        self.save = act("&Save", files.save, SK.Save)
        self.save_as = act("Save &as…", files.save_as, SK.SaveAs, "Ctrl+Shift+S")
        self.export_python = act(
            "&Python code…",
            self.do_export_python,
            "Ctrl+E",
            tip="A standalone PyTorch file defining this network",
        )
        self.export_png = act("Diagram as &PNG…", lambda: self.do_export_image("png"))
        self.export_svg = act("Diagram as &SVG…", lambda: self.do_export_image("svg"))
        self.quit = act("&Quit", w.close, SK.Quit, "Ctrl+Q")
        # Edit
        self.undo = act("&Undo", ed.undo, SK.Undo)
        self.redo = act("&Redo", ed.redo, SK.Redo, "Ctrl+Shift+Z", "Ctrl+Y")
        self.cut = act("Cu&t", ed.cut, SK.Cut)
        self.copy = act("&Copy", ed.copy, SK.Copy)
        self.paste = act("&Paste", ed.paste, SK.Paste)
        self.duplicate = act("D&uplicate", ed.duplicate, "Ctrl+D")
        # Not SK.Delete: on X11 it also binds Ctrl+D, which is Duplicate here.
        self.delete = act("&Delete", ed.delete_selection, "Delete", "Backspace")
        self.delete_reconnect = act(
            "Delete and &reconnect",
            ed.delete_and_reconnect,
            "Ctrl+Shift+Delete",
            "Ctrl+Shift+Backspace",
            tip="Remove the layer and join its input to what it fed",
        )
        self.select_all = act("Select &all", ed.select_all, SK.SelectAll)
        self.group = act(
            "&Group into block…",
            self.do_group,
            "Ctrl+G",
            tip="Replace the selected layers by one custom block",
        )
        self.ungroup = act(
            "U&ngroup",
            ed.ungroup_selection,
            "Ctrl+Shift+G",
            tip="Replace the selected block by its layers",
        )
        self.save_block = act(
            "Save selection as &block…",
            self.do_save_block,
            tip="Add a custom block made of the selection to the palette",
        )
        self.open_block = act(
            "&Open block", self.do_open_block, "Ctrl+Return", tip="Show the selected block's layers"
        )
        self.go_up = act("Back to &parent", ed.go_up, "Alt+Up")
        # Transfer learning
        self.adapt = act(
            "A&dapt to dataset…",
            lambda: w.transfer.adapt_to_dataset(),
            tip="New head, input and frozen layers for another dataset, in one step",
        )
        self.unfreeze_all = act("Un&freeze all", lambda: w.transfer.unfreeze_all())
        self.replace_head = act("&Replace head…", lambda: w.transfer.replace_head())
        # View
        self.zoom_in = act("Zoom &in", view.zoom_in, SK.ZoomIn, "Ctrl+=")
        self.zoom_out = act("Zoom &out", view.zoom_out, SK.ZoomOut)
        self.fit = act("&Fit to window", view.fit_all, "Ctrl+0")
        self.actual_size = act("&Actual size", view.reset_zoom, "Ctrl+1")
        self.arrange = act(
            "A&rrange layers",
            ed.arrange,
            "Ctrl+L",
            tip="Automatic layout: top to bottom, branches side by side, a tall design in columns",
        )
        self.arrange_columns = act(
            "Arrange in &columns",
            lambda: ed.arrange(wrap=True),
            tip="A long design cut into columns side by side",
        )
        self.arrange_column = act(
            "Arrange in one colu&mn",
            lambda: ed.arrange(wrap=False),
            tip="Top to bottom in one column, however long",
        )
        self.previews = act(
            "&Previews",
            lambda: w.previews.set_enabled(self.previews.isChecked()),
            "Ctrl+Shift+P",
            tip="Show each node's output for a pinned sample, live as you edit and train",
        )
        self.previews.setCheckable(True)
        self.previews.setChecked(w.previews.enabled)
        w.previews.enabled_changed.connect(self.previews.setChecked)
        # Run
        self.train = act(
            "&Train",
            lambda: w.show_training().train(),
            "F5",
            tip="Train the design as it is now, in the background",
        )
        self.pause_run = act("&Pause or resume", lambda: w.show_training().toggle_pause(), "F6")
        self.stop_run = act(
            "&Stop",
            lambda: w.show_training().stop(),
            "Shift+F5",
            tip="Stop after this step, keeping a checkpoint",
        )
        self.resume_run = act(
            "&Resume run",
            lambda: w.show_training().resume_run(),
            tip="Continue a stopped or crashed run from its checkpoint",
        )
        self.overfit = act(
            "&Overfit 20 samples",
            lambda: w.show_training().overfit(),
            tip="Sanity check: can the design learn 20 samples by heart?",
        )
        self.search = act(
            "Hyperparameter &search…",
            lambda: w.show_training().start_search(),
            tip="Random search over learning rate, weight decay, dropout, batch size",
        )
        self.two_stage = act(
            "Fine-tune in two &stages…",
            lambda: w.show_training().fine_tune(),
            tip="Train the new head with the rest frozen, then everything",
        )
        self.new_experiment = act(
            "New &experiment…",
            lambda: w.show_training().new_experiment(),
            tip="Vary settings, layer parameters or template options; train every combination",
        )
        self.open_runs = act(
            "Open run &folder…",
            lambda: w.show_training().open_run_folder(),
            tip="Show runs trained elsewhere, e.g. by netdesigner train --run-dir",
        )
        self.compare = act(
            "&Compare architectures…",
            w.show_compare,
            tip="Accuracy vs operations vs parameters of the templates and your runs",
        )
        # Inspect (designer/app/inspect)
        self.check_gradients = act(
            "Check &gradients",
            self.do_check_gradients,
            tip="Does the layer's backward pass match its forward pass? "
            "(torch.autograd.gradcheck, shown in the Inspect tab)",
        )
        self.inspect_node = act(
            "&Inspect layer",
            self.do_inspect,
            tip="Filters, top patches, activations and Grad-CAM of the layer",
        )
        self._menu_node = ""
        self.shortcuts = act("&Keyboard shortcuts", w.show_shortcuts, SK.HelpContents)
        self.about = act("&About Network Designer", w.show_about)
        self.recent_menu = QMenu("Open &recent", w)
        self.theme_group = QActionGroup(w)
        self._drop_conflicts()
        text_keys = {
            self.undo,
            self.redo,
            self.cut,
            self.copy,
            self.paste,
            self.delete,
            self.select_all,
        }
        modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        self.window_keys = WindowKeys(
            w,
            [
                seq
                for a in self.keys_shown
                if a not in text_keys
                for seq in a.shortcuts()
                if seq.count() and seq[0].keyboardModifiers() & modifiers
            ],
        )
        ed.history_changed.connect(self.update)
        ed.frames_changed.connect(self.update)
        ed.scene.selection_changed.connect(self.update)
        files.recent_changed.connect(self.fill_recent)
        self._clipboard_watch = _ClipboardWatch(self, w)

    def _drop_conflicts(self) -> None:
        """A key bound to two actions triggers neither; the action that lists it first (its own,
        explicit key) keeps it, e.g. Ctrl+D stays Duplicate."""
        owner: dict[str, QAction] = {}
        for a, shown in self.keys_shown.items():
            for label in shown:
                owner.setdefault(label, a)
        for a in self.keys_shown:
            keep = []
            for seq in a.shortcuts():
                label = seq.toString(QKeySequence.SequenceFormat.NativeText)
                if owner.setdefault(label, a) is a:
                    keep.append(seq)
            a.setShortcuts(keep)

    # -- menus -------------------------------------------------------------------------------------
    def build_menus(self) -> None:
        bar = self.w.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.new, self.new_template, self.open])
        m.addMenu(self.recent_menu)
        m.addAction(self.import_model)
        m.addSeparator()
        m.addActions([self.save, self.save_as])
        export = m.addMenu("&Export")
        export.addActions([self.export_python, self.export_png, self.export_svg])
        m.addSeparator()
        m.addAction(self.quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.undo, self.redo])
        m.addSeparator()
        m.addActions(
            [
                self.cut,
                self.copy,
                self.paste,
                self.duplicate,
                self.delete,
                self.delete_reconnect,
                self.select_all,
            ]
        )
        m.addSeparator()
        m.addActions([self.open_block, self.go_up, self.group, self.ungroup, self.save_block])
        m.addSeparator()
        transfer = m.addMenu("Transfer &learning")
        transfer.addActions([self.adapt, self.replace_head, self.unfreeze_all])
        m = bar.addMenu("&View")
        m.addActions([self.zoom_in, self.zoom_out, self.fit, self.actual_size])
        m.addSeparator()
        m.addActions([self.arrange, self.arrange_columns, self.arrange_column])
        m.addSeparator()
        m.addAction(self.previews)
        m.addAction(self.compare)
        self.panels_menu = m.addMenu("&Panels")
        run = bar.addMenu("&Run")
        run.addActions([self.train, self.pause_run, self.stop_run, self.resume_run])
        run.addSeparator()
        run.addActions([self.overfit, self.search, self.two_stage, self.new_experiment])
        run.addAction(self.open_runs)
        themes = m.addMenu("&Theme")
        for mode, label in (
            ("system", "Follow the &system"),
            ("light", "&Light"),
            ("dark", "&Dark"),
        ):
            a = themes.addAction(label)
            a.setCheckable(True)
            a.setChecked(settings.theme() == mode)
            a.triggered.connect(lambda _=False, mode=mode: self.set_theme(mode))
            self.theme_group.addAction(a)
        m = bar.addMenu("&Help")
        m.addActions([self.shortcuts, self.about])
        self.fill_recent()
        self.update()

    def context_menu(self, node_id: str) -> QMenu:
        menu = QMenu(self.w)
        if node_id:
            menu.addActions([self.open_block, self.group, self.ungroup, self.save_block])
            menu.addSeparator()
            if not self.w.editor.frames:
                transfer = self.w.transfer
                menu.addAction("Freeze up to here", lambda: transfer.freeze_up_to(node_id))
                menu.addAction(self.unfreeze_all)
                menu.addAction("Cut here (feature extractor)", lambda: transfer.cut_here(node_id))
                menu.addAction(self.replace_head)
                menu.addSeparator()
            menu.addActions(
                [self.cut, self.copy, self.duplicate, self.delete, self.delete_reconnect]
            )
            menu.addSeparator()
            self._menu_node = node_id
            menu.addActions([self.inspect_node, self.check_gradients])
        elif self.w.scene.menu_edge is not None:
            self._edge_menu(menu, self.w.scene.menu_edge)
        else:
            menu.addActions([self.paste, self.select_all, self.arrange, self.fit])
            if self.w.editor.frames:
                menu.addAction(self.go_up)
        return menu

    def _edge_menu(self, menu: QMenu, edge) -> None:
        """A connection's menu: disconnect it, or put a layer into it (the layers that suit
        the tensor it carries)."""
        ed = self.w.editor
        editable = ed.editable
        menu.addAction("&Disconnect", lambda: ed.disconnect(edge)).setEnabled(editable)
        insert = menu.addMenu("&Insert layer here")
        insert.setEnabled(editable)
        shape = ed.level.analysis.shape(edge.src)
        image = shape is None or len(shape) == 3
        types = INSERT_IMAGE if image else INSERT_VECTOR
        from designer.core.registry import get_spec

        for type_name in types:
            insert.addAction(
                get_spec(type_name).title, lambda t=type_name: ed.insert_on_edge(edge, t)
            )

    def fill_recent(self) -> None:
        self.recent_menu.clear()
        files = settings.recent_files()
        for i, path in enumerate(files, start=1):
            a = self.recent_menu.addAction(f"&{i % 10} {os.path.basename(path)}")
            a.setToolTip(path)
            a.setStatusTip(path)
            a.triggered.connect(lambda _=False, p=path: self.w.files.open(p))
        if files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear list")
            clear.triggered.connect(lambda: (settings.clear_recent(), self.fill_recent()))
        self.recent_menu.setEnabled(bool(files))

    # -- state -------------------------------------------------------------------------------------
    def update(self) -> None:
        ed = self.w.editor
        undo, redo = ed.stack.undo_text(), ed.stack.redo_text()
        self.undo.setEnabled(ed.stack.can_undo())
        self.undo.setText(f"&Undo {undo}" if undo else "&Undo")
        self.redo.setEnabled(ed.stack.can_redo())
        self.redo.setText(f"&Redo {redo}" if redo else "&Redo")
        ids = ed.scene.selected_node_ids()
        edges = ed.scene.selected_edges()
        editable, top = ed.editable, not ed.frames
        for a in (self.cut, self.duplicate):
            a.setEnabled(editable and bool(ids))
        self.copy.setEnabled(bool(ids))
        self.paste.setEnabled(editable and clipboard_layers_text() is not None)
        self.delete.setEnabled(editable and bool(ids or edges))
        self.delete_reconnect.setEnabled(editable and len(ids) == 1)
        self.group.setEnabled(top and bool(ids))
        self.save_block.setEnabled(top and bool(ids))
        graph = ed.graph
        from designer.app.navigation import opens

        blocks = [n for n in ids if n in graph.nodes and opens(graph.nodes[n])]
        self.ungroup.setEnabled(top and len(blocks) == 1 and len(ids) == 1)
        self.open_block.setEnabled(len(blocks) == 1 and len(ids) == 1)
        self.go_up.setEnabled(bool(ed.frames))
        for a in (self.arrange, self.arrange_columns, self.arrange_column):
            a.setEnabled(editable)
        for a in (self.adapt, self.unfreeze_all, self.replace_head):
            a.setEnabled(top and editable)

    def set_theme(self, mode: str) -> None:
        settings.set_theme(mode)
        theme.apply_theme(QApplication.instance(), mode)

    # -- actions that ask first ------------------------------------------------------------------
    def do_group(self) -> None:
        name = self.w.prompts.text(
            "Group into block", "Name of the new block:", self.w.editor.suggest_block_name()
        )
        if name:
            self.w.editor.group_selection(name)

    def do_save_block(self) -> None:
        name = self.w.prompts.text(
            "Save as block", "Name of the block in the palette:", self.w.editor.suggest_block_name()
        )
        if name:
            if name in self.w.editor.design.blocks:
                self.w.prompts.error("Save as block", f"A block named {name!r} exists already.")
                return
            self.w.editor.save_selection_as_block(name)

    def do_open_block(self) -> None:
        ids = self.w.editor.scene.selected_node_ids()
        if len(ids) == 1:
            self.w.editor.open_block(ids[0])

    def _inspected_node(self) -> str:
        """The node of the last context menu, else the one selected ("" for none)."""
        ids = self.w.editor.scene.selected_node_ids()
        node = self._menu_node or (ids[0] if len(ids) == 1 else "")
        self._menu_node = ""
        return node

    def do_check_gradients(self) -> None:
        node = self._inspected_node()
        if node:
            inspect = self.w.show_inspect()
            inspect.check_gradients(inspect.canvas_key(node))

    def do_inspect(self) -> None:
        node = self._inspected_node()
        if node:
            inspect = self.w.show_inspect()
            inspect.select_node(inspect.canvas_key(node))

    def _export_stem(self) -> str:
        ed = self.w.editor
        base = (
            os.path.splitext(ed.path)[0]
            if ed.path
            else os.path.join(settings.last_dir(), ed.design.name.replace(" ", "_").lower())
        )
        return base

    def do_import_model(self) -> None:
        from designer.app.import_flow import import_model_flow

        import_model_flow(self.w)

    def do_export_python(self) -> None:
        from designer.app.export import export_python
        from designer.codegen import CodegenError

        problems = self.w.editor.analysis.problems
        if problems:  # say so before the user picks a file name for code that cannot be written
            self.w.prompts.error(
                "Cannot export code",
                "The design cannot be written as code "
                f"until its problems are fixed.\n\n{CodegenError(problems)}",
            )
            return
        path = self.w.prompts.save_path(
            "Export Python code", self._export_stem() + ".py", "Python files (*.py);;All files (*)"
        )
        if not path:
            return
        path = with_suffix(path, ".py")
        try:
            name = export_python(self.w.editor.design, path)
        except CodegenError as exc:
            self.w.prompts.error(
                "Cannot export code",
                f"The design cannot be written as code until its problems are fixed.\n\n{exc}",
            )
            return
        except OSError as exc:
            self.w.prompts.error("Cannot export code", f"{path}: {exc.strerror or exc}")
            return
        self.w.editor.message.emit(f"Wrote class {name} to {path}")

    def do_export_image(self, kind: str) -> None:
        from designer.app.export import export_png, export_svg

        filt = "PNG images (*.png)" if kind == "png" else "SVG drawings (*.svg)"
        path = self.w.prompts.save_path("Export diagram", f"{self._export_stem()}.{kind}", filt)
        if not path:
            return
        path = with_suffix(path, f".{kind}")
        try:
            if kind == "png":
                export_png(self.w.scene, path)
            else:
                export_svg(self.w.scene, path, self.w.editor.design.name)
        except OSError as exc:
            self.w.prompts.error("Cannot export diagram", f"{path}: {exc}")
            return
        self.w.editor.message.emit(f"Wrote {path}")

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(action, keys) for the help dialog and the README."""
        rows = []
        for a, shown in self.keys_shown.items():
            if shown:
                name = a.text().replace("&", "").rstrip("…")
                if a in (self.undo, self.redo):
                    name = name.split(" ")[0]
                rows.append((name, ", ".join(shown)))
        return rows
