"""Running metrics: the loss's moving average, an epoch's totals, and evaluation of a split."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from designer.training.recipe import compute_loss, predict_classes

EMA_COEFFICIENT = 0.99  # as in seed 001's plots of the training error
EVAL_BATCH = 512


class LossAverage:
    """Exponential moving average of the step loss, bias-corrected so early values are not
    pulled toward zero (as TensorBoard's smoothing does)."""

    def __init__(self, coefficient: float = EMA_COEFFICIENT) -> None:
        self.coefficient = coefficient
        self.value = 0.0
        self.steps = 0

    def update(self, loss: float) -> float:
        self.value = self.coefficient * self.value + (1 - self.coefficient) * loss
        self.steps += 1
        return self.value / (1 - self.coefficient**self.steps)

    def state_dict(self) -> dict:
        return {"value": self.value, "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.value, self.steps = float(state["value"]), int(state["steps"])


class EpochTotals:
    """Sums over an epoch's batches.

    Counting hits takes a few small tensor ops, which cost a few percent of a small model's step
    when done every step; so the batches' outputs are kept (detached) and counted together every
    COUNT_EVERY steps and whenever a total is read.
    """

    COUNT_EVERY = 16

    def __init__(self, top5: bool) -> None:
        self.top5 = top5
        self.loss_sum = 0.0
        self.seen = 0
        self.seconds = 0.0  # training time only (no evaluation, no pauses)
        self._hits = [0, 0]  # top-1, top-5
        self._pending: list[tuple[str, torch.Tensor, torch.Tensor]] = []

    def add(self, loss_kind: str, output: torch.Tensor, labels: torch.Tensor, loss: float) -> None:
        self.loss_sum += loss * len(labels)
        self.seen += len(labels)
        self._pending.append((loss_kind, output.detach(), labels))
        if len(self._pending) >= self.COUNT_EVERY:
            self._count()

    def _count(self) -> None:
        if not self._pending:
            return
        kind = self._pending[0][0]
        output = torch.cat([o for _, o, _ in self._pending])
        labels = torch.cat([y for _, _, y in self._pending])
        self._pending.clear()
        with torch.no_grad():
            self._hits[0] += int((predict_classes(kind, output) == labels).sum())
            if self.top5:
                self._hits[1] += int(top5_hits(output, labels))

    @property
    def correct(self) -> int:
        self._count()
        return self._hits[0]

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.seen, 1)

    @property
    def top5_accuracy(self) -> float | None:
        self._count()
        return self._hits[1] / max(self.seen, 1) if self.top5 else None

    def state_dict(self) -> dict:
        self._count()
        return {
            "loss_sum": self.loss_sum,
            "seen": self.seen,
            "correct": self._hits[0],
            "top5_correct": self._hits[1],
            "seconds": self.seconds,
        }

    def load_state_dict(self, state: dict) -> None:
        self.loss_sum, self.seen = float(state["loss_sum"]), int(state["seen"])
        self._hits = [int(state["correct"]), int(state["top5_correct"])]
        self.seconds = float(state["seconds"])


def top5_hits(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (output.topk(5, dim=1).indices == labels.unsqueeze(1)).any(dim=1).sum()


@dataclass
class Evaluation:
    loss: float | None
    accuracy: float | None
    top5: float | None = None
    confusion: torch.Tensor | None = None  # rows: true class, columns: predicted class


def evaluate(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_kind: str,
    device: torch.device,
    *,
    num_classes: int,
    top5: bool,
    confusion: bool = False,
) -> Evaluation:
    """Loss and accuracy of a whole split in eval mode (the caller restores train mode)."""
    if len(x) == 0:
        return Evaluation(None, None)
    model.eval()
    loss_sum, correct, hits = 0.0, 0, 0
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long) if confusion else None
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            xb = x[start : start + EVAL_BATCH].to(device)
            yb = y[start : start + EVAL_BATCH].to(device)
            out = model(xb)
            loss_sum += compute_loss(loss_kind, out, yb).item() * len(yb)
            predicted = predict_classes(loss_kind, out)
            correct += int((predicted == yb).sum())
            if top5:
                hits += int(top5_hits(out, yb))
            if matrix is not None:
                # Predictions outside the classes (a rounded regression output) are clamped into
                # range.
                cells = yb.cpu() * num_classes + predicted.cpu().clamp(0, num_classes - 1)
                matrix += torch.bincount(cells, minlength=num_classes * num_classes).view(
                    num_classes, num_classes
                )
    n = len(x)
    return Evaluation(loss_sum / n, correct / n, hits / n if top5 else None, matrix)
