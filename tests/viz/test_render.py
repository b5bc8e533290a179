"""The PNG pictures: nearest-neighbour tiles with a border, labels only where they fit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from designer.viz import Confusion, VizError
from designer.viz.render import (
    BACKGROUND,
    BORDER,
    MARGIN,
    OUTSIDE,
    grid_image,
    render_confusion,
    save_png,
)


def test_tiles_are_upscaled_nearest_neighbour_inside_a_border():
    tile = np.array([[0.0, 1.0], [0.5, np.nan]], dtype=np.float32)
    img = np.asarray(grid_image([tile], 1))
    s = 16  # 2-pixel tiles are enlarged as far as the largest scale, 16
    x0 = y0 = MARGIN + 1  # inside the one-pixel border
    block = {
        (r, c): img[y0 + r * s : y0 + (r + 1) * s, x0 + c * s : x0 + (c + 1) * s]
        for r in (0, 1)
        for c in (0, 1)
    }
    assert (block[0, 0] == 0).all() and (block[0, 1] == 255).all() and (block[1, 0] == 128).all()
    assert (block[1, 1] == OUTSIDE).all()  # NaN = outside the image
    assert (
        tuple(img[MARGIN, MARGIN]) == BORDER
        and tuple(img[MARGIN + 2 * s + 1, MARGIN + 5]) == BORDER
    )
    assert tuple(img[MARGIN - 1, MARGIN - 1]) == BACKGROUND


def ink_below(img: np.ndarray, top: int) -> bool:
    return bool((img[top:] < 100).all(axis=2).any())


def test_labels_are_drawn_only_where_they_fit():
    tile = np.zeros((4, 4), dtype=np.float32)
    bottom = MARGIN + 48 + 2  # tile (4 px x 12 = 48 px) plus its border
    short = np.asarray(grid_image([tile], 1, labels=["7"]))
    long = np.asarray(grid_image([tile], 1, labels=["a label far too wide for its tile"]))
    assert ink_below(short, bottom)
    assert not ink_below(long, bottom)


def test_rgb_tiles_keep_their_colors():
    tile = np.zeros((3, 3, 3), dtype=np.float32)
    tile[..., 0] = 1.0  # pure red
    img = np.asarray(grid_image([tile, None], 2))
    assert tuple(img[MARGIN + 10, MARGIN + 10]) == (255, 0, 0)


def test_confusion_cells_are_shaded_by_row_fraction():
    conf = Confusion(["cat", "dog"], np.array([[5, 0], [1, 3]]))
    img = np.asarray(render_confusion(conf, "test"))
    colors = {tuple(p) for p in img.reshape(-1, 3)}
    assert (33, 102, 172) in colors  # a row's only class: full blue
    assert conf.accuracy == pytest.approx(8 / 9)
    assert conf.per_class_accuracy.tolist() == [1.0, 0.75]


def test_save_png_is_atomic_and_reports_unwritable_paths(tmp_path):
    out = tmp_path / "grid.png"
    save_png(grid_image([np.zeros((2, 2))], 1), out)
    assert Image.open(out).format == "PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    with pytest.raises(VizError, match="cannot write .*missing"):
        save_png(grid_image([np.zeros((2, 2))], 1), tmp_path / "missing" / "x.png")
