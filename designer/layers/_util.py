"""Small helpers shared by the layer families: input checks and constructor formatting."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.params import pair
from designer.core.registry import Shape, shape_str


def need_image(title: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(
            f"{title} needs an image-shaped input (C x H x W) but gets {shape_str(shape)}; "
            "it cannot follow Flatten or Linear"
        )
    return shape  # type: ignore[return-value]


def size_src(v) -> str:
    """int stays int; [h, w] becomes a tuple, as torchvision writes them."""
    h, w = pair(v)
    return str(h) if h == w and not isinstance(v, (list, tuple)) else f"({h}, {w})"


def call(ctor: str, *args, **kwargs) -> str:
    """Format a constructor call; kwargs whose value is `None` are left out."""
    parts = [str(a) for a in args]
    parts += [f"{k}={v}" for k, v in kwargs.items() if v is not None]
    return f"{ctor}({', '.join(parts)})"


def conv_out(size: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    if ceil:
        out = -(-span // s) + 1
        if (out - 1) * s >= size + p:  # PyTorch: the last window must start inside the input
            out -= 1
        return out
    return span // s + 1
