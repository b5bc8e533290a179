"""Start the desktop app: open a design (or the built-in default) or render a screenshot."""

from __future__ import annotations

import os
import sys


def default_design():
    """The built-in default: LeNet-5, ready to train on the bundled digits."""
    from designer.templates import new_from_template

    return new_from_template("lenet5")


def launch(path: str | None = None, screenshot: str | None = None) -> int:
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from PySide6.QtWidgets import QApplication, QMessageBox

    from designer.app.main_window import MainWindow
    from designer.core.errors import DesignFileError
    from designer.core.serialization import load_design

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Network Designer")
    app.setOrganizationName("netdesigner")
    design, error = None, None
    if path:
        try:
            design = load_design(path)
        except DesignFileError as exc:
            error = str(exc)
    if error:
        if screenshot:
            print(f"netdesigner: error: {error}", file=sys.stderr)
            return 1
        QMessageBox.critical(None, "Cannot open design", error)
    window = MainWindow(design or default_design(), path if design else None)
    if screenshot:
        window.resize(1400, 900)
        window.show()
        app.processEvents()
        ok = window.grab().save(screenshot)
        window.close()
        if not ok:
            print(f"netdesigner: error: cannot write {screenshot}", file=sys.stderr)
            return 1
        print(f"wrote {screenshot}")
        return 0
    window.show()
    return app.exec()
