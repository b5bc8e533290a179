"""The runs of a design: where they live, what each one is (read from its run directory), and the
few things a user does to them (rename, delete, compare settings).

A run is a run directory in the engine's format (designer.training.rundir), unchanged; its name is
the directory's name, so renaming a run renames the folder. A saved design keeps its runs in
``runs/<design file stem>/`` beside the file; the CLI's ``--run-dir`` runs can be opened from
anywhere. Qt-free, so the app's Runs panel and tests read runs the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.training.rundir import RunDir, RunDirError

RUNS_FOLDER = "runs"
_NAME_OK = re.compile(r"^[^/\\\0]+$")


def runs_folder_for(design_path: str | Path) -> Path:
    """``runs/<stem>/`` beside a saved design file."""
    path = Path(design_path)
    return path.parent / RUNS_FOLDER / path.stem


def network_fingerprint(design_text: str) -> str:
    """A hash of what the network is (layers, params, connections, input, head), ignoring where
    nodes sit on the canvas and the design's notes, so moving a node does not make a run stale."""
    data = json.loads(design_text)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v)
                for k, v in sorted(value.items())
                if k not in ("position", "description", "metadata")
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return hashlib.sha1(json.dumps(strip(data), sort_keys=True).encode()).hexdigest()


@dataclass
class RunInfo:
    """One run, as its directory tells it. ``status`` is the result's, or "stopped" for a run that
    has a checkpoint and no result yet (interrupted, or still being trained by some process)."""

    path: Path
    status: str
    started: float  # when the run was created (its config.json)
    epochs: int  # epochs asked for
    epochs_run: int
    best_val_accuracy: float | None
    test_accuracy: float | None
    test_loss: float | None
    best_epoch: int | None
    seconds: float | None
    message: str
    config: dict[str, Any]
    fingerprint: str | None  # of the design the run trained (None: no design.json)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def resumable(self) -> bool:
        return (
            self.status in ("stopped", "cancelled", "crashed")
            and RunDir(self.path).file(RunDir.CHECKPOINT).exists()
        )

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))


def read_run(path: str | Path) -> RunInfo:
    """The run in ``path``; RunDirError when it is not a run directory or cannot be read."""
    run = RunDir(path)
    if not run.path.is_dir() or not run.file(RunDir.CONFIG).exists():
        raise RunDirError(f"{run.path} is not a training run (it has no {RunDir.CONFIG})")
    config = run.read_json(RunDir.CONFIG) or {}
    result = run.read_json(RunDir.RESULT) or {}
    design_file = run.file(RunDir.DESIGN)
    fingerprint = None
    if design_file.exists():
        try:
            fingerprint = network_fingerprint(design_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            fingerprint = None
    epochs_run = result.get("epochs_run")
    if epochs_run is None:  # no result yet: count the epochs already in the metrics
        epochs_run = sum(1 for r in read_metrics(run.path) if r.get("kind") == "epoch")
    return RunInfo(
        path=run.path,
        status=result.get("status", "stopped"),
        started=run.file(RunDir.CONFIG).stat().st_mtime,
        epochs=int(config.get("epochs", 0) or 0),
        epochs_run=int(epochs_run or 0),
        best_val_accuracy=result.get("best_val_accuracy"),
        test_accuracy=result.get("test_accuracy"),
        test_loss=result.get("test_loss"),
        best_epoch=result.get("best_epoch"),
        seconds=result.get("seconds"),
        message=result.get("message", ""),
        config=config,
        fingerprint=fingerprint,
        result=result,
    )


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The run's metrics records so far ([] before its first line); a line being written at this
    moment is left for the next read."""
    from designer.training.curves import CurveError, read_records

    try:
        return read_records(Path(path))
    except CurveError:
        return []


def list_runs(folder: str | Path) -> list[RunInfo]:
    """Every run directly inside ``folder``, oldest first; folders that are no runs are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    runs = []
    for child in folder.iterdir():
        if child.is_dir() and (child / RunDir.CONFIG).exists():
            try:
                runs.append(read_run(child))
            except (RunDirError, OSError):
                continue
    return sorted(runs, key=lambda r: (r.started, r.name))


def new_run_path(folder: str | Path, prefix: str = "run") -> Path:
    """A fresh run directory name in ``folder``: run-001, run-002, ... (never an existing one)."""
    folder = Path(folder)
    taken = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    numbers = [
        int(m.group(1)) for n in taken if (m := re.fullmatch(rf"{re.escape(prefix)}-(\d+)", n))
    ]
    number = max(numbers, default=0) + 1
    while f"{prefix}-{number:03d}" in taken:
        number += 1
    return folder / f"{prefix}-{number:03d}"


def new_search_name(folder: str | Path) -> str:
    """search-001, search-002, ...: the name of a new search whose trials are the runs
    "<name>-trial-01", "<name>-trial-02", ... in ``folder``."""
    folder = Path(folder)
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    numbers = [int(m.group(1)) for n in names if (m := re.match(r"search-(\d+)(-trial-\d+)?$", n))]
    return f"search-{max(numbers, default=0) + 1:03d}"


def check_run_name(name: str) -> str | None:
    """Why ``name`` cannot name a run folder, or None."""
    if not name.strip():
        return "a run needs a name"
    if not _NAME_OK.match(name) or name in (".", ".."):
        return "a run name cannot contain / or \\"
    return None


def rename_run(path: str | Path, new_name: str) -> Path:
    """Rename the run's folder; RunDirError names the reason when it cannot be done."""
    path = Path(path)
    new_name = new_name.strip()
    problem = check_run_name(new_name)
    if problem:
        raise RunDirError(problem)
    target = path.with_name(new_name)
    if target == path:
        return path
    if target.exists():
        raise RunDirError(f"a run or file named {new_name!r} exists already in {path.parent}")
    try:
        path.rename(target)
    except OSError as exc:
        raise RunDirError(f"cannot rename {path}: {exc.strerror or exc}") from None
    return target


def delete_run(path: str | Path) -> None:
    """Delete a run directory (only one that is a run: never an arbitrary folder)."""
    read_run(path)
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise RunDirError(f"cannot delete {path}: {exc.strerror or exc}") from None


def move_runs(source: str | Path, target: str | Path) -> list[Path]:
    """Move every run of ``source`` into ``target`` (names kept, or numbered when taken)."""
    moved = []
    Path(target).mkdir(parents=True, exist_ok=True)
    for info in list_runs(source):
        dest = Path(target) / info.name
        if dest.exists():
            dest = new_run_path(target, info.name)
        try:
            shutil.move(str(info.path), dest)
        except OSError as exc:
            raise RunDirError(f"cannot move {info.path} to {dest}: {exc.strerror or exc}") from None
        moved.append(dest)
    return moved


def flat_settings(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"augmentation.horizontal_flip": True, "lr": 0.01, ...}: nested settings as one level."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_settings(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def settings_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The settings whose values differ: name -> (before, after)."""
    a, b = flat_settings(before), flat_settings(after)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def describe_diff(diff: dict[str, tuple[Any, Any]], limit: int = 4) -> str:
    """ "lr 0.001 → 0.01, epochs 10 → 20" (the first ``limit`` changes, then "+N more")."""
    parts = [f"{k} {_short(a)} → {_short(b)}" for k, (a, b) in diff.items()]
    if len(parts) > limit:
        parts = parts[:limit] + [f"+{len(parts) - limit} more"]
    return ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)
