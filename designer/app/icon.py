"""The application icon: packaging/netdesigner.svg, the one source of the window icon and of the
PNG sizes the desktop install copies (``python -m designer.app.icon`` renders them again after
the SVG changes; a test checks that they match it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from designer.desktop import PNG_SIZES, files_dir, icon_png, icon_svg


def app_icon() -> QIcon:
    """The SVG, scalable; where Qt's SVG icon engine is missing, the rendered PNG sizes."""
    icon = QIcon(str(icon_svg()))
    if icon.pixmap(QSize(64, 64)).isNull():
        icon = QIcon()
        for size in PNG_SIZES:
            icon.addFile(str(icon_png(size)), QSize(size, size))
    return icon


def render(size: int) -> QImage:
    """The SVG drawn at size × size pixels, on transparency."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(icon_svg())).render(painter)
    painter.end()
    return image


def write_pngs(folder: Path | None = None) -> list[Path]:
    """Render every PNG size into ``folder`` (default: packaging/) in the hicolor layout."""
    written = []
    for size in PNG_SIZES:
        path = icon_png(size, folder or files_dir())
        path.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])
    for written in write_pngs():
        print(written)
