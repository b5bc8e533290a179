"""Mini-batches from in-memory tensors: plain indexing, no DataLoader workers or collation.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from designer.data.augment import Augmentation, augment_batch
from designer.data.errors import DataError
from designer.data.preprocess import NormStats

_SEED_LIMIT = 2**62


def iterate_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
    augmentation: Augmentation | None = None,
    *,
    stats: NormStats | None = None,
    image_shape: tuple[int, int, int] | None = None,
    start_batch: int = 0,
    drop_last: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of (xb, yb) batches.

    All of the epoch's randomness (the order, one augmentation seed per batch) is drawn from
    ``generator`` during this call, before the first batch. So saving the generator state
    before the call and restoring it later replays the epoch exactly, and ``start_batch=k``
    resumes it at batch k without computing the batches before it.

    stats: pass PreparedData.stats so augmentation works on rescaled pixels (brightness,
        contrast and the zero fill then mean what they say), not on normalized values.
    image_shape: C×H×W for data flattened for a vector input, so it can still be augmented.
    shard: (rank, processes): only every processes-th sample of each batch, from the rank-th on,
        augmented with its own random numbers; the share of one process when several train
        together (DistributedDataParallel). (0, 1), the default, is the whole batch. A last
        batch with fewer samples than processes is dropped.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"the batch size must be a whole number of at least 1, got {batch_size!r}")
    if isinstance(start_batch, bool) or not isinstance(start_batch, int) or start_batch < 0:
        raise DataError(
            f"the batch to start from must be a whole number of at least 0, got {start_batch!r}"
        )
    rank, processes = shard
    if not 0 <= rank < processes:
        raise ValueError(f"shard {shard!r} must be (rank, processes) with 0 <= rank < processes")
    if len(x) != len(y):
        raise DataError(f"there are {len(x)} inputs but {len(y)} labels")
    augment = augmentation is not None and augmentation.is_active
    if (shuffle or augment) and generator is None:
        raise ValueError("shuffling or augmenting needs a torch.Generator")
    if augment and x.dim() != 4 and image_shape is None:
        raise DataError(
            f"augmentation needs images (N×C×H×W), but the inputs have shape {tuple(x.shape)}; "
            f"pass image_shape for inputs flattened for a vector input"
        )

    n = len(x)
    count = batch_count(n, batch_size, drop_last=drop_last, processes=processes)
    order = torch.randperm(n, generator=generator) if shuffle else None
    seeds = torch.randint(_SEED_LIMIT, (count,), generator=generator) if augment else None
    return _batches(
        x, y, batch_size, count, order, seeds, augmentation, stats, image_shape, start_batch, shard
    )


def batch_count(n: int, batch_size: int, *, drop_last: bool = False, processes: int = 1) -> int:
    """How many batches iterate_batches gives for n samples (see its drop_last and shard)."""
    count = n // batch_size if drop_last else -(-n // batch_size)
    if count and min(batch_size, n - (count - 1) * batch_size) < processes:
        count -= 1  # a last batch too small to give every process a sample
    return count


def _batches(
    x, y, batch_size, count, order, seeds, augmentation, stats, image_shape, start_batch, shard
):
    rank, processes = shard
    for b in range(start_batch, count):
        lo, hi = b * batch_size, min((b + 1) * batch_size, len(x))
        if order is None and processes == 1:
            xb, yb = x[lo:hi], y[lo:hi]  # a view, no copy
        else:
            index = torch.arange(lo, hi) if order is None else order[lo:hi]
            index = index[rank::processes]
            xb, yb = x[index], y[index]
        if seeds is not None:
            generator = torch.Generator().manual_seed(int(seeds[b]) + rank)
            xb = _augment(xb, augmentation, generator, stats, image_shape)
        yield xb, yb


def _augment(xb, augmentation, generator, stats, image_shape):
    flat_shape = xb.shape if xb.dim() != 4 else None
    if flat_shape is not None:
        xb = xb.reshape(len(xb), *image_shape)
    if stats is not None:
        xb = stats.normalize(augment_batch(stats.denormalize(xb), augmentation, generator))
    else:
        xb = augment_batch(xb, augmentation, generator)
    return xb.reshape(flat_shape) if flat_shape is not None else xb
