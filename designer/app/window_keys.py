"""Window shortcuts that text fields must not swallow.

A line edit claims some keys for itself before any shortcut sees them (a ShortcutOverride event
it accepts): on X11 and macOS Ctrl+E moves to the end of the line, so Ctrl+E (export code) did
nothing while the inspector had focus, though Ctrl+D worked. The keys listed here reach the
window's actions from any of its widgets; text editing keys (undo, copy, select all...) are not
listed and stay the field's."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget


class WindowKeys(QObject):
    """Installed on the application (ShortcutOverride goes to the focused widget, wherever it
    is); only widgets of `window` are concerned."""

    def __init__(self, window: QWidget, keys: list[QKeySequence]):
        super().__init__(window)
        self.window = window
        self.keys = {k[0].toCombined() for k in keys if not k.isEmpty()}
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if event.keyCombination().toCombined() not in self.keys or not self._inside(obj):
            return False
        event.ignore()  # not overridden: the window's shortcut runs
        return True

    def _inside(self, obj) -> bool:
        """Is `obj` a widget of the window, floating docks included?"""
        widget = obj if isinstance(obj, QWidget) else None
        while widget is not None:
            if widget is self.window:
                return True
            widget = widget.parentWidget()
        return False
