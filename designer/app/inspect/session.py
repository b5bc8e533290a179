"""What the Inspect workspace looks at, without Qt: which weights (the design's own, fresh ones,
or a run's best or last), the design compiled with them, and the test split they are judged on.

The workspace's widgets only follow this object; tests drive it directly. It works on a snapshot
of the design (taken by `refresh`), so background work never sees a half-made edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from designer.core.design import Design
from designer.core.serialization import clone
from designer.data import DataError
from designer.interop.weights import design_weights_path
from designer.training import filter_history
from designer.training.config import ConfigError, config_for_design
from designer.training.evaluation import EvaluationError, Trained, from_run, split_data
from designer.training.rundir import RunDirError
from designer.training.runs import RunInfo, list_runs
from designer.viz import LoadedModel, VizError, load_model
from designer.viz.display import display_images

ERRORS = (VizError, EvaluationError, ConfigError, RunDirError)


class InspectError(Exception):
    """Weights or data that cannot be shown; the message says why."""


@dataclass(frozen=True)
class WeightsSource:
    """One choice of weights: the design's ("design"), or a run's best or last."""

    label: str
    run: Path | None = None
    which: str | None = None

    @property
    def key(self) -> str:
        return "design" if self.run is None else f"{self.run}::{self.which}"


@dataclass
class Samples:
    """The test split the views use: network inputs, labels, display images (N x C x H x W in
    0..1) and the class names."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    shown: torch.Tensor
    classes: list[str]
    stats: object
    image_shape: tuple[int, int, int]
    note: str = ""  # why these images and not the design's data's (previews' fallback)


def weights_sources(
    design: Design, design_path: str | None, runs_folder: Path
) -> list[WeightsSource]:
    """The design's weights first, then each run's best and last weights (newest run first)."""
    own = design_weights_path(design, design_path)
    first = (
        WeightsSource(f"the design's weights ({own.name})")
        if own is not None
        else WeightsSource("fresh weights (untrained)")
    )
    sources = [first]
    runs: list[RunInfo] = sorted(list_runs(runs_folder), key=lambda r: r.started, reverse=True)
    for run in runs:
        for which in ("best", "last"):
            if (run.path / f"{which}.safetensors").is_file():
                when = f", epoch {run.best_epoch}" if which == "best" and run.best_epoch else ""
                sources.append(
                    WeightsSource(f"run {run.name}: {which} weights{when}", run.path, which)
                )
    return sources


def _samples_of(data, x: torch.Tensor, y: torch.Tensor) -> Samples:
    shown = display_images(x, data.stats, data.image_shape)
    return Samples(data.name, x, y, shown, list(data.classes), data.stats, tuple(data.image_shape))


def samples_for(
    design: Design, config=None, *, any_head: bool = False, train_limit: int | None = None
) -> Samples:
    """The test split of the data of `config` (a TrainConfig; default: the design's own
    settings, the digits unless its template says otherwise), prepared for its input;
    InspectError when it cannot be loaded or is empty. ``any_head`` and ``train_limit``: as
    designer.training.engine.prepare_for takes them (previews)."""
    from designer.training.engine import prepare_for

    try:
        config = config or config_for_design(design)
        data = prepare_for(design, config, any_head=any_head, train_limit=train_limit)
    except (*ERRORS, DataError) as exc:
        raise InspectError(str(exc)) from None
    if len(data.test_x) == 0:
        raise InspectError(f"the test split of {data.name} is empty")
    return _samples_of(data, data.test_x, data.test_y)


class InspectSession:
    def __init__(self) -> None:
        self.design: Design | None = None
        self.design_path: str | None = None
        self.source = WeightsSource("fresh weights (untrained)")
        self._model: LoadedModel | None = None
        self._trained: Trained | None = None
        self._samples: Samples | None = None
        self._samples_key = None

    # -- what to look at ----------------------------------------------------------------------
    def refresh(self, design: Design, design_path: str | None) -> None:
        """Look at (a snapshot of) this design from now on; models are rebuilt when next asked."""
        self.design = clone(design)
        self.design_path = design_path
        self._model = None
        self._trained = None

    def set_source(self, source: WeightsSource) -> None:
        if source != self.source:
            self.source = source
            self._model = None
            self._trained = None

    # -- the model ------------------------------------------------------------------------------
    def model(self) -> LoadedModel:
        """The design compiled with the chosen weights (built once per design and weights)."""
        if self._model is not None:
            return self._model
        if self.design is None:
            raise InspectError("no design to inspect")
        try:
            if self.source.run is None:
                self._model = load_model(self.design, self.design_path)
            else:
                self._trained = from_run(self.source.run, self.source.which, self.design)
                self._model = load_model(self.design, self.design_path, self._trained.weights)
        except VizError as exc:
            if self.source.run is not None and "weights" in str(exc):
                raise InspectError(
                    f"the weights of run {self.source.run.name} do not fit the "
                    f"design as it is now (it was trained on another version): "
                    f"{exc}"
                ) from None
            raise InspectError(str(exc)) from None
        except ERRORS as exc:
            raise InspectError(str(exc)) from None
        return self._model

    @property
    def note(self) -> str:
        """Where the weights come from, in words; fresh weights say so plainly."""
        model = self.model()
        if self._trained is not None:
            return self._trained.weights_note
        if model.fresh:
            return (
                "fresh, untrained weights (random initialization, seed 0): filters are noise "
                "and patches show no learned features; train the design or pick a run"
            )
        return model.weights_note

    @property
    def fresh(self) -> bool:
        return self.model().fresh

    # -- data -----------------------------------------------------------------------------------
    def _data_key(self) -> tuple:
        return (
            self.source.key,
            self.design.input_shape if self.design else None,
            repr(self.design.metadata.get("training") if self.design else None),
        )

    def has_samples(self) -> bool:
        """Whether samples() answers at once (the split is prepared for these weights)."""
        return self._samples is not None and self._samples_key == self._data_key()

    def samples(self) -> Samples:
        """The test split, prepared as the chosen weights were trained (slow the first time)."""
        key = self._data_key()
        if self.has_samples():
            return self._samples
        self.model()
        try:
            if self._trained is not None:
                data, x, y = split_data(self._trained, "test")
                self._samples = _samples_of(data, x, y)
            else:
                self._samples = samples_for(self.design)
        except (*ERRORS, DataError) as exc:
            raise InspectError(str(exc)) from None
        self._samples_key = key
        return self._samples

    def image_input(self, path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
        """An image file as (network input, display image), converted like the test split."""
        from designer.data import to_network_input
        from designer.training.evaluation import read_image

        s = self.samples()
        try:
            images = read_image(path, s.image_shape[0])
            x = to_network_input(images, self.design.input_shape, s.stats)
        except EvaluationError as exc:
            raise InspectError(str(exc)) from None
        except DataError as exc:
            raise InspectError(f"{path}: {exc}") from None
        return x[0], display_images(x, s.stats, s.image_shape)[0]

    # -- the run's history ----------------------------------------------------------------------
    def filter_history(self, key: str) -> filter_history.FilterHistory | None:
        """The per-epoch filters of the chosen run when they are of this node, else None."""
        if self.source.run is None:
            return None
        history = filter_history.read(self.source.run)
        if history is None or history.module != self.model().module_name(key):
            return None
        return history

    def history_module(self) -> str | None:
        """Which module the chosen run's per-epoch filters are of (None: no history)."""
        if self.source.run is None:
            return None
        history = filter_history.read(self.source.run)
        return history.module if history else None
