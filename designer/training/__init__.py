"""Training designs: a headless engine that yields progress events, run directories with exact
resume, a worker process, the "overfit a small sample" check and hyperparameter search (Optuna).

Names are imported from their submodules on first use (torch takes seconds to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ConfigError": "designer.training.config",
    "TrainConfig": "designer.training.config",
    "config_for_design": "designer.training.config",
    "TrainingControl": "designer.training.control",
    "EndEvent": "designer.training.events",
    "EpochEvent": "designer.training.events",
    "LogEvent": "designer.training.events",
    "StartEvent": "designer.training.events",
    "StateEvent": "designer.training.events",
    "StepEvent": "designer.training.events",
    "event_from_dict": "designer.training.events",
    "event_to_dict": "designer.training.events",
    "Trainer": "designer.training.engine",
    "TrainingError": "designer.training.model",
    "RunDir": "designer.training.rundir",
    "TrainingProcess": "designer.training.worker",
    "overfit_check": "designer.training.sanity",
    "SearchSpace": "designer.training.search",
    "SearchStudy": "designer.training.search",
    "random_search": "designer.training.search",
}

__all__ = [
    "ConfigError",
    "EndEvent",
    "EpochEvent",
    "LogEvent",
    "RunDir",
    "SearchSpace",
    "SearchStudy",
    "StartEvent",
    "StateEvent",
    "StepEvent",
    "TrainConfig",
    "Trainer",
    "TrainingControl",
    "TrainingError",
    "TrainingProcess",
    "config_for_design",
    "event_from_dict",
    "event_to_dict",
    "overfit_check",
    "random_search",
]

if TYPE_CHECKING:
    from designer.training.config import ConfigError, TrainConfig, config_for_design
    from designer.training.control import TrainingControl
    from designer.training.engine import Trainer
    from designer.training.events import (
        EndEvent,
        EpochEvent,
        LogEvent,
        StartEvent,
        StateEvent,
        StepEvent,
        event_from_dict,
        event_to_dict,
    )
    from designer.training.model import TrainingError
    from designer.training.rundir import RunDir
    from designer.training.sanity import overfit_check
    from designer.training.search import SearchSpace, SearchStudy, random_search
    from designer.training.worker import TrainingProcess


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'designer.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
