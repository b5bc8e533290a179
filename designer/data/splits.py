"""Seeded, stratified train/validation/test splits.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from designer.data.errors import DataError


@dataclass(frozen=True)
class SplitIndices:
    """int64 index tensors into the source's training data; they are disjoint and cover it."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor


def split_indices(
    labels: torch.Tensor,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    stratify: bool = True,
) -> SplitIndices:
    """Split sample indices; the same labels and seed always give the same split.

    Sizes are round(n × fraction). With ``stratify`` every class is spread over the splits in
    proportion to its size, and the training indices come out interleaved by class, so the
    first k of them are a class-balanced sample (what "overfit a small sample" uses).
    """
    check_fractions(val_fraction, test_fraction)
    n = len(labels)
    n_val, n_test = _round(n * val_fraction), _round(n * test_fraction)
    if n - n_val - n_test < 1:
        raise DataError(
            f"splitting {n} samples into {n_val} for validation and {n_test} for testing "
            f"leaves none for training; lower the validation/test fractions"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        order = _stratified_order(labels.cpu().numpy(), rng)
    else:
        order = rng.permutation(n)
    order_t = torch.from_numpy(order.astype(np.int64))
    return SplitIndices(
        val=order_t[:n_val],
        test=order_t[n_val : n_val + n_test],
        train=order_t[n_val + n_test :],
    )


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    for name, value in (("validation fraction", val_fraction), ("test fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise DataError(
                f"the {name} must be a number from 0 up to (not including) 1, got {value!r}"
            )
    if val_fraction + test_fraction >= 1:
        raise DataError(
            f"the validation fraction ({val_fraction:g}) and test fraction ({test_fraction:g}) "
            f"add up to {val_fraction + test_fraction:g}, leaving nothing for training"
        )


def _stratified_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Give the k-th (shuffled) member of a class of size m the rank (k + 0.5) / m and sort by it:
    # every prefix of the order then holds each class in proportion to its size (±1).
    # Equal ranks (classes of equal size) are ordered randomly so no class is favoured.
    n = len(labels)
    ranks = np.empty(n, dtype=np.float64)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        shuffled = rng.permutation(members)
        ranks[shuffled] = (np.arange(len(members)) + 0.5) / len(members)
    tie_break = rng.random(n)
    return np.lexsort((tie_break, ranks))


def _round(x: float) -> int:
    return math.floor(x + 0.5)
