"""Progress events of a training run: small, JSON-ready, and the same in-process and over the
worker's queue (to_dict / event_from_dict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


@dataclass
class StartEvent:
    """Training is about to start (or resume)."""

    kind: ClassVar[str] = "start"
    run_dir: str
    device: str
    dataset: str
    classes: list[str]
    train_samples: int
    val_samples: int
    test_samples: int
    trainable_params: int
    epochs: int
    steps_per_epoch: int
    start_epoch: int = 0  # completed epochs (above 0 when resuming)
    start_batch: int = 0  # completed batches of the epoch being resumed


@dataclass
class LogEvent:
    """Something worth telling the user that is not a metric (skipped images, weights loaded)."""

    kind: ClassVar[str] = "log"
    message: str


@dataclass
class StepEvent:
    """One optimizer step: its loss, the loss's moving average (coefficient 0.99, bias-corrected
    like TensorBoard's smoothing) and the learning rate used."""

    kind: ClassVar[str] = "step"
    epoch: int  # 1-based
    step: int  # 1-based, counted over the whole run
    batch: int  # 1-based within the epoch
    batches: int
    loss: float
    loss_ema: float
    lr: float


@dataclass
class EpochEvent:
    """An epoch finished; accuracies are fractions (0..1), None where they do not apply."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    lr: float
    seconds: float
    samples_per_second: float
    train_top5: float | None = None
    val_top5: float | None = None
    best: bool = False  # the best validation result so far (best.safetensors written)
    overfit_accuracy: float | None = (
        None  # overfit mode: accuracy on the training sample, eval mode
    )


@dataclass
class StateEvent:
    """The run was paused or resumed by its control."""

    kind: ClassVar[str] = "state"
    state: str  # "paused" | "running"


# Final statuses: completed and early_stopped are successes; cancelled and crashed runs can be
# resumed from their last checkpoint; diverged and failed need a change first; a search's
# pruner ended a pruned one after an epoch (its validation accuracy was below the median).
STATUSES = ("completed", "early_stopped", "cancelled", "diverged", "failed", "crashed", "pruned")


@dataclass
class EndEvent:
    """The run ended; always the last event.

    A run that finished evaluates both its best and its last weights on the test split (``test``);
    ``kept`` says which weights the run keeps (its settings' ``keep``), and test_loss,
    test_accuracy, test_top5 and confusion are the kept weights' figures.
    """

    kind: ClassVar[str] = "end"
    status: str
    message: str = ""
    epochs_run: int = 0
    seconds: float = 0.0
    test_loss: float | None = None  # the kept weights', as are test_accuracy, test_top5, confusion
    test_accuracy: float | None = None
    test_top5: float | None = None
    best_val_accuracy: float | None = None
    best_val_loss: float | None = None
    best_epoch: int | None = None
    classes: list[str] = field(default_factory=list)
    confusion: list[list[int]] | None = None  # rows: true class, columns: predicted class
    overfit: dict[str, Any] | None = None  # overfit mode: samples, reached, epoch, accuracy
    kept: str | None = None  # "best" or "last": whose figures test_* are
    # "best" and "last" -> {"epoch", "loss", "accuracy", "top5", "confusion"} (None: not evaluated)
    test: dict[str, dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "early_stopped")


Event = StartEvent | LogEvent | StepEvent | EpochEvent | StateEvent | EndEvent
_KINDS = {
    cls.kind: cls for cls in (StartEvent, LogEvent, StepEvent, EpochEvent, StateEvent, EndEvent)
}


def event_to_dict(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, **asdict(event)}


def event_from_dict(data: dict[str, Any]) -> Event:
    cls = _KINDS[data["kind"]]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
