"""Editors for typed values, generated from a layer's param schema (Int -> spin box, Float -> line
edit with validation, Bool -> check box, Choice -> combo box, sizes and lists -> parsed line edit).

A field reports a value only when it is valid; otherwise it shows the reason in red under
itself and reports nothing, so an invalid value never reaches the design."""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.core import params as P

INT_LIMIT = 2**31 - 1
ERROR_STYLE = "color: #e03131;"
INVALID_STYLE = "border: 1.5px solid #e03131; border-radius: 3px; color: #e03131;"


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return repr(value) if abs(value) >= 1e-4 or value == 0 else f"{value:g}"
    return str(value)


_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTS_BY = re.compile(r"[+-]?\d+(\s*[x×]\s*[+-]?\d+)*")  # one item of a size list: 3 or 3x5


def _int(text: str) -> int:
    """A whole number written out in digits; raises ValueError with the reason (int() would take
    '1_0' and a lenient split took '2x' as 2)."""
    text = text.strip()
    if not _INT.fullmatch(text):
        raise ValueError(f"{text!r} is not a whole number" if text else "enter a number")
    return int(text)


def _float(text: str) -> float:
    text = text.strip()
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"{text!r} is not a number (e.g. 0.5 or 1e-3)" if text
                         else "enter a number")
    return float(text)


def _ints(text: str) -> list[int]:
    """'3', '3, 5', '3x5', '[3, 5]' -> [3] / [3, 5]; anything else raises ValueError saying
    which part is not a number ('2x' is not 2)."""
    body = text.strip()
    if body[:1] in "[(" and body[-1:] in "])":
        body = body[1:-1].strip()
    if not body:
        raise ValueError("enter a number")
    nums = []
    for part in re.split(r"\s*,\s*|\s+(?![x×])(?<![x×]\s)", body):
        if not _INTS_BY.fullmatch(part):
            what = f"{part!r} is not a whole number" if part else "a number is missing"
            raise ValueError(f"{what}; write whole numbers separated by commas, e.g. 3 or 3, 5")
        nums += [int(n) for n in re.split(r"\s*[x×]\s*", part)]
    return nums


def parse(param: P.Param, text: str) -> tuple[Any, str | None]:
    """(value, None) for valid text, or (None, why) — the reason a user can act on."""
    text = text.strip()
    try:
        if isinstance(param, P.Float):
            value: Any = _float(text)
        elif isinstance(param, P.OptionalInt):
            value = None if text.lower() in ("", "none", "default") else _int(text)
        elif isinstance(param, P.Int):
            value = _int(text)
        elif isinstance(param, P.Padding) and text.lower() in ("same", "valid"):
            value = text.lower()
        elif isinstance(param, P.Size):
            nums = _ints(text)
            value = nums[0] if len(nums) == 1 else nums
        elif isinstance(param, P.IntList):
            value = _ints(text)
        elif isinstance(param, P.Bool):
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                return None, "must be true or false"
            value = text.lower() in ("true", "yes", "1")
        else:
            value = text
    except ValueError as exc:
        return None, f"{param.kind} expected: {exc}"
    problem = param.check(value)
    return (None, problem) if problem else (value, None)


class Field(abc.ABC):
    """One editor row: the input widget and, under it, the red reason when invalid."""

    def __init__(self, editor: QWidget, on_change: Callable[[Any], None],
                 on_done: Callable[[], None] | None = None):
        self.container = QWidget()
        self.editor = editor
        self.error = QLabel(self.container)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self.container)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        self.on_change = on_change
        self.on_done = on_done or (lambda: None)
        self.updating = False

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.editor.setStyleSheet(INVALID_STYLE if message else "")

    def has_error(self) -> bool:
        return not self.error.isHidden()

    def emit(self, value: Any) -> None:
        if not self.updating:
            self.on_change(value)

    def set_value(self, value: Any) -> None:
        """Show a value from the model, unless the user is typing in this field."""
        if self.editor.hasFocus() and self.has_error():
            return
        self.updating = True
        try:
            self._show(value)
        finally:
            self.updating = False

    @abc.abstractmethod
    def _show(self, value: Any) -> None:
        """Put a model value into the editor widget."""

    def set_enabled(self, enabled: bool) -> None:
        self.editor.setEnabled(enabled)


