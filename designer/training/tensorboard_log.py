"""TensorBoard event files beside metrics.jsonl (the ``tensorboard`` setting; optional extra
``netdesigner[tensorboard]``).

TensorBoardLog wraps a run's MetricsWriter, so every record written to metrics.jsonl is also a
set of scalars, the same numbers by construction: steps as ``step/loss``, ``step/loss_ema`` and
``step/lr`` at the run's global step, epochs as ``epoch/<name>`` (train_loss, val_accuracy, ...)
at the epoch number. It also writes the model graph once, and the first convolution's filters as
an image after every epoch (``filters/<module>``). Each run writes to DIR/<run name>, so
``tensorboard --logdir DIR`` shows a folder's runs side by side.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from designer.training.config import ConfigError
from designer.training.filter_history import first_convolution

STEP_SCALARS = ("loss", "loss_ema", "lr")


def log_dir(folder: str | Path, run_path: str | Path) -> Path:
    return Path(folder).expanduser() / Path(run_path).resolve().name


class TensorBoardLog:
    """A MetricsWriter that also writes TensorBoard events (write, tell, close: the writer's)."""

    def __init__(self, metrics, folder: str | Path, model: torch.nn.Module) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "the tensorboard setting needs the tensorboard package: "
                "pip install 'netdesigner[tensorboard]'"
            ) from None
        self.metrics, self.model = metrics, model
        self.path = Path(folder)
        try:
            self.writer = SummaryWriter(str(self.path))
        except OSError as exc:
            raise ConfigError(
                f"cannot write TensorBoard events to {self.path}: {exc.strerror or exc}"
            ) from None

    def add_graph(self, example: torch.Tensor) -> str | None:
        """The model graph, traced in eval mode on ``example``; why not, if it cannot be traced."""
        training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's warnings are not the user's business
                self.writer.add_graph(self.model, example)
        except Exception as exc:  # noqa: BLE001 - tracing is best effort; the scalars still count
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return f"TensorBoard: the model graph could not be traced ({reason})"
        finally:
            self.model.train(training)
        return None

    def write(self, record: dict[str, Any]) -> None:
        self.metrics.write(record)
        if record.get("kind") == "step":
            for name in STEP_SCALARS:
                self._scalar(f"step/{name}", record.get(name), record["step"])
        elif record.get("kind") == "epoch":
            epoch = record["epoch"]
            for name, value in record.items():
                if name not in ("kind", "epoch", "best"):
                    self._scalar(f"epoch/{name}", value, epoch)
            self._filters(epoch)

    def _scalar(self, tag: str, value: Any, step: int) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.writer.add_scalar(tag, value, step)

    def _filters(self, epoch: int) -> None:
        """The first convolution's filters, one tile each (its first input channel, or RGB for
        three), each scaled to its own range so faint filters stay visible."""
        found = first_convolution(self.model)
        if found is None:
            return
        name, conv = found
        weight = conv.weight.detach().float().cpu()
        if isinstance(conv, torch.nn.ConvTranspose2d):
            weight = weight.transpose(0, 1)
        tiles = weight if weight.shape[1] == 3 else weight[:, :1]
        low = tiles.amin(dim=(1, 2, 3), keepdim=True)
        high = tiles.amax(dim=(1, 2, 3), keepdim=True)
        tiles = (tiles - low) / (high - low).clamp_min(1e-12)
        self.writer.add_images(f"filters/{name}", tiles, epoch, dataformats="NCHW")

    def tell(self) -> int:
        return self.metrics.tell()

    def close(self) -> None:
        self.metrics.close()
        self.writer.close()
