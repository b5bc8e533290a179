"""A run directory: everything one training run writes, so it can be inspected, compared and
resumed.

    config.json        the settings (TrainConfig.to_dict())
    design.json        the design as trained
    data.json          dataset, classes, split sizes and the normalization statistics
    metrics.jsonl      one JSON object per line ("kind": "step" or "epoch"), flushed as written
    checkpoint.pt      the last checkpoint: model, optimizer, schedule, RNG and data-order state
    best.safetensors   weights of the best epoch (validation accuracy, then loss)
    last.safetensors   weights after the last finished epoch
    filters.safetensors  the first convolution's weights before training (epoch_0) and after each
                       epoch (epoch_1, ...), for watching filters learn (filter_history.py)
    result.json        status, best validation accuracy, epochs run, seconds; the test figures
                       of both weights ("test": {"best": ..., "last": ...}), which of them the
                       run keeps ("kept"), and the kept ones' test loss/accuracy/top-5/confusion
                       at the top level (test_loss, ...; before "kept" existed: the last weights')

Everything is written atomically (temp file + rename) except metrics.jsonl, which is appended;
a resumed run cuts it back to where its checkpoint was taken.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import torch

from designer.core.atomic import atomic_path, atomic_write_text
from designer.training.config import KEEP_CHOICES

# Runs that can be resumed: their result is decided again when they finish.
RESUMABLE_STATUSES = ("cancelled", "crashed")


class RunDirError(Exception):
    """A run directory that cannot be used as asked; the message names it."""


def clean_json(value: Any) -> Any:
    """JSON-safe values: non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


class MetricsWriter:
    """Appends one JSON object per line and flushes it, so a reader (or a crash) sees whole
    lines."""

    def __init__(self, path: Path, keep_bytes: int | None) -> None:
        # Open for the whole run (closed by close()): a line per step must stay cheap.
        mode = "r+b" if keep_bytes is not None and path.exists() else "wb"
        self._file = open(path, mode)  # noqa: SIM115
        if keep_bytes is not None:
            self._file.truncate(keep_bytes)
            self._file.seek(keep_bytes)

    def write(self, record: dict[str, Any]) -> None:
        self._file.write((json.dumps(clean_json(record)) + "\n").encode())
        self._file.flush()

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


