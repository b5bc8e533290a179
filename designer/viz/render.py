"""PNG pictures of the visualization arrays, drawn with Pillow alone (no plotting library).

Tiles are upscaled with nearest-neighbour so each weight or pixel stays a crisp square, framed
by a thin border, and labelled wherever the label fits under its tile.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from designer.core.atomic import atomic_path
from designer.viz.activations import ActivationMaps
from designer.viz.attribution import Attribution
from designer.viz.confusion import Confusion
from designer.viz.errors import VizError
from designer.viz.filters import FilterTiles
from designer.viz.top_patches import TopPatches

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
BORDER = (150, 150, 150)
OUTSIDE = (110, 140, 175)  # patch pixels beyond the image border (the padding)
MIN_TILE_PX = 48  # tiles are enlarged to at least this many pixels across
MAX_SCALE = 16
MARGIN, GAP = 8, 4


def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default()


def _text_size(draw: ImageDraw.ImageDraw, text: str, font) -> tuple[int, int]:
    left, _top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom


def to_rgb8(tile: np.ndarray) -> np.ndarray:
    """H x W or H x W x 3 floats in 0..1 (NaN = outside the image) -> H x W x 3 uint8."""
    t = np.asarray(tile, dtype=np.float32)
    if t.ndim == 2:
        t = t[:, :, None]
    if t.shape[2] == 1:
        t = np.repeat(t, 3, axis=2)
    outside = np.isnan(t).any(axis=2)
    rgb = (np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    rgb[outside] = OUTSIDE
    return rgb


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def tile_scale(h: int, w: int) -> int:
    return max(1, min(MAX_SCALE, math.ceil(MIN_TILE_PX / max(h, w, 1))))


def grid_image(
    tiles: list[np.ndarray | None],
    columns: int,
    *,
    title: str = "",
    labels: list[str] | None = None,
    row_labels: list[str] | None = None,
    column_labels: list[str] | None = None,
    header: np.ndarray | None = None,
    header_label: str = "",
) -> Image.Image:
    """A grid of equally sized tiles (floats in 0..1; None leaves a cell empty).

    labels go under their tile, row_labels left of each row, column_labels above each column,
    each only where it fits; `header` is an extra picture shown under the title.
    """
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    shown = [t for t in tiles if t is not None]
    th, tw = (max(t.shape[0] for t in shown), max(t.shape[1] for t in shown)) if shown else (1, 1)
    s = tile_scale(th, tw)
    cell_w, cell_h = tw * s + 2, th * s + 2  # + the one-pixel border on each side
    columns = max(1, min(columns, len(tiles)))
    rows = max(1, math.ceil(len(tiles) / columns))
    line_h = _text_size(probe, "Ag0", font)[1] + 2
    label_h = line_h if labels else 0
    left = (
        max((_text_size(probe, t, font)[0] for t in row_labels), default=0) + GAP
        if row_labels
        else 0
    )
    col_h = line_h if column_labels else 0
    title_h = line_h + GAP if title else 0
    head_img = None
    if header is not None:
        hs = tile_scale(*header.shape[:2])
        head_img = upscale(to_rgb8(header), hs)
    head_h = head_img.shape[0] + 2 + GAP if head_img is not None else 0

    width = max(
        MARGIN * 2 + left + columns * (cell_w + GAP) - GAP,
        MARGIN * 2 + _text_size(probe, title, font)[0] if title else 0,
    )
    if head_img is not None:
        width = max(
            width,
            MARGIN * 2 + head_img.shape[1] + 2 + GAP + _text_size(probe, header_label, font)[0],
        )
    height = MARGIN * 2 + title_h + head_h + col_h + rows * (cell_h + label_h + GAP) - GAP
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    y0 = MARGIN
    if title:
        draw.text((MARGIN, y0), title, fill=INK, font=font)
        y0 += title_h
    if head_img is not None:
        _framed(img, draw, head_img, MARGIN, y0)
        draw.text((MARGIN + head_img.shape[1] + 2 + GAP, y0), header_label, fill=INK, font=font)
        y0 += head_h
    x0 = MARGIN + left
    if column_labels:
        for c, text in enumerate(column_labels[:columns]):
            _label(draw, text, font, x0 + c * (cell_w + GAP), y0, cell_w + GAP)
        y0 += col_h
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        x, y = x0 + c * (cell_w + GAP), y0 + r * (cell_h + label_h + GAP)
        if row_labels and c == 0 and r < len(row_labels):
            _, th_ = _text_size(probe, row_labels[r], font)
            draw.text((MARGIN, y + (cell_h - th_) // 2), row_labels[r], fill=INK, font=font)
        if tile is None:
            continue
        pix = np.full((th * s, tw * s, 3), BACKGROUND, dtype=np.uint8)
        up = upscale(to_rgb8(tile), s)
        pix[: up.shape[0], : up.shape[1]] = up
        _framed(img, draw, pix, x, y)
        if labels and i < len(labels):
            _label(draw, labels[i], font, x, y + cell_h + 1, cell_w + GAP)
    return img


def _framed(img: Image.Image, draw: ImageDraw.ImageDraw, pix: np.ndarray, x: int, y: int) -> None:
    draw.rectangle([x, y, x + pix.shape[1] + 1, y + pix.shape[0] + 1], outline=BORDER)
    img.paste(Image.fromarray(pix), (x + 1, y + 1))


def _label(draw, text: str, font, x: int, y: int, room: int) -> None:
    w, _ = _text_size(draw, text, font)
    if w <= room:
        draw.text((x + max(0, (room - GAP - w) // 2), y), text, fill=INK, font=font)


def _columns(n: int, limit: int = 16) -> int:
    return max(1, min(limit, math.ceil(math.sqrt(n))))


# -- the four pictures -------------------------------------------------------------------------
def scale_strip(width: int = 96, height: int = 8) -> np.ndarray:
    """A black-to-white gradient, the value scale shown beside gray tiles."""
    return np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))


def filter_scale_text(f: FilterTiles) -> str:
    lo, hi = f.value_range
    if f.shared:
        return f"one scale: black {f.scale[0]:.3g}, gray 0, white {f.scale[1]:.3g}"
    return f"each tile from its own min (black) to max (white); weights {lo:.3g} .. {hi:.3g}"


def render_filters(f: FilterTiles) -> Image.Image:
    n, per, kh, kw = f.weights.shape
    how = "one scale" if f.shared else "normalized per tile"
    title = f"{f.node_name}: {n} filters, {per} input channel(s) each, {kh}x{kw} ({how})"
    scale = {"header": scale_strip(), "header_label": filter_scale_text(f)}
    if f.mode == "channels" and per > 1:
        tiles = [f.tiles[i, j] for i in range(n) for j in range(per)]
        return grid_image(
            tiles,
            per,
            title=title,
            row_labels=[str(i) for i in range(n)],
            column_labels=[f"in {j}" for j in range(per)],
            **scale,
        )
    if f.mode == "mean":
        title += "; mean over input channels"
    tiles = [f.tiles[i, 0] for i in range(n)]
    return grid_image(tiles, _columns(n), title=title, labels=[str(i) for i in range(n)], **scale)


def render_top_patches(t: TopPatches) -> Image.Image:
    c, k = t.values.shape
    title = f"{t.node_name}: top {k} images per channel ({t.field_text}; blue = outside the image)"
    tiles, labels = [], []
    for ci in range(c):
        for j in range(k):
            missing = t.image_index[ci, j] < 0
            tiles.append(None if missing else t.patches[ci, j])
            labels.append("" if missing else f"{t.values[ci, j]:.2f}")
    return grid_image(
        tiles, k, title=title, labels=labels, row_labels=[f"ch {ch}" for ch in t.channels]
    )


def render_activations(a: ActivationMaps, image: np.ndarray | None = None) -> Image.Image:
    """Maps on one shared scale; `image` (H x W x ch in 0..1) is the input, shown on top."""
    lo, hi = a.value_range
    span = hi - lo if hi > lo else 1.0
    tiles = [(m - lo) / span for m in a.maps]
    c, h, w = a.maps.shape
    title = (
        f"{a.node_name}: {c} channel(s) of {h}x{w}, "
        f"one scale from {lo:.3g} (black) to {hi:.3g} (white)"
    )
    return grid_image(
        tiles,
        _columns(c, 32 if h * w == 1 else 16),
        title=title,
        labels=[str(i) for i in range(c)],
        header=image,
        header_label="input",
    )


def render_confusion(conf: Confusion, split: str = "") -> Image.Image:
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    k = len(conf.classes)
    m = conf.matrix
    cell = max(22, max(_text_size(probe, str(v), font)[0] for v in m.ravel()) + 8)
    names = [_fit(probe, name, font, 90) for name in conf.classes]
    left = max(_text_size(probe, n, font)[0] for n in names) + GAP
    line_h = _text_size(probe, "Ag0", font)[1] + 2
    acc_w = _text_size(probe, "100.0%", font)[0] + GAP * 2
    on = f" on {int(m.sum())} {split} samples" if split else f" on {int(m.sum())} samples"
    title = f"accuracy {conf.accuracy:.1%}{on}; rows: true class, columns: predicted"
    width = max(
        MARGIN * 2 + left + k * cell + acc_w, MARGIN * 2 + _text_size(probe, title, font)[0]
    )
    height = MARGIN * 2 + 2 * line_h + GAP + k * cell
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.text((MARGIN, MARGIN), title, fill=INK, font=font)
    x0, y0 = MARGIN + left, MARGIN + 2 * line_h + GAP
    for j, name in enumerate(names):  # predicted classes along the top, where they fit
        _label(draw, name, font, x0 + j * cell, y0 - line_h, cell + GAP)
    draw.text((x0 + k * cell + GAP, y0 - line_h), "acc.", fill=INK, font=font)
    rows = m.sum(axis=1)
    acc = conf.per_class_accuracy
    for i in range(k):
        y = y0 + i * cell
        draw.text((MARGIN, y + (cell - line_h) // 2), names[i], fill=INK, font=font)
        for j in range(k):
            frac = m[i, j] / rows[i] if rows[i] else 0.0
            color = tuple(int(255 + (c - 255) * frac) for c in (33, 102, 172))
            x = x0 + j * cell
            draw.rectangle([x, y, x + cell, y + cell], fill=color, outline=BORDER)
            text = str(int(m[i, j]))
            tw, _ = _text_size(draw, text, font)
            draw.text(
                (x + (cell - tw) // 2, y + (cell - line_h) // 2 + 1),
                text,
                fill=(255, 255, 255) if frac > 0.5 else INK,
                font=font,
            )
        a = "-" if np.isnan(acc[i]) else f"{acc[i]:.1%}"
        draw.text((x0 + k * cell + GAP, y + (cell - line_h) // 2), a, fill=INK, font=font)
    return img


# -- heat maps ---------------------------------------------------------------------------------
_HEAT = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.34, 0.06, 0.43],
        [0.80, 0.16, 0.30],
        [0.98, 0.55, 0.04],
        [0.99, 0.99, 0.65],
    ],
    dtype=np.float32,
)  # black, purple, red, orange, pale yellow


def heat_colors(heat: np.ndarray) -> np.ndarray:
    """H x W values in 0..1 -> H x W x 3 colours (dark = no attribution, bright = most)."""
    h = np.clip(np.nan_to_num(heat), 0.0, 1.0) * (len(_HEAT) - 1)
    lo = np.floor(h).astype(int).clip(0, len(_HEAT) - 2)
    frac = (h - lo)[..., None]
    return _HEAT[lo] * (1 - frac) + _HEAT[lo + 1] * frac


def overlay(picture: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """The heat map's colours over a grayed copy of the picture (H x W x ch in 0..1), strongest
    where the heat is."""
    gray = np.repeat(np.nan_to_num(picture).mean(axis=2, keepdims=True), 3, axis=2)
    weight = (alpha * np.clip(heat, 0.0, 1.0))[..., None]
    return (gray * (1 - weight) + heat_colors(heat) * weight).astype(np.float32)


def render_attribution(a: Attribution, picture: np.ndarray) -> Image.Image:
    """The input, the heat map and the overlay side by side, with a scale."""
    tiles = [picture, heat_colors(a.heat), overlay(picture, a.heat)]
    strip = heat_colors(scale_strip())
    return grid_image(
        tiles,
        3,
        title=a.title,
        labels=["input", "heat", "overlay"],
        header=strip,
        header_label="none ... most",
    )


def _fit(draw, text: str, font, room: int) -> str:
    """The text, cut with an ellipsis so it is at most `room` pixels wide."""
    if _text_size(draw, text, font)[0] <= room:
        return text
    while text and _text_size(draw, text + "...", font)[0] > room:
        text = text[:-1]
    return text + "..."


def save_png(image: Image.Image, path: str | Path) -> None:
    """Write atomically (temp file + rename), so a failed write never leaves half a picture."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise VizError(f"cannot write {path}: {exc.strerror or exc}") from None
