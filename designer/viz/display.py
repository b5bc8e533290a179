"""Network inputs back to pictures: undo the normalization, so patches and inputs are shown as
the images were, with pixel values in 0..1."""

from __future__ import annotations

import numpy as np
import torch


def display_images(x: torch.Tensor, stats, image_shape: tuple[int, int, int]) -> torch.Tensor:
    """N network inputs (images or flattened vectors) -> N x C x H x W in 0..1.

    stats: designer.data.NormStats of the data the inputs were prepared with.
    """
    images = x.reshape(len(x), *image_shape)
    pixels = stats.denormalize(images) / (255.0 * stats.rescale)
    return pixels.clamp(0.0, 1.0)


def as_picture(image: torch.Tensor) -> np.ndarray:
    """One C x H x W display image -> H x W x C numpy, as the renderer takes it."""
    return image.permute(1, 2, 0).float().numpy()
