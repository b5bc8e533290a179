"""Editors for typed values, generated from a layer's param schema (Int -> spin box, Float -> line
edit with validation, Bool -> check box, Choice -> combo box, sizes and lists -> parsed line edit),
each Param type registering its own (`register_field`).

A field reports a value only when it is valid; otherwise it shows the reason in red under
itself and reports nothing, so an invalid value never reaches the design."""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from dataclasses import dataclass
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
        raise ValueError(
            f"{text!r} is not a number (e.g. 0.5 or 1e-3)" if text else "enter a number"
        )
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
    try:
        value = _kind(param).read(param, text.strip())
    except ValueError as exc:
        return None, f"{param.kind} expected: {exc}"
    problem = param.check(value)
    return (None, problem) if problem else (value, None)


class Field(abc.ABC):
    """One editor row: the input widget and, under it, the red reason when invalid."""

    def __init__(
        self,
        editor: QWidget,
        on_change: Callable[[Any], None],
        on_done: Callable[[], None] | None = None,
    ):
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
    intermediate states mean something else, such as an input shape "3" on the way to "3, 32,
    32")."""

    def __init__(
        self,
        parse_fn: Callable[[str], tuple[Any, str | None]],
        on_change,
        on_done=None,
        placeholder: str = "",
        commit_only: bool = False,
    ):
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
        spin.setRange(
            -INT_LIMIT if minimum is None else minimum, INT_LIMIT if maximum is None else maximum
        )
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
            lambda i: self.emit(self.options[i]) if 0 <= i < len(self.options) else None
        )

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


# -- one editor per Param type ---------------------------------------------------------------
# Each Param type registers how its text is read and which editor it gets (pyqtgraph's
# parametertree registers its item types the same way). A param finds the entry of its own type,
# else of the nearest base class (OptionalInt is an Int with its own entry), so the order in
# which types are registered does not matter.


@dataclass(frozen=True)
class _Kind:
    read: Callable[[Any, str], Any]  # (param, stripped text) -> value
    make: Callable[[Any, Callable, Callable], Field] | None = None  # None: a parsed line edit
    placeholder: str = ""


_KINDS: dict[type, _Kind] = {}


def register_field(
    param_type: type[P.Param],
    read: Callable[[Any, str], Any],
    make: Callable[[Any, Callable, Callable], Field] | None = None,
    placeholder: str = "",
) -> None:
    """How the inspector reads and edits params of `param_type` (and of its subclasses that
    register nothing of their own)."""
    _KINDS[param_type] = _Kind(read, make, placeholder)


def _kind(param: P.Param) -> _Kind:
    return next(_KINDS[t] for t in type(param).__mro__ if t in _KINDS)


def _optional_int(param, text: str) -> int | None:
    return None if text.lower() in ("", "none", "default") else _int(text)


def _size(param, text: str) -> int | list[int]:
    nums = _ints(text)
    return nums[0] if len(nums) == 1 else nums


def _padding(param, text: str) -> int | list[int] | str:
    return text.lower() if text.lower() in ("same", "valid") else _size(param, text)


def _bool(param, text: str) -> bool | str:
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    return words.get(text.lower(), text)  # anything else: the check says what is wanted


register_field(P.Param, lambda param, text: text)
register_field(P.Bool, _bool, lambda param, on_change, on_done: CheckField("", on_change))
register_field(
    P.Choice,
    lambda param, text: text,
    lambda param, on_change, on_done: ChoiceField(param.options, on_change),
)
register_field(
    P.Int,
    lambda param, text: _int(text),
    lambda param, on_change, on_done: SpinField(param.min, param.max, on_change, on_done),
)
register_field(P.OptionalInt, _optional_int, placeholder="default")
register_field(P.Float, lambda param, text: _float(text))
register_field(P.Size, _size, placeholder="3 or 3, 5")
register_field(P.Padding, _padding, placeholder="1, [h, w], same, valid")
register_field(P.IntList, lambda param, text: _ints(text), placeholder="e.g. 16, 7, 7")


def field_for(param: P.Param, on_change, on_done) -> Field:
    """The editor a param's type registered: its own widget, else a line edit that reads the
    text as that type does."""
    kind = _kind(param)
    if kind.make is not None:
        return kind.make(param, on_change, on_done)
    return TextField(lambda text: parse(param, text), on_change, on_done, kind.placeholder)
