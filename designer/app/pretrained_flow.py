"""New from template "with torchvision's ImageNet weights": choose where the design goes (its
weights file goes beside it), download the weights once into torch's cache with a progress bar
and a Cancel button, map them onto the design and open it. Offline, the message names the URL
and offers to choose a local copy (.pth read with weights_only=True, or .safetensors)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog

from designer.app import settings
from designer.app.dialogs.prompts import with_suffix
from designer.app.training.background import BackgroundTask

WEIGHTS_FILTER = "Weights (*.pth *.pt *.safetensors);;All files (*)"


class _Progress(QObject):
    changed = Signal(int, int)  # bytes so far, total (0: unknown)


def new_with_imagenet_weights(window, name: str) -> bool:
    from designer.app.dialogs.gallery import link_options
    from designer.core.serialization import save_design
    from designer.interop.pretrained import DownloadCancelled, pretrained_file
    from designer.interop.torchvision_weights import (
        PretrainedUnavailable,
        attach_torchvision_weights,
        pretrained_state_dict,
    )
    from designer.interop.weights import WeightsError, read_tensors
    from designer.templates import get_template, new_from_template
    from designer_templates._imagenet import link_for

    prompts, editor = window.prompts, window.editor
    template = get_template(name)
    options = link_options(template)
    link = link_for(template, options)
    if link is None or link.model is None:
        prompts.error(
            "ImageNet weights", f"torchvision has no ImageNet weights for {template.title}"
        )
        return False
    start = os.path.join(settings.last_dir(), f"{name}.json")
    path = prompts.save_path("Save the new design (its weights go beside it)", start)
    if not path:
        return False
    path = Path(with_suffix(path, ".json"))
    weights_out = path.with_suffix(".safetensors")
    info = pretrained_file(link.model)
    source, tensors = info.label, None
    try:
        if not info.cached:
            _download_with_progress(window, info)
        tensors, source = pretrained_state_dict(link.model)
    except DownloadCancelled:
        return False
    except PretrainedUnavailable as exc:
        if not prompts.confirm(
            "ImageNet weights", f"{exc}\n\nChoose a weights file instead?", "Choose file…"
        ):
            return False
        local = prompts.open_weights("torchvision weights of " + template.title, str(path.parent))
        if not local:
            return False
        try:
            tensors, source = read_tensors(local), Path(local).name
        except WeightsError as read_error:
            prompts.error("ImageNet weights", str(read_error))
            return False
    design = new_from_template(name, **options)
    try:
        attach_torchvision_weights(design, tensors, link, source, weights_out)
        save_design(design, path)
    except (WeightsError, OSError) as exc:
        prompts.error("ImageNet weights", str(exc))
        return False
    editor.set_document(design, str(path))
    settings.add_recent(str(path))
    window.files.recent_changed.emit()
    editor.message.emit(f"{template.title} with {source} ({weights_out.name})")
    return True


def _download_with_progress(window, info) -> None:
    """Download into torch's cache under a modal progress dialog; raises what download raises."""
    from designer.interop.pretrained import DownloadCancelled, download

    dialog = QProgressDialog(f"Downloading {info.label}…\n{info.url}", "Cancel", 0, 0, window)
    dialog.setWindowTitle("ImageNet weights")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    progress = _Progress(dialog)

    def show(done: int, total: int) -> None:
        if total:
            dialog.setMaximum(total)
            dialog.setValue(done)
        dialog.setLabelText(
            f"Downloading {info.label}: {done / 1e6:.1f}"
            + (f" of {total / 1e6:.1f}" if total else "")
            + " MB"
        )

    progress.changed.connect(show)
    outcome: dict = {}
    task = BackgroundTask(dialog)
    task.start(
        lambda: download(
            info.url,
            info.cache,
            progress=lambda d, t: progress.changed.emit(d, t or 0),
            cancelled=dialog.wasCanceled,
        ),
        lambda _r: (outcome.setdefault("ok", True), dialog.done(0)),
        lambda message: (outcome.setdefault("error", message), dialog.done(0)),
        (Exception,),
    )
    dialog.exec()
    while task.busy:  # closed by Cancel: the download stops at its next chunk
        QApplication.processEvents()
        time.sleep(0.01)
    dialog.deleteLater()
    if "ok" in outcome:
        return
    message = outcome.get("error", "the download was stopped")
    if "was stopped" in message or dialog.wasCanceled():
        raise DownloadCancelled(message)
    from designer.interop.torchvision_weights import PretrainedUnavailable

    raise PretrainedUnavailable(message)
