"""Turning uint8 images into the float tensors a design takes.

Order: channels (gray <-> RGB), resize to the design's H×W, rescale, then center/standardize
with statistics fitted on the training split only (fitting on validation or test data would
leak them into training).

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from designer.core.settings import check_setting_types, settings_from_dict, settings_to_dict
from designer.data.errors import DataError

CENTER_CHOICES = ("none", "mean_image", "mean_pixel")
# ITU-R 601-2 luma, the weights Pillow's "L" conversion uses.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_CHUNK = 4096  # images converted at once; bounds the float32 working memory
_STD_FLOOR = 1e-7  # a constant channel would otherwise divide by zero


@dataclass(frozen=True)
class Preprocessing:
    """How pixel values become network inputs.

    rescale: multiplies the 0..255 pixel values (default 1/255 -> 0..1).
    center: "none", "mean_image" (subtract the mean training image) or
        "mean_pixel" (subtract the per-channel mean of the training pixels).
    standardize: divide each channel by its training standard deviation.
    mean, std: fixed per-channel statistics of rescaled pixels (e.g. ImageNet's, which
        torchvision's pretrained weights expect), used instead of fitted ones; one value per
        channel, or one for all.
    """

    rescale: float = 1 / 255
    center: str = "none"
    standardize: bool = False
    mean: list | None = None
    std: list | None = None

    def __post_init__(self) -> None:
        check_setting_types(self, "preprocessing", DataError)
        if not self.rescale > 0:
            raise DataError(
                f"preprocessing setting 'rescale' must be above 0, got {self.rescale!r}"
            )
        if self.center not in CENTER_CHOICES:
            raise DataError(
                f"preprocessing setting 'center' must be one of {', '.join(CENTER_CHOICES)}, "
                f"got {self.center!r}"
            )
        self._check_fixed_statistics()

    def _check_fixed_statistics(self) -> None:
        if self.mean is None and self.std is None:
            return
        if self.mean is None or self.std is None:
            raise DataError(
                "preprocessing settings 'mean' and 'std' go together; give both or neither"
            )
        for key in ("mean", "std"):
            values = getattr(self, key)
            if not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            ):
                raise DataError(
                    f"preprocessing setting '{key}' must be a list of numbers, one per "
                    f"channel, got {values!r}"
                )
        if len(self.mean) != len(self.std):
            raise DataError(
                f"preprocessing setting 'mean' has {len(self.mean)} values but 'std' "
                f"has {len(self.std)}"
            )
        if not all(v > 0 for v in self.std):
            raise DataError(
                f"preprocessing setting 'std' must be above 0 for every channel, got {self.std}"
            )
        if self.center != "none" or self.standardize:
            raise DataError(
                "preprocessing settings 'mean' and 'std' replace fitted statistics; "
                "set center to none and standardize to false, or drop mean and std"
            )

    def to_dict(self) -> dict[str, Any]:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Preprocessing:
        return settings_from_dict(cls, data, "preprocessing", DataError)


@dataclass
class NormStats:
    """The statistics fitted on the training split, needed again for any new input.

    mean: C×H×W (center="mean_image"), C×1×1 (center="mean_pixel") or None.
    std: C×1×1 (standardize=True) or None.
    """

    rescale: float
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Rescaled images (N×C×H×W) -> network inputs."""
        if self.mean is not None:
            x = x - self.mean.to(x.device)
        if self.std is not None:
            x = x / self.std.to(x.device)
        return x

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Network inputs -> rescaled images; the inverse of ``normalize``."""
        if self.std is not None:
            x = x * self.std.to(x.device)
        if self.mean is not None:
            x = x + self.mean.to(x.device)
        return x

    @property
    def is_identity(self) -> bool:
        return self.mean is None and self.std is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rescale": self.rescale,
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormStats:
        def tensor(key: str) -> torch.Tensor | None:
            value = data.get(key)
            if value is None:
                return None
            try:
                t = torch.tensor(value, dtype=torch.float32)
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"normalization statistics '{key}' must be nested lists of numbers: {exc}"
                ) from exc
            if t.dim() != 3:
                raise DataError(
                    f"normalization statistics '{key}' must be C×H×W, got shape {tuple(t.shape)}"
                )
            return t

        rescale = data.get("rescale")
        if isinstance(rescale, bool) or not isinstance(rescale, (int, float)) or not rescale > 0:
            raise DataError(
                f"normalization statistics 'rescale' must be a number above 0, got {rescale!r}"
            )
        return cls(rescale=float(rescale), mean=tensor("mean"), std=tensor("std"))


def match_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Gray -> RGB by repeating the channel, RGB -> gray by luma weights; float N×C×H×W."""
    have = x.shape[1]
    if have == channels:
        return x
    if have == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if have == 3 and channels == 1:
        weights = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    raise DataError(
        f"the images have {have} channel(s) but the design's input has {channels}; "
        f"only grayscale (1) and RGB (3) can be converted into each other"
    )


def resize_images(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of float N×C×H×W; antialiased so shrinking does not alias."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


def image_shape_for_input(
    input_shape: tuple[int, ...], source_shape: tuple[int, int, int]
) -> tuple[int, int, int]:
    """The C×H×W the images must have to feed a design with ``input_shape``.

    Image inputs (C, H, W) are used as they are. For a vector input (N,) the images keep their
    channels and become square with C·side² = N, unless they already hold N values.
    """
    check_input_shape(input_shape)
    if len(input_shape) == 3:
        c, h, w = input_shape
        return (c, h, w)
    c, h, w = source_shape
    n = input_shape[0]
    if c * h * w == n:
        return (c, h, w)
    side = math.isqrt(n // c)
    if n % c == 0 and c * side * side == n:
        return (c, side, side)
    raise DataError(
        f"the design's input is a vector of {n} features but the images have "
        f"{c}×{h}×{w} = {c * h * w} values; a vector input needs {c}×side×side values "
        f"(e.g. {c * h * w}), and {n} is not of that form"
    )


def check_input_shape(input_shape: tuple[int, ...]) -> None:
    """A design input is an image (C, H, W) or a vector (N,), in positive whole numbers."""
    if len(input_shape) not in (1, 3):
        raise DataError(
            f"the design's input shape {tuple(input_shape)} is neither an image "
            f"(channels, height, width) nor a vector (features,)"
        )
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape):
        raise DataError(
            f"the design's input shape {tuple(input_shape)} must be positive whole numbers"
        )


def to_float_images(
    images: torch.Tensor, shape: tuple[int, int, int], rescale: float
) -> torch.Tensor:
    """uint8 N×C×H×W -> rescaled float32 N×shape, converted in chunks to bound memory."""
    c, h, w = shape
    out = torch.empty((len(images), c, h, w), dtype=torch.float32)
    for start in range(0, len(images), _CHUNK):
        chunk = images[start : start + _CHUNK].float()
        chunk = resize_images(match_channels(chunk, c), (h, w))
        out[start : start + _CHUNK] = chunk * rescale
    return out


def fit_stats(x: torch.Tensor, config: Preprocessing) -> NormStats:
    """Fit centering/standardization statistics on rescaled training images (N×C×H×W)."""
    stats = NormStats(rescale=config.rescale)
    if config.mean is not None:
        return _fixed_stats(config, x.shape[1])
    if config.center == "none" and not config.standardize:
        return stats
    if len(x) == 0:
        raise DataError("cannot fit normalization statistics: the training split is empty")
    c = x.shape[1]
    # Accumulate in float64, chunk by chunk: float32 sums over millions of pixels drift.
    total = torch.zeros(x.shape[1:], dtype=torch.float64)
    for start in range(0, len(x), _CHUNK):
        total += x[start : start + _CHUNK].sum(dim=0, dtype=torch.float64)
    mean_image = total / len(x)
    mean_pixel = mean_image.mean(dim=(1, 2), keepdim=True)
    if config.center == "mean_image":
        stats.mean = mean_image.float()
    elif config.center == "mean_pixel":
        stats.mean = mean_pixel.float()
    if config.standardize:
        # Spread around the mean that is subtracted (the per-channel mean when not centering),
        # so standardized training inputs have unit variance per channel.
        around = mean_image if config.center == "mean_image" else mean_pixel
        squares = torch.zeros(c, dtype=torch.float64)
        around32 = around.float()
        for start in range(0, len(x), _CHUNK):
            diff = x[start : start + _CHUNK] - around32
            squares += diff.pow(2).sum(dim=(0, 2, 3), dtype=torch.float64)
        std = (squares / (len(x) * x.shape[2] * x.shape[3])).sqrt().clamp_min(_STD_FLOOR)
        stats.std = std.view(c, 1, 1).float()
    return stats


def _fixed_stats(config: Preprocessing, channels: int) -> NormStats:
    if len(config.mean) not in (1, channels):
        raise DataError(
            f"preprocessing settings 'mean' and 'std' have {len(config.mean)} "
            f"values but the images have {channels} channel(s)"
        )

    def per_channel(values: list) -> torch.Tensor:
        t = torch.tensor(values, dtype=torch.float32)
        return t.expand(channels).reshape(channels, 1, 1).clone()

    return NormStats(config.rescale, per_channel(config.mean), per_channel(config.std))


def to_network_input(
    images: torch.Tensor, input_shape: tuple[int, ...], stats: NormStats
) -> torch.Tensor:
    """uint8 images (N×C×H×W) -> what a design with ``input_shape`` takes, with fitted stats.

    The same path prepare_data uses, for new inputs after training (e.g. one image to visualize).
    """
    source_shape = tuple(images.shape[1:])
    shape = image_shape_for_input(tuple(input_shape), source_shape)  # type: ignore[arg-type]
    x = stats.normalize(to_float_images(images, shape, stats.rescale))
    return x.reshape(len(x), -1) if len(input_shape) == 1 else x
