"""The sanity check of seed 000: before a long run, make sure the design can overfit a small
sample (reach 100% training accuracy); if it cannot, something is wrong with it or its settings."""

from __future__ import annotations

from pathlib import Path

from designer.training.config import TrainConfig
from designer.training.control import TrainingControl
from designer.training.engine import Trainer
from designer.training.events import EndEvent

DEFAULT_SAMPLES = 20
DEFAULT_MAX_EPOCHS = 200


def overfit_check(
    design,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    samples: int = DEFAULT_SAMPLES,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    control: TrainingControl | None = None,
    on_event=None,
) -> EndEvent:
    """Train on ``samples`` class-balanced training samples, without augmentation, until all of
    them are classified correctly or ``max_epochs`` pass. ``end.overfit["reached"]`` is the
    answer."""
    config = config.with_changes(
        overfit_samples=samples, epochs=max_epochs, early_stopping_patience=0
    )
    return Trainer(design, config, run_dir, control=control).run_to_end(on_event)
