"""RawData: a dataset as loaded from its source, before splitting and preprocessing.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from designer.data.errors import DataError


@dataclass
class RawData:
    """Images as uint8 N×C×H×W tensors with int64 labels indexing ``classes``.

    ``test_images``/``test_labels`` hold the dataset's own test split, or None when it has none.
    ``skipped`` lists files that could not be read (image folders only).
    """

    name: str
    classes: list[str]
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.train_labels = self.train_labels.long()
        if self.test_labels is not None:
            self.test_labels = self.test_labels.long()
        _check_split(self, "training", self.train_images, self.train_labels)
        if (self.test_images is None) != (self.test_labels is None):
            raise DataError(
                f"the dataset '{self.name}' has test images or test labels but not both"
            )
        if self.test_images is not None:
            assert self.test_labels is not None
            _check_split(self, "test", self.test_images, self.test_labels)
            if self.test_images.shape[1:] != self.train_images.shape[1:]:
                raise DataError(
                    f"the dataset '{self.name}' has training images of shape "
                    f"{tuple(self.train_images.shape[1:])} but test images of shape "
                    f"{tuple(self.test_images.shape[1:])}"
                )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train_images.shape[1:]
        return (c, h, w)

    @property
    def has_test_split(self) -> bool:
        return self.test_images is not None


def _check_split(raw: RawData, split: str, images: torch.Tensor, labels: torch.Tensor) -> None:
    # Loaders build these themselves; the checks catch files whose parts disagree.
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise DataError(
            f"the dataset '{raw.name}' {split} images must be uint8 N×C×H×W, "
            f"got {images.dtype} with shape {tuple(images.shape)}"
        )
    if labels.dim() != 1 or len(labels) != len(images):
        raise DataError(
            f"the dataset '{raw.name}' has {len(images)} {split} images but {labels.numel()} labels"
        )
    if len(images) == 0:
        raise DataError(f"the dataset '{raw.name}' has no {split} images")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= len(raw.classes):
        bad = low if low < 0 else high
        raise DataError(
            f"the dataset '{raw.name}' has a {split} label {bad} but only "
            f"{len(raw.classes)} classes "
            f"(labels must be 0..{len(raw.classes) - 1})"
        )