class TextField(Field):
    """A parsed line edit. Validated on every keystroke; applied as typed (live shapes while a
    param is edited) or, with commit_only, on Enter / leaving the field (for values whose
    intermediate states mean something else, such as an input shape "3" on the way to "3, 32, 32")."""

    def __init__(self, parse_fn: Callable[[str], tuple[Any, str | None]], on_change, on_done=None,
                 placeholder: str = "", commit_only: bool = False):
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        super().__init__(edit, on_change, on_done)
        self.parse_fn = parse_fn
        self.commit_only = commit_only
        edit.textEdited.connect(self._edited)
        edit.editingFinished.connect(self._finished)

    def _edited(self, text: str) -> None:
        value, problem = self.parse_fn(text)
        self.set_error(problem)
        if problem is None and not self.commit_only:
            self.emit(value)

    def _finished(self) -> None:
        if self.commit_only:
            value, problem = self.parse_fn(self.editor.text())
            if problem is None:
                self.emit(value)
        self.on_done()

    def _show(self, value: Any) -> None:
        if self.editor.hasFocus():  # the text being typed already means this value: leave it
            typed, problem = self.parse_fn(self.editor.text())
            if problem is None and typed == value:
                return
        text = format_value(value) if not isinstance(value, str) else value
        if self.editor.text() != text:
            self.editor.setText(text)
            self.editor.setCursorPosition(0)  # show the start of a long text, not its end
        if not self.editor.hasFocus():
            self.set_error(None)


class SpinField(Field):
    def __init__(self, minimum: int | None, maximum: int | None, on_change, on_done=None):
        spin = QSpinBox()
        spin.setRange(-INT_LIMIT if minimum is None else minimum,
                      INT_LIMIT if maximum is None else maximum)
        spin.setKeyboardTracking(True)
        super().__init__(spin, on_change, on_done)
        spin.valueChanged.connect(self.emit)
        spin.editingFinished.connect(self.on_done)

    def _show(self, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            self.editor.setValue(value)
            self.set_error(None)
        else:  # a file holding a bad value: show it and why
            self.set_error(f"the design holds {value!r}; pick a whole number")


class CheckField(Field):
    def __init__(self, text: str, on_change):
        box = QCheckBox(text)
        super().__init__(box, on_change)
        box.toggled.connect(self.emit)

    def _show(self, value: Any) -> None:
        self.editor.setChecked(bool(value))


class ChoiceField(Field):
    def __init__(self, options, on_change):
        combo = QComboBox()
        self.options = list(options)
        combo.addItems([format_value(o) for o in self.options])
        super().__init__(combo, on_change)
        combo.currentIndexChanged.connect(
            lambda i: self.emit(self.options[i]) if 0 <= i < len(self.options) else None)

    def set_options(self, options) -> None:
        if list(options) == self.options:
            return
        self.updating = True
        try:
            self.options = list(options)
            self.editor.clear()
            self.editor.addItems([format_value(o) for o in self.options])
        finally:
            self.updating = False

    def _show(self, value: Any) -> None:
        if value in self.options:
            self.editor.setCurrentIndex(self.options.index(value))
            self.set_error(None)
        else:
            self.editor.setCurrentIndex(-1)
            self.set_error(f"{value!r} is not one of the choices")


def field_for(param: P.Param, on_change, on_done) -> Field:
    """The editor a param's type calls for."""
    if isinstance(param, P.Bool):
        return CheckField("", on_change)
    if isinstance(param, P.Choice):
        return ChoiceField(param.options, on_change)
    if isinstance(param, P.Int) and not isinstance(param, P.OptionalInt):
        return SpinField(param.min, param.max, on_change, on_done)
    placeholder = {P.OptionalInt: "default", P.Size: "3 or 3, 5", P.Padding: "1, [h, w], same, valid",
                   P.IntList: "e.g. 16, 7, 7"}.get(type(param), "")
    return TextField(lambda text: parse(param, text), on_change, on_done, placeholder)
