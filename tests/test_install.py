"""The wheel: built from a copy of the source tree, installed into a new virtual environment
(which reuses this environment's packages, torch among them, so nothing is downloaded), and
run from outside the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "runs",
    "benchmarks",
    "tests",
)


def run(command, cwd, env, timeout=600) -> str:
    out = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, f"{command}: {out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.mark.slow
def test_the_wheel_installs_a_working_netdesigner(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    # No isolation: this environment's setuptools builds it, offline.
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            tmp_path / "dist",
            source,
        ],
        cwd=tmp_path,
        env=env,
    )
    (wheel,) = (tmp_path / "dist").glob("netdesigner-*.whl")

    target = tmp_path / "venv"
    venv.create(target)  # this environment's pip installs into it (pip --python)
    python = target / "bin" / "python"
    site = Path(
        run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=tmp_path,
            env=env,
        ).strip()
    )
    # This environment's packages after the new one's: a path line, so none of its .pth hooks
    # (an editable install of the checkout) runs there.
    (site / "reuse-project-env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            wheel,
        ],
        cwd=tmp_path,
        env=env,
    )

    work = tmp_path / "elsewhere"
    work.mkdir()
    exe = target / "bin" / "netdesigner"
    code = "import designer, designer_templates as t; print(designer.__file__, t.__file__)"
    where = run([python, "-c", code], work, env)
    assert all(line.startswith(str(site)) for line in where.split()), where
    assert run([exe, "--version"], work, env).strip() == "netdesigner 0.1.0"
    assert "lenet5" in run([exe, "templates"], work, env)
    run([exe, "new", "--template", "lenet5", "lenet.json"], work, env)
    run([exe, "check", "lenet.json"], work, env)
    assert "Trainable params: 61,706" in run([exe, "summary", "lenet.json"], work, env)
    share = tmp_path / "share"
    run([exe, "--install-desktop"], work, {**env, "XDG_DATA_HOME": str(share)})
    entry = (share / "applications" / "netdesigner.desktop").read_text()
    assert f"Exec={exe} %f" in entry
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "netdesigner.png").is_file()
    run([exe, "--screenshot", "shot.png"], work, {**env, "QT_QPA_PLATFORM": "offscreen"})
    assert (work / "shot.png").read_bytes()[:4] == b"\x89PNG"
