"""Checked contracts of the project's structure."""

from __future__ import annotations

import os
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
    out = subprocess.run(
        [str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout and "KEPT" in out.stdout


def test_core_imports_neither_torch_nor_qt():
    code = (
        "import sys, designer.core, designer.core.analysis, designer.core.summary, "
        "designer.core.serialization, designer.core.commands, designer.codegen.generate, "
        "designer.templates; designer.templates.list_templates(); "
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_package_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {"designer"} | {
        m.name
        for m in pkgutil.walk_packages(
            designer.__path__, prefix="designer.", onerror=lambda n: None
        )
        if m.ispkg
    }
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"


def test_torch_runs_on_the_threads_the_test_setup_sets():
    """tests/conftest.py sets OMP_NUM_THREADS before torch is imported; imported earlier, torch
    would use every core (and the suite would crawl beside a busy neighbour)."""
    import torch

    assert torch.get_num_threads() == int(os.environ["OMP_NUM_THREADS"])
