"""Checked contracts of the project's structure."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import designer

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    """Nothing outside designer.app imports Qt/pyqtgraph; imports flow one way (import-linter)."""
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout and "KEPT" in out.stdout


def test_core_imports_neither_torch_nor_qt():
    code = ("import sys, designer.core, designer.core.analysis, designer.core.summary, "
            "designer.core.serialization, designer.core.commands, designer.codegen.generate, "
            "designer.templates; designer.templates.list_templates(); "
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_package_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {"designer"} | {m.name for m in pkgutil.walk_packages(
        designer.__path__, prefix="designer.", onerror=lambda n: None) if m.ispkg}
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"
