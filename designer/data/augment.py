"""Random training-time augmentation, vectorized over the batch.

The geometric knobs (flips, crop, rotation, shear, zoom, shifts) become one affine matrix per
image, applied to the whole batch by a single affine_grid + grid_sample. The photometric knobs
(brightness, contrast, channel shift) are broadcast arithmetic. Values are in whatever units the
batch is in; iterate_batches hands over rescaled pixels (e.g. 0..1), as Keras does.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from designer.core.settings import (
    check_range,
    check_setting_types,
    settings_from_dict,
    settings_to_dict,
)
from designer.data.errors import DataError

# Keras fill_mode names -> grid_sample padding modes
FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}
# The allowed range of each numeric knob. Near 90° of shear the image collapses to a line; a
# zoom factor of 0 would be degenerate.
AUGMENTATION_RANGES = {
    "crop_padding": (0, 1024),
    "rotation_range": (0, 180),
    "shear_range": (0, 80),
    "zoom_range": (0, 0.95),
    "width_shift_range": (0, 1),
    "height_shift_range": (0, 1),
    "channel_shift_range": (0, math.inf),
    "brightness_range": (0, 1),
    "contrast_range": (0, 1),
}


@dataclass(frozen=True)
class Augmentation:
    """Keras ImageDataGenerator-like knobs; the defaults change nothing.

    horizontal_flip / vertical_flip: flip half of the images.
    crop_padding: random crop after padding each side by this many pixels (a shift of up to
        that many whole pixels; the uncovered border is filled per fill_mode).
    rotation_range, shear_range: degrees, drawn from ±range.
    zoom_range: scale each axis by a factor from [1 - z, 1 + z].
    width_shift_range / height_shift_range: shift by up to this fraction of the width/height.
    channel_shift_range: add a value from ±range to each channel (in the batch's units).
    brightness_range: multiply by a factor from [1 - b, 1 + b].
    contrast_range: scale the distance from the image's mean by a factor from [1 - c, 1 + c].
    fill_mode: what geometric transforms show outside the image: "constant" (zero),
        "nearest" (edge pixels) or "reflect".
    """

    horizontal_flip: bool = False
    vertical_flip: bool = False
    crop_padding: int = 0
    rotation_range: float = 0.0
    shear_range: float = 0.0
    zoom_range: float = 0.0
    width_shift_range: float = 0.0
    height_shift_range: float = 0.0
    channel_shift_range: float = 0.0
    brightness_range: float = 0.0
    contrast_range: float = 0.0
    fill_mode: str = "constant"

    def __post_init__(self) -> None:
        check_setting_types(self, "augmentation", DataError)
        for name, (low, high) in AUGMENTATION_RANGES.items():
            check_range("augmentation", name, getattr(self, name), low, high, DataError)
        if self.fill_mode not in FILL_MODES:
            raise DataError(
                f"augmentation setting 'fill_mode' must be one of {', '.join(FILL_MODES)}, "
                f"got {self.fill_mode!r}"
            )

    @property
    def has_geometric(self) -> bool:
        return bool(
            self.horizontal_flip
            or self.vertical_flip
            or self.crop_padding
            or self.rotation_range
            or self.shear_range
            or self.zoom_range
            or self.width_shift_range
            or self.height_shift_range
        )

    @property
    def has_photometric(self) -> bool:
        return bool(self.channel_shift_range or self.brightness_range or self.contrast_range)

    @property
    def is_active(self) -> bool:
        return self.has_geometric or self.has_photometric

    def to_dict(self) -> dict[str, Any]:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Augmentation:
        return settings_from_dict(cls, data, "augmentation", DataError)


def augment_batch(x: torch.Tensor, aug: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """Randomly augment a float N×C×H×W batch; ``x`` itself is never modified.

    All random numbers come from ``generator`` (a CPU generator), so the result is fixed by
    its state. With every knob off, ``x`` is returned as is.
    """
    if not aug.is_active:
        return x
    if x.dim() != 4:
        raise DataError(
            f"augmentation needs a batch of images (N×C×H×W), got shape {tuple(x.shape)}"
        )
    if aug.has_geometric:
        x = _geometric(x, aug, generator)
    if aug.has_photometric:
        x = _photometric(x, aug, generator)
    return x


def preview_grid(
    image: torch.Tensor, aug: Augmentation, n: int = 16, seed: int = 0
) -> torch.Tensor:
    """``n`` augmented versions (n×C×H×W) of one C×H×W image, the same for the same seed."""
    if image.dim() != 3:
        raise DataError(f"preview_grid needs one image (C×H×W), got shape {tuple(image.shape)}")
    batch = image.float().unsqueeze(0).expand(n, -1, -1, -1).contiguous()
    return augment_batch(batch, aug, torch.Generator().manual_seed(seed))


def _uniform(n: int, half_width: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1) * half_width


def _geometric(x: torch.Tensor, aug: Augmentation, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    # Per-image 2×2 matrix L and shift t, in pixels about the image centre, mapping output
    # pixel positions to the input positions they sample (the transforms are drawn
    # symmetrically, so describing the inverse map is as good as the forward one).
    lin = torch.eye(2, dtype=torch.float64).repeat(n, 1, 1)
    shift = torch.zeros(n, 2, dtype=torch.float64)
    if aug.horizontal_flip:
        lin[:, 0, 0] = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    if aug.vertical_flip:
        lin[:, 1, 1] = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    if aug.zoom_range:
        zoom = torch.zeros(n, 2, 2, dtype=torch.float64)
        zoom[:, 0, 0] = 1 + _uniform(n, aug.zoom_range, g)
        zoom[:, 1, 1] = 1 + _uniform(n, aug.zoom_range, g)
        lin = zoom @ lin
    if aug.shear_range:
        s = torch.deg2rad(_uniform(n, aug.shear_range, g))
        shear = torch.zeros(n, 2, 2, dtype=torch.float64)
        shear[:, 0, 0], shear[:, 0, 1], shear[:, 1, 1] = 1.0, -torch.sin(s), torch.cos(s)
        lin = shear @ lin
    if aug.rotation_range:
        a = torch.deg2rad(_uniform(n, aug.rotation_range, g))
        cos, sin = torch.cos(a), torch.sin(a)
        rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        lin = rot @ lin
    if aug.width_shift_range:
        shift[:, 0] += _uniform(n, aug.width_shift_range * w, g)
    if aug.height_shift_range:
        shift[:, 1] += _uniform(n, aug.height_shift_range * h, g)
    if aug.crop_padding:
        p = aug.crop_padding
        shift += torch.randint(-p, p + 1, (n, 2), generator=g, dtype=torch.int64).double()

    # Pixels -> grid_sample's normalized coordinates (align_corners=False: x_norm = x_px / (W/2)).
    half = torch.tensor([w / 2, h / 2], dtype=torch.float64)
    theta = torch.empty(n, 2, 3, dtype=torch.float64)
    theta[:, :, :2] = lin * half.view(1, 1, 2) / half.view(1, 2, 1)
    theta[:, :, 2] = shift / half
    theta = theta.to(dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(
        x, grid, mode="bilinear", padding_mode=FILL_MODES[aug.fill_mode], align_corners=False
    )


def _photometric(x: torch.Tensor, aug: Augmentation, g: torch.Generator) -> torch.Tensor:
    n, c = x.shape[:2]

    def per_image(values: torch.Tensor) -> torch.Tensor:
        return values.to(dtype=x.dtype, device=x.device).view(n, 1, 1, 1)

    if aug.brightness_range:
        x = x * per_image(1 + _uniform(n, aug.brightness_range, g))
    if aug.contrast_range:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * per_image(1 + _uniform(n, aug.contrast_range, g)) + mean
    if aug.channel_shift_range:
        offsets = _uniform(n * c, aug.channel_shift_range, g).view(n, c, 1, 1)
        x = x + offsets.to(dtype=x.dtype, device=x.device)
    return x
