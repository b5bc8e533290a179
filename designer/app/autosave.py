"""Autosave and crash recovery.

While a design has unsaved changes it is written every 30 s to a recovery file (a plain design
file) under QStandardPaths' AppDataLocation/recovery, or NETDESIGNER_RECOVERY_DIR. Each session
holds a QLockFile beside it; a clean exit deletes both. A recovery file whose lock is stale (its
process is gone) was left by a crash, and the next start offers to restore it."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from designer.app.editor import Editor
from designer.core.design import Design
from designer.core.serialization import atomic_write_text, load_design, save_design

INTERVAL_MS = 30_000


def recovery_dir() -> Path:
    env = os.environ.get("NETDESIGNER_RECOVERY_DIR")
    if env:
        path = Path(env)
    else:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(base or Path.home() / ".netdesigner") / "recovery"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _lock(directory: Path, session: str) -> QLockFile:
    lock = QLockFile(str(directory / f"{session}.lock"))
    lock.setStaleLockTime(0)  # stale only when its process is gone, however long it ran
    return lock


class Autosaver(QObject):
    def __init__(
        self,
        editor: Editor,
        directory: Path | None = None,
        interval_ms: int = INTERVAL_MS,
        parent=None,
    ):
        super().__init__(parent)
        self.editor = editor
        self.directory = Path(directory) if directory else recovery_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # autosave then reports each failed attempt; editing goes on
            editor.message.emit(f"Cannot create the recovery folder {self.directory}: {exc}")
        self.session = uuid.uuid4().hex[:12]
        self.design_file = self.directory / f"{self.session}.design.json"
        self.info_file = self.directory / f"{self.session}.info.json"
        self.lock = _lock(self.directory, self.session)
        self.lock.tryLock(0)
        self._changes = 0
        self._written = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        editor.history_changed.connect(self._on_history)
        editor.document_changed.connect(self._on_history)

    def _tick(self) -> None:
        self.save_now()  # (a slot returning a value upsets PySide's reference counting)

    def _on_history(self) -> None:
        self._changes += 1
        if not self.editor.is_modified():
            self.discard()

    def save_now(self) -> bool:
        """Write the recovery file if there are unsaved changes not written yet."""
        if not self.editor.is_modified():
            self.discard()
            return False
        if self._written == self._changes and self.design_file.exists():
            return False
        try:
            save_design(self.editor.design, self.design_file)
            atomic_write_text(
                self.info_file,
                json.dumps(
                    {
                        "original_path": self.editor.path,
                        "name": self.editor.design.name,
                        "saved_at": time.time(),
                        "pid": os.getpid(),
                    }
                ),
            )
        except OSError as exc:
            self.editor.message.emit(f"Autosave failed: {self.directory}: {exc.strerror or exc}")
            return False
        self._written = self._changes
        return True

    def discard(self) -> None:
        for f in (self.design_file, self.info_file):
            f.unlink(missing_ok=True)
        self._written = 0

    def close(self) -> None:
        """A clean exit: nothing to recover."""
        self.timer.stop()
        self.discard()
        self.lock.unlock()


@dataclass
class Recovery:
    design_file: Path
    info_file: Path
    lock: QLockFile
    original_path: str | None
    name: str
    saved_at: float

    def load(self) -> Design:
        return load_design(self.design_file)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = self.original_path or "a design that was never saved"
        return (
            f"Network Designer did not close properly. Unsaved changes to “{self.name}” "
            f"({where}) were autosaved at {when}.\n\nRestore them?"
        )

    def discard(self) -> None:
        for f in (self.design_file, self.info_file):
            f.unlink(missing_ok=True)
        self.lock.unlock()

    def release(self) -> None:
        """Leave it for a later start."""
        self.lock.unlock()


def find_orphans(directory: Path | None = None) -> list[Recovery]:
    """Recovery files whose session is gone, newest first; each is locked for the caller."""
    directory = Path(directory) if directory else recovery_dir()
    if not directory.is_dir():
        return []
    found = []
    for info_file in directory.glob("*.info.json"):
        session = info_file.name.split(".")[0]
        design_file = directory / f"{session}.design.json"
        lock = _lock(directory, session)
        if not lock.tryLock(0):
            continue  # a running session (this one or another window's)
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if not design_file.exists():
            Recovery(design_file, info_file, lock, None, "", 0).discard()
            continue
        found.append(
            Recovery(
                design_file,
                info_file,
                lock,
                info.get("original_path"),
                str(info.get("name") or "Untitled"),
                float(info.get("saved_at") or design_file.stat().st_mtime),
            )
        )
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def offer_recovery(window) -> bool:
    """At start-up: offer the newest crashed session's work; True if it was restored."""
    from designer.core.errors import DesignFileError

    orphans = find_orphans(window.autosaver.directory)
    if not orphans:
        return False
    newest, rest = orphans[0], orphans[1:]
    for r in rest:
        r.release()  # offered at a later start
    if not window.prompts.restore(newest.describe()):
        newest.discard()
        return False
    try:
        design = newest.load()
    except DesignFileError as exc:
        window.prompts.error("Cannot restore", str(exc))
        newest.release()
        return False
    window.editor.set_document(design, newest.original_path, modified=True)
    newest.discard()
    window.autosaver.save_now()  # the restored work is protected again straight away
    return True
