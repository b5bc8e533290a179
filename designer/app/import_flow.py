"""File → Import model…: a .py, .pt2 or .onnx file or a torchvision model becomes an editable
design with its weights beside it (designer.interop.import_fx). A .py file is run, as python
would run it, so the app says so and asks first. The import runs in the background under a busy
progress dialog (a large model takes seconds); when something cannot be mapped, the import
report is shown and nothing is written."""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressDialog

from designer.app import settings
from designer.app.dialogs.prompts import with_suffix
from designer.app.training.background import BackgroundTask

TITLE = "Import model"
RUNS_CODE = "Importing a .py file runs it, exactly as python would. Import only code you trust."


def import_model_flow(window) -> bool:
    from designer.interop.import_sources import SourceError, parse_shape

    prompts, editor = window.prompts, window.editor
    if not window.files.maybe_save():
        return False
    spec = prompts.import_source(settings.last_dir())
    if not spec:
        return False
    shape = None
    if spec.partition(":")[0].endswith(".py"):
        if not prompts.confirm(TITLE, RUNS_CODE, "Run and import"):
            return False
        text = prompts.text(TITLE, "Input shape of one sample (C x H x W):", "3x224x224")
        if not text:
            return False
        try:
            shape = parse_shape(text.replace(" ", ""))
        except SourceError as exc:
            prompts.error(TITLE, str(exc))
            return False
    stem = Path(
        spec.rpartition(":")[2] if spec.startswith("torchvision:") else spec.partition(":")[0]
    ).stem
    path = prompts.save_path(
        "Save the imported design (its weights go beside it)",
        os.path.join(settings.last_dir(), f"{stem}.json"),
    )
    if not path:
        return False
    path = with_suffix(path, ".json")
    outcome = _run_with_progress(window, lambda: _import(spec, shape, path), spec)
    if "error" in outcome:
        prompts.error(TITLE, outcome["error"])
        return False
    design = outcome["design"]
    editor.set_document(design, path)
    settings.add_recent(path)
    window.files.recent_changed.emit()
    editor.message.emit(
        f"imported {spec} ({len(design.nodes)} nodes, weights in "
        f"{Path(path).with_suffix('.safetensors').name})"
    )
    return True


class ImportFailed(Exception):
    pass


def _import(spec: str, shape, path: str):
    """Load, import and write (off the UI thread); raises ImportFailed with the message."""
    from designer.interop.import_fx import ImportRefused, import_model
    from designer.interop.import_sources import SourceError, load_model, save_imported
    from designer.interop.weights import WeightsError

    try:
        loaded = load_model(spec)
        shape = shape or loaded.input_shape
        if shape is None:
            raise ImportFailed(f"{spec} does not fix its input shape")
        result = import_model(loaded.module, shape, loaded.name)
        save_imported(result.design, result.tensors, path, loaded.source)
    except ImportRefused as exc:
        raise ImportFailed(str(exc.report)) from None
    except (SourceError, WeightsError, OSError) as exc:
        raise ImportFailed(str(exc)) from None
    return result.design


def _run_with_progress(window, work, spec: str) -> dict:
    dialog = QProgressDialog(f"Importing {spec}…", None, 0, 0, window)
    dialog.setWindowTitle(TITLE)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    outcome: dict = {}
    task = BackgroundTask(dialog)
    task.start(
        work,
        lambda design: (outcome.setdefault("design", design), dialog.done(0)),
        lambda message: (outcome.setdefault("error", message), dialog.done(0)),
        (ImportFailed,),
    )
    dialog.exec()
    while task.busy:
        QApplication.processEvents()
        time.sleep(0.01)
    dialog.deleteLater()
    return outcome
