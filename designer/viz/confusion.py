"""Confusion matrix and per-class accuracy of a classifier on one data split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from designer.viz.errors import VizError


@dataclass
class Confusion:
    classes: list[str]
    matrix: np.ndarray  # K x K counts; row = true class, column = predicted class

    @property
    def support(self) -> np.ndarray:
        return self.matrix.sum(axis=1)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """Correct / samples per true class; NaN for a class the split has no samples of."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.matrix) / self.support

    @property
    def accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else float("nan")


@torch.inference_mode()
def predict(module: torch.nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The predicted class (argmax of the scores) per sample, in eval mode."""
    was_training = module.training
    module.eval()
    try:
        return torch.cat(
            [module(x[i : i + batch_size]).argmax(dim=1) for i in range(0, len(x), batch_size)]
        )
    finally:
        module.train(was_training)


def confusion_matrix(
    module: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    classes: list[str],
    batch_size: int = 256,
) -> Confusion:
    if len(x) != len(y):
        raise VizError(f"there are {len(x)} inputs but {len(y)} labels")
    if len(x) == 0:
        raise VizError("the data split is empty; there is nothing to count")
    k = len(classes)
    pred = predict(module, x, batch_size)
    if int(pred.max()) >= k:
        raise VizError(
            f"the model predicts class {int(pred.max())} but the data has only {k} "
            "classes; the model's outputs must be one score per class"
        )
    counts = torch.bincount(y.long() * k + pred, minlength=k * k).reshape(k, k)
    return Confusion(list(classes), counts.numpy())
