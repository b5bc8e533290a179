"""PySide6-Essentials 6.12.0 on Python 3.11 drops a reference to None on every void Qt call and
to True on every signal emit, so a Qt-heavy session aborts with 'none_dealloc' within seconds.
pyproject excludes that release; this test fails if an installed PySide6 has the bug."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

LOOP = textwrap.dedent("""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication([])
    class Emitter(QObject):
        ping = Signal()
    e, w = Emitter(), QWidget()
    for _ in range(20000):
        w.update()        # void
        e.ping.emit()     # returns True
        app.processEvents()
    print("alive")
""")


def test_a_qt_heavy_loop_keeps_python_alive():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", LOOP],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "alive"
