"""From a dataset's raw images to float tensors ready to train on: split, shaped for a design's
input and normalized (prepare_data in designer.data.sources loads the dataset first).

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from designer.data.errors import DataError
from designer.data.preprocess import (
    NormStats,
    Preprocessing,
    check_input_shape,
    fit_stats,
    image_shape_for_input,
    to_float_images,
)
from designer.data.rawdata import RawData
from designer.data.splits import check_fractions, split_indices


@dataclass
class PreparedData:
    """float32 inputs (N×C×H×W, or N×F for a vector input) and int64 labels per split."""

    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    stats: NormStats  # rescale, and the mean/std fitted on the training split
    image_shape: tuple[int, int, int]  # C×H×W of the images before any flattening
    test_is_own_split: bool  # True: the dataset's own test split; False: held out from training
    skipped: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def check_preparation(
    input_shape: tuple[int, ...], val_fraction: float, test_fraction: float, limit: int | None
) -> None:
    """The arguments of prepare_raw, checked before a (slow) dataset is loaded for them."""
    check_input_shape(tuple(input_shape))
    check_fractions(val_fraction, test_fraction)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DataError(f"the sample limit must be a whole number of at least 1, got {limit!r}")


def folder_image_size(input_shape: tuple[int, ...]) -> tuple[int, int] | None:
    """The H×W to resample image folders to while loading them: an image input's own size, so
    images are resampled once; None for a vector input (the folder's most common size)."""
    return (input_shape[1], input_shape[2]) if len(input_shape) == 3 else None


def prepare_raw(
    raw: RawData,
    input_shape: tuple[int, ...],
    *,
    num_classes: int | None = None,
    preprocessing: Preprocessing | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
) -> PreparedData:
    """Split a loaded dataset, and shape and normalize it for a design's input.

    The validation split comes from the training data; ``test_fraction`` is used only when the
    source has no test split of its own. ``limit`` keeps the first N training samples (a
    class-balanced sample, see split_indices), for the "overfit a small sample" check.
    """
    preprocessing = preprocessing or Preprocessing()
    input_shape = tuple(input_shape)
    check_preparation(input_shape, val_fraction, test_fraction, limit)
    if num_classes is not None and len(raw.classes) < 2:
        raise DataError(
            f"the dataset '{raw.name}' has only {len(raw.classes)} class; a classifier learns to "
            f"tell at least two apart (an image folder needs one subfolder per class)"
        )
    if num_classes is not None and num_classes != len(raw.classes):
        raise DataError(
            f"the dataset '{raw.name}' has {len(raw.classes)} classes but the design's head has "
            f"{num_classes}; set the design's number of classes to {len(raw.classes)}"
        )
    image_shape = image_shape_for_input(input_shape, raw.image_shape)

    own_test = raw.has_test_split
    split = split_indices(
        raw.train_labels,
        val_fraction=val_fraction,
        test_fraction=0.0 if own_test else test_fraction,
        seed=seed,
    )
    train_index = split.train[:limit] if limit is not None else split.train

    def images(index: torch.Tensor | None, source_images: torch.Tensor) -> torch.Tensor:
        chosen = source_images if index is None else source_images[index]
        return to_float_images(chosen, image_shape, preprocessing.rescale)

    train_x = images(train_index, raw.train_images)
    stats = fit_stats(train_x, preprocessing)  # training split only
    val_x = images(split.val, raw.train_images)
    if own_test:
        assert raw.test_images is not None and raw.test_labels is not None
        test_x, test_y = images(None, raw.test_images), raw.test_labels
    else:
        test_x, test_y = images(split.test, raw.train_images), raw.train_labels[split.test]

    def finish(x: torch.Tensor) -> torch.Tensor:
        x = stats.normalize(x)
        return x.reshape(len(x), -1) if len(input_shape) == 1 else x

    return PreparedData(
        name=raw.name,
        classes=list(raw.classes),
        train_x=finish(train_x),
        train_y=raw.train_labels[train_index],
        val_x=finish(val_x),
        val_y=raw.train_labels[split.val],
        test_x=finish(test_x),
        test_y=test_y,
        stats=stats,
        image_shape=image_shape,
        test_is_own_split=own_test,
        skipped=list(raw.skipped),
    )
