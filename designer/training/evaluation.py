"""Trained weights after training: a data split's loss, accuracy, top-5 and per-class accuracy,
and the top classes of image files, with the input pipeline the weights were trained with.

Qt-free, for the CLI's evaluate, predict, visualize and export verbs and for the app:

    trained = from_run("runs/lenet")                 # the run's design, kept weights, preprocessing
    result = evaluate_split(trained, "test")         # the figures result.json has for them
    for p in predict_images(trained, ["seven.png"]):  ...

A run's preprocessing is its settings (config.json) and, above all, the normalization statistics
fitted on its training split (data.json): new inputs are normalized with those, whatever data
they come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from designer.codegen import CodegenError, compile_design
from designer.core.design import Design
from designer.core.errors import DesignFileError
from designer.core.serialization import loads
from designer.data import DataError, NormStats, PreparedData, prepare_data, to_network_input
from designer.interop.weights import WeightsError, design_weights_path, load_weights
from designer.training.config import ConfigError, TrainConfig, config_for_design
from designer.training.metrics import evaluate
from designer.training.model import TrainingError, head_features, pick_device
from designer.training.rundir import RunDir, RunDirError

SPLITS = ("train", "val", "test")


class EvaluationError(Exception):
    """Weights, data or an image that cannot be evaluated; the message names what and where."""


@dataclass
class Trained:
    """A design with trained weights and the input pipeline those weights expect."""

    design: Design
    config: TrainConfig  # the run's settings, or the design's template settings
    weights: Path
    which: str | None = None  # a run's "best" or "last" weights; None for a weights file
    run: RunDir | None = None
    stats: NormStats | None = None  # a run's normalization (None: fitted on the data)
    image_shape: tuple[int, int, int] | None = None
    classes: list[str] | None = None

    @property
    def weights_note(self) -> str:
        """Where the weights come from, for the user."""
        if self.run is None:
            return f"weights from {self.weights}"
        result = self.run.read_json(RunDir.RESULT) or {}
        epoch = ((result.get("test") or {}).get(self.which) or {}).get("epoch")
        if epoch is None and self.which == "best":
            epoch = result.get("best_epoch")
        when = f", epoch {epoch}" if epoch is not None else ""
        kept = " (the run's kept weights)" if self.which == self.run.kept() else ""
        return f"the {self.which} weights of the run {self.run.path}{when}{kept}: {self.weights}"

    def module(self) -> torch.nn.Module:
        """The design compiled with these weights, in eval mode."""
        try:
            model = compile_design(self.design)
            load_weights(model, self.weights)
        except (CodegenError, WeightsError) as exc:
            raise EvaluationError(str(exc)) from None
        return model.eval()


def from_run(
    run_dir: str | Path, which: str | None = None, design: Design | None = None
) -> Trained:
    """A run's design (or ``design``, which its weights must fit), its ``which`` weights
    (default: the ones it keeps) and its preprocessing."""
    run = RunDir(run_dir)
    try:
        saved = run.read_json(RunDir.CONFIG)
        if saved is None:
            raise EvaluationError(f"{run.path} holds no training run (no {RunDir.CONFIG})")
        config = TrainConfig.from_dict(saved, what=str(run.file(RunDir.CONFIG)))
        if design is None:
            design_file = run.file(RunDir.DESIGN)
            if not design_file.is_file():
                raise EvaluationError(f"{run.path} holds no {RunDir.DESIGN}; name the design too")
            design = loads(design_file.read_text(encoding="utf-8"), str(design_file))
        which, weights = run.kept_weights(which)
        data = run.read_json(RunDir.DATA) or {}
        stats = NormStats.from_dict(data["stats"]) if data.get("stats") else None
    except (RunDirError, ConfigError, DesignFileError, DataError) as exc:
        raise EvaluationError(str(exc)) from None
    image_shape = tuple(data["image_shape"]) if data.get("image_shape") else None
    return Trained(design, config, weights, which, run, stats, image_shape, data.get("classes"))


def from_design(
    design: Design, weights: str | Path | None = None, design_path: str | Path | None = None
) -> Trained:
    """A design with a weights file (default: the design's own), preprocessed as its template's
    training settings say (the statistics are fitted on that data's training split)."""
    if weights is None:
        weights = design_weights_path(design, design_path)
        if weights is None:
            raise EvaluationError(
                f"the design '{design.name}' has no weights of its own; give a "
                f"weights file or a run directory"
            )
    try:
        config = config_for_design(design)
    except ConfigError as exc:
        raise EvaluationError(str(exc)) from None
    return Trained(design, config, Path(weights))


# -- data -------------------------------------------------------------------------------------


def split_data(
    trained: Trained, split: str = "test", dataset: str | None = None, data_dir: str | None = None
) -> tuple[PreparedData, torch.Tensor, torch.Tensor]:
    """(data, inputs, labels) of a split of the settings' dataset (or ``dataset``), split as in
    training and normalized the way the weights were trained."""
    if split not in SPLITS:
        raise EvaluationError(f"the split must be one of {', '.join(SPLITS)}, got {split!r}")
    config, design = trained.config, trained.design
    try:
        data = prepare_data(
            dataset or config.dataset,
            design.input_shape,
            num_classes=design.num_classes if design.task == "classification" else None,
            preprocessing=config.preprocessing,
            val_fraction=config.val_fraction,
            test_fraction=config.test_fraction,
            seed=config.split_seed,
            data_dir=data_dir if data_dir is not None else config.data_dir,
        )
    except DataError as exc:
        raise EvaluationError(str(exc)) from None
    x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
    if trained.stats is not None and not _same_stats(trained.stats, data.stats):
        x = _renormalize(x, data.stats, trained.stats, data.image_shape)
        data.stats = trained.stats
    if len(x) == 0:
        raise EvaluationError(f"the {split} split of {data.name} is empty; choose another split")
    return data, x, y


def _same_stats(a: NormStats, b: NormStats) -> bool:
    def same(s, t):
        return (s is None and t is None) or (s is not None and t is not None and torch.equal(s, t))

    return a.rescale == b.rescale and same(a.mean, b.mean) and same(a.std, b.std)


def _renormalize(
    x: torch.Tensor, fitted: NormStats, wanted: NormStats, image_shape: tuple[int, int, int]
) -> torch.Tensor:
    """Inputs normalized with ``fitted`` (the data's own training split) as ``wanted`` would
    have normalized them (the weights' training run)."""
    images = fitted.denormalize(x.reshape(len(x), *image_shape)) * (wanted.rescale / fitted.rescale)
    return wanted.normalize(images).reshape(x.shape)


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class SplitResult:
    """A split's figures, as the training run computes its test figures."""

    split: str
    dataset: str
    classes: list[str]
    samples: int
    loss: float | None
    accuracy: float | None
    top5: float | None
    confusion: np.ndarray  # K×K counts; row: true class, column: predicted class

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def per_class_accuracy(self) -> list[float | None]:
        """Correct / samples per true class; None for a class the split has no samples of."""
        return [
            None if n == 0 else float(self.confusion[i, i] / n) for i, n in enumerate(self.support)
        ]

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "dataset": self.dataset,
            "samples": self.samples,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "top5": self.top5,
            "per_class_accuracy": dict(zip(self.classes, self.per_class_accuracy)),
            "confusion": self.confusion.tolist(),
        }


def evaluate_split(
    trained: Trained,
    split: str = "test",
    dataset: str | None = None,
    data_dir: str | None = None,
    device: str | None = None,
) -> SplitResult:
    """Loss, accuracy, top-5 (more than 5 classes) and confusion matrix of a data split."""
    data, x, y = split_data(trained, split, dataset, data_dir)
    design = trained.design
    try:
        features = head_features(design)
        target = pick_device(device or trained.config.device)
    except TrainingError as exc:
        raise EvaluationError(str(exc)) from None
    model = trained.module().to(target)
    loss_kind = trained.config.resolved_loss(design.task)
    result = evaluate(
        model,
        x,
        y,
        loss_kind,
        target,
        num_classes=data.num_classes,
        top5=features == data.num_classes > 5,
        confusion=True,
    )
    return SplitResult(
        split,
        data.name,
        list(data.classes),
        len(x),
        result.loss,
        result.accuracy,
        result.top5,
        result.confusion.numpy(),
    )


# -- images -----------------------------------------------------------------------------------


def read_image(path: str | Path, channels: int) -> torch.Tensor:
    """An image file of any size and mode as uint8 1×C×H×W, grayscale (C=1) or RGB (C=3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            pixels = np.array(im.convert("RGB" if channels == 3 else "L"), dtype=np.uint8)
    except FileNotFoundError:
        raise EvaluationError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise EvaluationError(f"{path}: cannot be read as an image ({exc})") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).contiguous()


@dataclass
class InputPipeline:
    stats: NormStats
    image_shape: tuple[int, int, int]
    classes: list[str]


def input_pipeline(trained: Trained) -> InputPipeline:
    """How new images become inputs: a run's own statistics, else those fitted on the settings'
    data (which also names the classes)."""
    if trained.stats is not None and trained.image_shape is not None and trained.classes:
        return InputPipeline(trained.stats, trained.image_shape, list(trained.classes))
    data, _, _ = split_data(trained, "train")
    return InputPipeline(data.stats, data.image_shape, list(data.classes))


def image_input(path: str | Path, design: Design, pipeline: InputPipeline) -> torch.Tensor:
    """One image file as the design's input (C×H×W or F), converted like the training data."""
    images = read_image(path, pipeline.image_shape[0])
    try:
        return to_network_input(images, design.input_shape, pipeline.stats)[0]
    except DataError as exc:
        raise EvaluationError(f"{path}: {exc}") from None


@dataclass
class Prediction:
    """An image's top classes, best first, as (class, score): softmax probabilities for
    cross-entropy, sigmoid ones for binary cross-entropy, the raw output for MSE."""

    path: str
    top: list[tuple[str, float]]


def scores(loss_kind: str, output: torch.Tensor) -> torch.Tensor:
    """Per-class scores of a batch of outputs: probabilities where the loss defines them."""
    if loss_kind == "cross_entropy":
        return output.softmax(dim=1)
    if loss_kind == "binary_cross_entropy":
        if output.shape[1] == 1:  # one output: the probability of class 1
            p = output.sigmoid()
            return torch.cat([1 - p, p], dim=1)
        return output.sigmoid()
    return output


def predict_images(trained: Trained, paths: list[str | Path], top: int = 3) -> list[Prediction]:
    """The ``top`` classes of each image file, with their scores."""
    design = trained.design
    if design.task != "classification":
        raise EvaluationError(
            f"the design '{design.name}' is a {design.task} design; predicting "
            f"classes needs a classifier"
        )
    pipeline = input_pipeline(trained)
    x = torch.stack([image_input(p, design, pipeline) for p in paths])
    model = trained.module()
    loss_kind = trained.config.resolved_loss(design.task)
    with torch.no_grad():
        s = scores(loss_kind, model(x))
    if s.shape[1] == 1:  # a regression-style head: its rounded value is the class
        values = s[:, 0]
        return [
            Prediction(str(p), [(_class_name(pipeline.classes, round(float(v))), float(v))])
            for p, v in zip(paths, values)
        ]
    k = min(top, s.shape[1])
    best = s.topk(k, dim=1)
    return [
        Prediction(
            str(p),
            [(_class_name(pipeline.classes, int(i)), float(v)) for v, i in zip(values, index)],
        )
        for p, values, index in zip(paths, best.values, best.indices)
    ]


def _class_name(classes: list[str], index: int) -> str:
    return classes[index] if 0 <= index < len(classes) else str(index)
