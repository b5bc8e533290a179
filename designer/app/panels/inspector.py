"""The inspector: the selected node's name, trainable flag, learning-rate multiplier and params
(editors generated from its LayerSpec), or the design's own settings when nothing is selected.

Edits go to the editor as commands the moment they are valid (consecutive edits of one field
merge into one undo step; leaving the field closes the step)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.app.editor import Editor
from designer.app.panels.fields import (
    ERROR_STYLE,
    ChoiceField,
    Field,
    SpinField,
    TextField,
    _ints,
    field_for,
    parse,
)
from designer.core import params as P
from designer.core.analysis import learns as analysis_learns
from designer.core.design import Design
from designer.core.head import head_fixes
from designer.core.registry import get_spec, has_spec
from designer.core.summary import human

LR_MULT = P.Float("lr_mult", 1.0, min=0.0)


def _parse_shape(text: str):
    try:
        shape = _ints(text)
    except ValueError:
        return None, "enter C, H, W for images or N for vectors, e.g. 1, 28, 28"
    if len(shape) not in (1, 3) or any(v < 1 for v in shape):
        return None, "must be three positive numbers (C, H, W) or one (N)"
    return tuple(shape), None


class InspectorPanel(QScrollArea):
    def __init__(self, editor: Editor, parent=None, prompts=None):
        super().__init__(parent)
        self.editor = editor
        self.prompts = prompts  # asks whether to update the head after Task or Classes changed
        self._declined_fix: tuple | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.fields: dict[str, Field] = {}
        self.node_id: str | None = None
        self._key: tuple | None = None
        self._info: QLabel | None = None
        self._problems: QLabel | None = None
        self._multi: QCheckBox | None = None
        editor.refreshed.connect(self.refresh)
        editor.scene.selection_changed.connect(self.refresh)
        self.refresh()

    # -- what to show ------------------------------------------------------------------------------
    def refresh(self) -> None:
        ids = self.editor.scene.selected_node_ids()
        graph = self.editor.graph
        if len(ids) == 1 and ids[0] in graph.nodes:
            node = graph.nodes[ids[0]]
            learns = has_spec(node.type) and analysis_learns(
                get_spec(node.type), self.editor.level.analysis.info.get(node.id)
            )
            key = (
                "node",
                id(graph),
                node.id,
                node.type,
                self.editor.editable,
                tuple(self.editor.design.blocks),
                learns,
            )
            if key != self._key:
                self._build_node(node)
                self._key = key
            self._update_node()
        elif len(ids) > 1:
            key = ("multi", tuple(ids), self.editor.editable)
            if key != self._key:
                self._build_multi(ids)
                self._key = key
            self._update_multi(ids)
        else:
            key = ("design", id(self.editor.design))
            if key != self._key:
                self._build_design()
                self._key = key
            self._update_design()

    def _page(self) -> tuple[QWidget, QVBoxLayout]:
        self.fields = {}
        self.node_id = None
        self._multi = None
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        self.setWidget(page)  # the previous page is deleted
        return page, layout

    @staticmethod
    def _label(text: str, muted: bool = False) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        if muted:
            label.setForegroundRole(label.foregroundRole())
            label.setEnabled(False)
        return label

    def _row(self, form: QFormLayout, name: str, title: str, field: Field, tip: str = "") -> None:
        label = QLabel(title)
        label.setToolTip(tip)
        field.editor.setToolTip(tip)
        form.addRow(label, field.container)
        self.fields[name] = field

    # -- a node ------------------------------------------------------------------------------------
    def _build_node(self, node) -> None:
        _page, layout = self._page()
        self.node_id = node.id
        editable = self.editor.editable
        if not has_spec(node.type):
            layout.addWidget(
                self._label(
                    f"<b>{node.name}</b>: unknown layer type {node.type}; "
                    "delete or replace this node."
                )
            )
            layout.addStretch(1)
            return
        spec = get_spec(node.type)
        layout.addWidget(
            self._label(f"<b>{spec.title}</b> <span style='color:gray'>({spec.type})</span>")
        )
        if spec.help:
            layout.addWidget(self._label(spec.help, muted=True))
        if not editable:
            layout.addWidget(
                self._label(
                    "<i>Read-only: a layer inside a built-in block. Go back "
                    "up, or ungroup the block to edit its layers.</i>"
                )
            )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        nid = node.id
        self._row(
            form,
            "name",
            "Name",
            TextField(
                self._check_name,
                lambda v: self._set_name(nid, v),
                self.editor.end_merge,
                commit_only=True,
            ),
            "The node's name; it becomes the submodule's name in the generated code.",
        )
        # Freezing or a learning rate mean nothing for a layer without parameters (ReLU, pooling).
        info = self.editor.level.analysis.info.get(node.id)
        if not spec.is_input and spec.role != "block_output" and analysis_learns(spec, info):
            self._row(
                form,
                "trainable",
                "Trainable",
                field_for(
                    P.Bool("trainable", True),
                    lambda v: self.editor.set_node_attr(nid, "trainable", v),
                    self.editor.end_merge,
                ),
                "Untick to freeze this layer's weights during training.",
            )
            self._row(
                form,
                "lr_mult",
                "LR multiplier",
                field_for(
                    LR_MULT,
                    lambda v: self.editor.set_node_attr(nid, "lr_mult", float(v)),
                    self.editor.end_merge,
                ),
                "This layer learns at the run's learning rate times this factor (0 = frozen).",
            )
        layout.addLayout(form)
        if spec.params:
            box = QGroupBox("Parameters")
            pform = QFormLayout(box)
            pform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for prm in spec.params:
                if spec.is_custom_block and prm.name == "block":
                    field: Field = ChoiceField(
                        sorted(self.editor.design.blocks), self._param_setter(nid, prm.name)
                    )
                else:
                    field = field_for(prm, self._param_setter(nid, prm.name), self.editor.end_merge)
                tip = f"{prm.help} ({prm.describe()}, default {prm.default!r})"
                self._row(pform, "params." + prm.name, prm.name, field, tip)
            layout.addWidget(box)
        for f in self.fields.values():
            f.set_enabled(editable)
        self._info = self._label("")
        self._problems = self._label("")
        self._problems.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self._info)
        layout.addWidget(self._problems)
        if spec.opens:
            layout.addWidget(
                self._label(
                    "<i>Double-click the block on the canvas to see its layers.</i>", muted=True
                )
            )
        layout.addStretch(1)

    def _param_setter(self, node_id: str, name: str):
        def apply(value):
            node = self.editor.graph.nodes.get(node_id)
            if node is not None and node.params.get(name, _MISSING) != value:
                self.editor.set_node_attr(node_id, f"params.{name}", value)

        return apply

    def _set_name(self, node_id: str, name: str) -> None:
        node = self.editor.graph.nodes.get(node_id)
        if node is not None and node.name != name:
            self.editor.set_node_attr(node_id, "name", name)

    def _check_name(self, text: str):
        name = text.strip()
        if not name:
            return None, "a node needs a name"
        for n in self.editor.graph.nodes.values():
            if n.name == name and n.id != self.node_id:
                return None, f"another node is already called {name}"
        return name, None

    def _update_node(self) -> None:
        node = self.editor.graph.nodes.get(self.node_id)
        if node is None or not has_spec(node.type):
            return
        spec = get_spec(node.type)
        p = spec.resolve(node.params)
        values = {"name": node.name, "trainable": node.trainable, "lr_mult": node.lr_mult}
        values.update({f"params.{k}": v for k, v in p.items()})
        for key, field in self.fields.items():
            if isinstance(field, ChoiceField) and key == "params.block":
                field.set_options(sorted(self.editor.design.blocks))
            if key in values:
                field.set_value(values[key])
        analysis = self.editor.level.analysis
        info = analysis.info.get(node.id)
        if self._info is not None:
            if info is None:
                self._info.setText("Output shape: <b>unknown</b>")
            else:
                shape = " x ".join(map(str, info.shape))
                self._info.setText(
                    f"Output shape: <b>{shape}</b><br>Parameters: {info.trainable_params:,}"
                    + (f" (+{info.buffer_params:,} statistics)" if info.buffer_params else "")
                    + f"<br>MACs per sample: {human(info.macs)}"
                    + self._node_weights(node.id, info)
                )
        problems = analysis.problems_of(node.id)
        if self._problems is not None:
            self._problems.setText("<br>".join(f"• {p.message}" for p in problems))
            self._problems.setVisible(bool(problems))

    def _node_weights(self, node_id: str, info) -> str:
        if not (info.trainable_params or info.buffer_params) or self.editor.frames:
            return ""
        if node_id in self.editor.scene.weighted:
            from designer.interop.weights import design_weights_path

            path = design_weights_path(self.editor.design, self.editor.path)
            return f"<br>Weights: from {path.name}"
        return "<br>Weights: fresh (initialized when training starts)"

    # -- several nodes -----------------------------------------------------------------------------
    def _build_multi(self, ids: list[str]) -> None:
        _page, layout = self._page()
        layout.addWidget(self._label(f"<b>{len(ids)} layers selected</b>"))
        box = QCheckBox("Trainable")
        box.setTristate(True)
        box.setEnabled(self.editor.editable)
        box.setToolTip("Freeze or unfreeze all selected layers (one undo step).")
        box.clicked.connect(lambda: self._set_multi_trainable(ids))
        layout.addWidget(box)
        self._multi = box
        layout.addWidget(
            self._label(
                "Group them into a custom block with Edit → Group into block (Ctrl+G).", muted=True
            )
        )
        layout.addStretch(1)

    def _set_multi_trainable(self, ids: list[str]) -> None:
        state = self._multi.checkState()
        value = state != Qt.CheckState.Unchecked
        self.editor.set_nodes_trainable(ids, value)

    def _update_multi(self, ids: list[str]) -> None:
        nodes = [self.editor.graph.nodes[n] for n in ids if n in self.editor.graph.nodes]
        flags = {n.trainable for n in nodes}
        state = (
            Qt.CheckState.PartiallyChecked
            if len(flags) > 1
            else (Qt.CheckState.Checked if True in flags else Qt.CheckState.Unchecked)
        )
        if self._multi is not None:
            self._multi.blockSignals(True)
            self._multi.setCheckState(state)
            self._multi.blockSignals(False)

    # -- the design --------------------------------------------------------------------------------
    def _build_design(self) -> None:
        _page, layout = self._page()
        layout.addWidget(self._label("<b>Design settings</b>"))
        layout.addWidget(
            self._label(
                "Select a layer to edit it; these settings apply to the whole network.", muted=True
            )
        )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        set_ = self.editor.set_setting
        self._row(
            form,
            "name",
            "Name",
            TextField(
                lambda t: (t.strip(), None) if t.strip() else (None, "a design needs a name"),
                lambda v: set_("name", v),
                self.editor.end_merge,
            ),
        )
        self._row(
            form,
            "description",
            "Description",
            TextField(lambda t: (t, None), lambda v: set_("description", v), self.editor.end_merge),
        )
        self._row(
            form,
            "input_shape",
            "Input shape",
            TextField(
                _parse_shape,
                lambda v: set_("input_shape", v) if v != self.editor.design.input_shape else None,
                self.editor.end_merge,
                "1, 28, 28",
                commit_only=True,
            ),
            "C, H, W for images (e.g. 3, 32, 32) or N for feature vectors.",
        )
        self._row(
            form,
            "task",
            "Task",
            ChoiceField(Design.TASKS, lambda v: set_("task", v) and self._offer_head_fix()),
        )
        self._row(
            form,
            "num_classes",
            "Classes",
            SpinField(1, None, lambda v: set_("num_classes", v), self._classes_done),
            "How many classes the classification head predicts.",
        )
        layout.addLayout(form)
        self._info = self._label("")
        self._problems = None
        layout.addWidget(self._info)
        layout.addStretch(1)

    def _classes_done(self) -> None:
        self.editor.end_merge()
        self._offer_head_fix()

    def _offer_head_fix(self) -> None:
        """After Task or Classes changed: offer the edits that make the head match (once per
        value: a declined offer is not repeated until the settings change again)."""
        d = self.editor.design
        fixes = head_fixes(d, self.editor.analysis)
        key = (d.task, d.num_classes, tuple(fixes))
        if self.prompts is None or not fixes or key == self._declined_fix:
            return
        what = "; ".join(f.text for f in fixes)
        setting = f"{d.num_classes} classes" if d.task == "classification" else "regression task"
        if self.prompts.confirm(
            "Update the head?",
            f"The head does not match the {setting} any more: {what}?",
            "Update head",
        ):
            self.editor.apply_head_fixes(fixes)
        else:
            self._declined_fix = key

    def _update_design(self) -> None:
        d = self.editor.design
        values = {
            "name": d.name,
            "description": d.description,
            "input_shape": d.input_shape,
            "task": d.task,
            "num_classes": d.num_classes,
        }
        for key, field in self.fields.items():
            field.set_value(values[key])
        self.fields["num_classes"].set_enabled(d.task == "classification")
        a = self.editor.analysis
        count = len(a.problems)
        if self._info is not None:
            self._info.setText(
                f"{len(d.nodes)} layers, {len(d.blocks)} custom blocks; "
                + ("no problems" if not count else f"{count} problem(s)")
                + "<br>"
                + weights_note(d, self.editor.path)
            )


def weights_note(design, design_path) -> str:
    """Where the design's weights come from, for the inspector."""
    from designer.interop.weights import design_weights_path

    path = design_weights_path(design, design_path)
    if path is None:
        return "Weights: none yet (fresh ones when training starts)"
    if not path.is_file():
        return f"Weights: {path.name} <span style='color:#e03131'>(missing)</span>"
    source = design.metadata.get("weights_source")
    return f"Weights: {path.name}" + (f" ({source})" if source else "")


_MISSING = object()

__all__ = ["InspectorPanel", "parse"]
