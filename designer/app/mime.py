"""MIME types for drags from the palette and for the clipboard."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

LAYER_MIME = "application/x-netdesigner-layer"  # {"type": ..., "block": ...} from the palette
DESIGN_MIME = "application/x-netdesigner-design"  # copied nodes, as a design file's JSON


def layer_mime(type_name: str, block: str = "") -> QMimeData:
    mime = QMimeData()
    mime.setData(LAYER_MIME, json.dumps({"type": type_name, "block": block}).encode())
    mime.setText(type_name if not block else f"{type_name}:{block}")
    return mime


def read_layer_mime(mime: QMimeData) -> tuple[str, str] | None:
    """(layer type, custom block name or '') carried by a palette drag, or None."""
    if not mime.hasFormat(LAYER_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(LAYER_MIME)).decode())
        return str(data["type"]), str(data.get("block") or "")
    except (ValueError, KeyError, TypeError):
        return None


def clipboard_layers_text() -> str | None:
    """The copied layers on the system clipboard (ours, or a design file's JSON copied as text
    from an editor), or None when it holds something else: Paste is then disabled."""
    from PySide6.QtGui import QGuiApplication

    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(DESIGN_MIME):
        return bytes(mime.data(DESIGN_MIME)).decode("utf-8")
    text = mime.text().strip() if mime.hasText() else ""
    # A cheap look (this runs on every clipboard change); plan_paste reads it properly.
    return text if text.startswith("{") and '"nodes"' in text else None
