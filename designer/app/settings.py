"""Persistent preferences (QSettings): recent files, last folder, theme, window layout."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

ORGANIZATION = "netdesigner"
APPLICATION = "Network Designer"
MAX_RECENT = 10


def store() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def _list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def recent_files() -> list[str]:
    return _list(store().value("recentFiles"))


def add_recent(path: str) -> None:
    path = os.path.abspath(path)
    files = [path] + [p for p in recent_files() if p != path]
    store().setValue("recentFiles", files[:MAX_RECENT])
    store().setValue("lastDir", os.path.dirname(path))


def remove_recent(path: str) -> None:
    store().setValue("recentFiles", [p for p in recent_files() if p != os.path.abspath(path)])


def clear_recent() -> None:
    store().setValue("recentFiles", [])


def last_dir() -> str:
    return str(store().value("lastDir") or os.path.expanduser("~"))


def theme() -> str:
    """'system', 'light' or 'dark'; NETDESIGNER_THEME overrides the saved choice."""
    mode = os.environ.get("NETDESIGNER_THEME") or str(store().value("theme") or "system")
    return mode if mode in ("system", "light", "dark") else "system"


def set_theme(mode: str) -> None:
    store().setValue("theme", mode)
