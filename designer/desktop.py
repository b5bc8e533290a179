"""Linux desktop integration: the desktop entry and the icon (packaging/, shipped in the wheel as
the package ``designer_desktop``) and ``netdesigner --install-desktop``, which copies them into
the user's XDG data folders so the app starts from the menu and opens design files.

The entry offers Network Designer for application/json files (designs are .json files); no MIME
type of its own is registered, so other JSON files keep their default application. Qt-free: the
app's window icon reads the same SVG (designer.app.icon).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

NAME = "netdesigner"
DESKTOP_FILE = f"{NAME}.desktop"
SVG_FILE = f"{NAME}.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256)


def files_dir() -> Path:
    """Where the desktop files are: the source checkout's packaging/ beside this package (if it
    holds them: in site-packages a folder of that name is pip's own library), else the
    installed ``designer_desktop``."""
    source = Path(__file__).resolve().parents[1] / "packaging"
    if (source / DESKTOP_FILE).is_file():
        return source
    spec = importlib.util.find_spec("designer_desktop")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / DESKTOP_FILE).is_file():
                return Path(location)
    raise FileNotFoundError(
        "the desktop files (netdesigner.desktop, netdesigner.svg) are not "
        "installed; reinstall netdesigner"
    )


def icon_svg() -> Path:
    return files_dir() / SVG_FILE


def icon_png(size: int, folder: Path | None = None) -> Path:
    """The PNG of one size, in the hicolor theme's layout (icons/hicolor/NxN/apps/)."""
    return (folder or files_dir()) / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share where it is unset or not absolute (the XDG spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local" / "share"


def exec_command() -> str:
    """How the menu starts this installation: its own console script (a venv or pipx install
    is not on the desktop session's PATH), else this interpreter with -m designer."""
    script = Path(sys.executable).with_name(NAME)
    parts = [str(script)] if script.is_file() else [sys.executable, "-m", "designer"]
    return " ".join(_quoted(p) for p in parts)


def _quoted(arg: str) -> str:
    """An Exec argument, quoted as the desktop entry spec asks where it has to be."""
    if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def desktop_entry() -> str:
    """The packaged entry with Exec pointing at this installation."""
    lines = (files_dir() / DESKTOP_FILE).read_text(encoding="utf-8").splitlines()
    out = [f"Exec={exec_command()} %f" if line.startswith("Exec=") else line for line in lines]
    return "\n".join(out) + "\n"


def install_desktop(home: Path | None = None) -> list[Path]:
    """Write the entry to <data home>/applications and the icons to <data home>/icons/hicolor;
    returns the files written. Refreshes the desktop and icon caches where their tools exist."""
    home = home or data_home()
    written = []
    entry = home / "applications" / DESKTOP_FILE
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(), encoding="utf-8")
    written.append(entry)
    icons = home / "icons" / "hicolor"
    svg = icons / "scalable" / "apps" / SVG_FILE
    svg.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icon_svg(), svg)
    written.append(svg)
    for size in PNG_SIZES:
        target = icon_png(size, home)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icon_png(size), target)
        written.append(target)
    _refresh(["update-desktop-database", "-q", str(entry.parent)])
    _refresh(["gtk-update-icon-cache", "-q", "-t", str(icons)])
    return written


def _refresh(command: list[str]) -> None:
    """Caches are a speed-up: a missing tool or a failure leaves the installed files usable."""
    if shutil.which(command[0]) is None:
        return
    try:
        subprocess.run(command, capture_output=True, timeout=60, check=False)
    except OSError:
        pass
