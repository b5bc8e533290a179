"""Light and dark palettes (Fusion style) that follow the system's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from designer.app import settings

R = QPalette.ColorRole


def _palette(colors: dict[QPalette.ColorRole, str], disabled_text: str) -> QPalette:
    pal = QPalette()
    for role, value in colors.items():
        pal.setColor(role, QColor(value))
    for role in (R.Text, R.WindowText, R.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled_text))
    return pal


def light_palette() -> QPalette:
    return _palette(
        {
            R.Window: "#f3f4f6",
            R.WindowText: "#1f2328",
            R.Base: "#ffffff",
            R.AlternateBase: "#f6f8fa",
            R.Text: "#1f2328",
            R.Button: "#eceef1",
            R.ButtonText: "#1f2328",
            R.Highlight: "#2f6fdb",
            R.HighlightedText: "#ffffff",
            R.ToolTipBase: "#ffffff",
            R.ToolTipText: "#1f2328",
            R.Mid: "#b8bec6",
            R.Dark: "#8c959f",
            R.Light: "#ffffff",
            R.PlaceholderText: "#8c959f",
            R.Link: "#2f6fdb",
            R.BrightText: "#d1242f",
        },
        "#8c959f",
    )


def dark_palette() -> QPalette:
    return _palette(
        {
            R.Window: "#25272b",
            R.WindowText: "#e6e7e9",
            R.Base: "#1c1d20",
            R.AlternateBase: "#2a2c30",
            R.Text: "#e6e7e9",
            R.Button: "#303236",
            R.ButtonText: "#e6e7e9",
            R.Highlight: "#4c8dff",
            R.HighlightedText: "#ffffff",
            R.ToolTipBase: "#303236",
            R.ToolTipText: "#e6e7e9",
            R.Mid: "#55585e",
            R.Dark: "#17181a",
            R.Light: "#3a3c41",
            R.PlaceholderText: "#7d828a",
            R.Link: "#6ea4ff",
            R.BrightText: "#ff6b6b",
        },
        "#7d828a",
    )


def is_dark_palette(palette: QPalette) -> bool:
    return palette.color(R.Window).lightness() < 128


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, mode: str | None = None) -> None:
    mode = mode or settings.theme()
    app.setStyle("Fusion")
    dark = mode == "dark" or (mode == "system" and system_is_dark())
    app.setPalette(dark_palette() if dark else light_palette())


def follow_system(app: QApplication) -> None:
    """Re-apply the palette when the system switches between light and dark."""
    app.styleHints().colorSchemeChanged.connect(
        lambda _scheme: apply_theme(app) if settings.theme() == "system" else None
    )