class RunDir:
    CONFIG = "config.json"
    DESIGN = "design.json"
    DATA = "data.json"
    METRICS = "metrics.jsonl"
    CHECKPOINT = "checkpoint.pt"
    BEST = "best.safetensors"
    LAST = "last.safetensors"
    RESULT = "result.json"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def has_run(self) -> bool:
        return any(self.file(n).exists() for n in (self.CONFIG, self.CHECKPOINT, self.RESULT))

    def create(self, config: dict, design_text: str) -> None:
        """Start a new run here; refuses a directory that holds one (never overwrites a run)."""
        if self.has_run:
            raise RunDirError(
                f"{self.path} holds a training run already; pass --resume to continue it, "
                f"or choose another run directory"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.write_json(self.CONFIG, config)
            atomic_write_text(self.file(self.DESIGN), design_text)
        except OSError as exc:
            file = next(
                (p for p in (self.path, *self.path.parents) if p.exists() and not p.is_dir()), None
            )
            why = f"{file} is a file, not a folder" if file else exc.strerror or exc
            raise RunDirError(f"cannot write the run directory {self.path}: {why}") from None

    def read_json(self, name: str) -> Any:
        path = self.file(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path} cannot be read: {exc}") from None

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_text(self.file(name), json.dumps(clean_json(data), indent=2) + "\n")

    def metrics(self, keep_bytes: int | None) -> MetricsWriter:
        """The metrics file, new (keep_bytes None) or cut back to keep_bytes for a resumed run."""
        return MetricsWriter(self.file(self.METRICS), keep_bytes)

    def read_metrics(self) -> list[dict[str, Any]]:
        path = self.file(self.METRICS)
        if not path.exists():
            return []
        return [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]

    def copy_file(self, source: str, target: str) -> None:
        """``target`` becomes a copy of ``source``, atomically: a hard link where the file system
        allows (no second write of a large weights file; replacing ``source`` later with
        os.replace leaves the link's content alone), else a real copy."""
        with atomic_path(self.file(target)) as tmp:
            tmp.unlink()
            try:
                os.link(self.file(source), tmp)
            except OSError:
                shutil.copyfile(self.file(source), tmp)

    def write_result(self, end) -> None:
        """result.json from a run's EndEvent."""
        self.write_json(
            self.RESULT,
            {
                "status": end.status,
                "message": end.message,
                "test_accuracy": end.test_accuracy,
                "test_loss": end.test_loss,
                "test_top5": end.test_top5,
                "best_val_accuracy": end.best_val_accuracy,
                "best_val_loss": end.best_val_loss,
                "best_epoch": end.best_epoch,
                "epochs_run": end.epochs_run,
                "seconds": end.seconds,
                "classes": end.classes,
                "confusion": end.confusion,
                "overfit": end.overfit,
                "kept": end.kept,
                "test": end.test,
            },
        )

    def weights_file(self, which: str) -> Path:
        """best.safetensors or last.safetensors."""
        if which not in KEEP_CHOICES:
            choices = " or ".join(KEEP_CHOICES)
            raise RunDirError(f"the weights of a run are {choices}, not {which!r}")
        return self.file(self.BEST if which == "best" else self.LAST)

    def kept(self) -> str:
        """Which weights the run keeps: result.json's choice, else its settings' (runs that have
        not finished), else "last" for a result written before runs chose (its figures are the
        last weights')."""
        result = self.read_json(self.RESULT)
        if result and result.get("kept") in KEEP_CHOICES:
            return result["kept"]
        if result and "kept" not in result and result.get("status") not in RESUMABLE_STATUSES:
            return "last"
        config = self.read_json(self.CONFIG) or {}
        return config.get("keep") if config.get("keep") in KEEP_CHOICES else "best"

    def kept_weights(self, which: str | None = None) -> tuple[str, Path]:
        """(which, weights file): ``which`` or the kept weights; the file must exist."""
        which = which or self.kept()
        path = self.weights_file(which)
        if not path.is_file():
            raise RunDirError(
                f"{self.path} holds no {path.name}: the run has not finished an epoch"
                if self.has_run
                else f"{self.path} holds no training run"
            )
        return which, path

    def set_kept(self, which: str) -> dict[str, Any]:
        """Make a finished run keep its ``which`` ("best" or "last") weights: result.json says so,
        and its top-level test figures become those weights' (None where they were not
        evaluated, e.g. the best weights of a result from before both were). Returns the new
        result."""
        result = self.read_json(self.RESULT)
        if result is None:
            raise RunDirError(f"{self.path} holds no finished run (no {self.RESULT})")
        if result.get("status") in RESUMABLE_STATUSES:
            raise RunDirError(
                f"the run in {self.path} was {result['status']} and can be resumed; "
                f"its weights are chosen when it finishes"
            )
        self.kept_weights(which)  # checks the name and that the file is there
        figures = (result.get("test") or {}).get(which)
        if figures is None and result.get("kept") is None and which == "last":
            figures = {k: result.get(f"test_{k}") for k in ("loss", "accuracy", "top5")}
            figures["confusion"] = result.get("confusion")
        figures = figures or {}
        result.update(
            {
                "kept": which,
                "test_loss": figures.get("loss"),
                "test_accuracy": figures.get("accuracy"),
                "test_top5": figures.get("top5"),
                "confusion": figures.get("confusion"),
            }
        )
        self.write_json(self.RESULT, result)
        return result

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """torch.save of plain tensors, numbers and dicts (loadable with weights_only=True),
        atomically."""
        with atomic_path(self.file(self.CHECKPOINT)) as tmp:
            torch.save(state, tmp)

    def load_checkpoint(self) -> dict[str, Any] | None:
        path = self.file(self.CHECKPOINT)
        if not path.exists():
            return None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError) as exc:
            # a damaged or foreign file: report it (weights_only never unpickles objects)
            raise RunDirError(
                f"the checkpoint {path} cannot be read: {str(exc).splitlines()[0]}"
            ) from None
