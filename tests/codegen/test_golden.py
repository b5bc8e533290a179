"""The generated files of five templates are checked in as expected outputs
(tests/codegen/golden/*.py), so any change to the code generator shows up as a diff to review.

After an intended change, regenerate them and read the diff:

    NETDESIGNER_UPDATE_GOLDEN=1 python -m pytest tests/codegen/test_golden.py
    git diff tests/codegen/golden
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from designer.codegen import generate
from designer.templates import new_from_template

GOLDEN = Path(__file__).with_name("golden")
TEMPLATES = ["resnet50", "squeezenet1_1", "mobilenet_v2", "densenet121", "googlenet"]
UPDATE = os.environ.get("NETDESIGNER_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", TEMPLATES)
def test_generated_code_is_the_golden_file(name):
    source = generate(new_from_template(name)).source
    path = GOLDEN / f"{name}.py"
    if UPDATE:
        path.write_text(source, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; make it with NETDESIGNER_UPDATE_GOLDEN=1"
    assert source == path.read_text(encoding="utf-8"), (
        f"the code generated for {name} differs from {path}; if the change is intended, "
        "regenerate with NETDESIGNER_UPDATE_GOLDEN=1 and review the diff"
    )


def test_golden_files_pass_the_project_s_linter():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment")
    args = ["check", "--isolated", "--select", "E,F,W,I", "--line-length", "100", "--no-cache"]
    out = subprocess.run(
        [str(ruff), *args, str(GOLDEN)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
