"""Linux desktop integration: the packaged entry and icons, `netdesigner --install-desktop` into
$XDG_DATA_HOME, and the window icon drawn from the same SVG."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from designer import desktop
from designer.cli import main

VALIDATE = shutil.which("desktop-file-validate")
needs_validator = pytest.mark.skipif(
    VALIDATE is None, reason="desktop-file-validate is not installed (Debian: desktop-file-utils)"
)


@needs_validator
def test_the_packaged_entry_is_valid():
    out = subprocess.run(
        [VALIDATE, str(desktop.files_dir() / desktop.DESKTOP_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_install_desktop_writes_entry_and_icons_into_xdg_data_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["--install-desktop"]) == 0
    share = tmp_path / "share"
    entry = share / "applications" / "netdesigner.desktop"
    assert str(entry) in capsys.readouterr().out
    text = entry.read_text()
    assert "Icon=netdesigner" in text and "MimeType=application/json;" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    program = shlex.split(exec_line[len("Exec=") :])
    assert program[-1] == "%f" and Path(program[0]).is_file()  # this installation, by full path
    svg = share / "icons" / "hicolor" / "scalable" / "apps" / "netdesigner.svg"
    assert svg.read_bytes() == desktop.icon_svg().read_bytes()
    for size in desktop.PNG_SIZES:
        png = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "netdesigner.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if VALIDATE:
        out = subprocess.run(
            [VALIDATE, str(entry)], capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_xdg_data_home_defaults_to_local_share(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec: absolute paths only
    assert desktop.data_home() == tmp_path / ".local" / "share"


def test_exec_arguments_with_spaces_are_quoted():
    spaced = "/opt/net designer/bin/netdesigner"
    assert desktop._quoted(spaced) == f'"{spaced}"'
    assert desktop._quoted("/usr/bin/netdesigner") == "/usr/bin/netdesigner"


def test_the_window_icon_and_the_pngs_are_the_svg(qapp):
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImage

    from designer.app.icon import app_icon, render

    assert not app_icon().pixmap(QSize(48, 48)).isNull()
    for size in desktop.PNG_SIZES:
        shipped = QImage(str(desktop.icon_png(size))).convertToFormat(QImage.Format.Format_ARGB32)
        fresh = render(size)
        assert (shipped.width(), shipped.height()) == (size, size)
        # rendered from the SVG (python -m designer.app.icon); a renderer's rounding may differ
        differing = sum(
            shipped.pixel(x, y) != fresh.pixel(x, y) for x in range(size) for y in range(size)
        )
        assert differing <= size * size // 50, f"{size}px: run python -m designer.app.icon"
