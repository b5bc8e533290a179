"""augment_batch / preview_grid: off means untouched, on means random but reproducible."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from designer.data import Augmentation, DataError, augment_batch, preview_grid

ALL_GEOMETRIC = Augmentation(
    horizontal_flip=True,
    vertical_flip=True,
    crop_padding=2,
    rotation_range=20,
    shear_range=10,
    zoom_range=0.2,
    width_shift_range=0.1,
    height_shift_range=0.1,
)
EVERYTHING = Augmentation(
    **{
        **ALL_GEOMETRIC.to_dict(),
        "channel_shift_range": 0.1,
        "brightness_range": 0.2,
        "contrast_range": 0.2,
    }
)


def batch(n=8, c=3, h=10, w=14, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def test_no_knobs_returns_the_batch_itself():
    x = batch()
    assert augment_batch(x, Augmentation(), torch.Generator().manual_seed(0)) is x


def test_knobs_change_the_batch_but_not_the_input_or_its_shape():
    x = batch()
    before = x.clone()
    out = augment_batch(x, EVERYTHING, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(x, before)
    assert not torch.allclose(out, x, atol=1e-3)


def test_same_generator_state_same_result():
    x = batch()
    a = augment_batch(x, EVERYTHING, torch.Generator().manual_seed(3))
    b = augment_batch(x, EVERYTHING, torch.Generator().manual_seed(3))
    c = augment_batch(x, EVERYTHING, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_geometric_knobs_make_one_grid_sample_call_per_batch(monkeypatch):
    calls = []
    real = F.grid_sample

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "grid_sample", counting)
    out = augment_batch(batch(n=64), EVERYTHING, torch.Generator().manual_seed(0))
    assert out.shape == (64, 3, 10, 14)
    assert calls == [(64, 3, 10, 14)]


def test_flips_are_exact_mirror_images_of_a_non_square_image():
    x = batch(n=64, h=5, w=7)
    out = augment_batch(x, Augmentation(horizontal_flip=True), torch.Generator().manual_seed(0))
    same = (out - x).abs().amax(dim=(1, 2, 3)) < 1e-5
    mirrored = (out - x.flip(-1)).abs().amax(dim=(1, 2, 3)) < 1e-5
    assert torch.all(same | mirrored) and same.any() and mirrored.any()
    out = augment_batch(x, Augmentation(vertical_flip=True), torch.Generator().manual_seed(1))
    flipped = (out - x.flip(-2)).abs().amax(dim=(1, 2, 3)) < 1e-5
    assert torch.all(((out - x).abs().amax(dim=(1, 2, 3)) < 1e-5) | flipped) and flipped.any()


def _shifted(image, dy, dx):
    """The image moved by whole pixels, zeros where nothing moved in (a padded random crop)."""
    _, h, w = image.shape
    padded = F.pad(image, (2, 2, 2, 2))
    return padded[:, 2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w]


def test_crop_padding_is_a_whole_pixel_shift_with_zero_fill():
    x = batch(n=16, h=6, w=9) + 0.5  # no zeros in the images themselves
    out = augment_batch(x, Augmentation(crop_padding=2), torch.Generator().manual_seed(0))
    shifts = set()
    for image, result in zip(x, out):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.allclose(result, _shifted(image, dy, dx), atol=1e-5)
        ]
        assert matches, "each result must be the image moved by at most 2 whole pixels"
        shifts.add(matches[0])
    assert len(shifts) > 3


def test_fill_mode_nearest_leaves_no_zero_border():
    x = batch(n=16) + 0.5
    aug = Augmentation(rotation_range=45, zoom_range=0.5, fill_mode="nearest")
    assert augment_batch(x, aug, torch.Generator().manual_seed(0)).min() > 0.4
    constant = Augmentation(rotation_range=45, zoom_range=0.5, fill_mode="constant")
    assert augment_batch(x, constant, torch.Generator().manual_seed(0)).min() == 0


def test_brightness_scales_and_channel_shift_adds_within_range():
    x = batch(n=32) + 0.1
    out = augment_batch(x, Augmentation(brightness_range=0.3), torch.Generator().manual_seed(0))
    ratio = out / x
    per_image = ratio.flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image), atol=1e-5)
    assert per_image.min() >= 0.7 - 1e-6 and per_image.max() <= 1.3 + 1e-6
    out = augment_batch(x, Augmentation(channel_shift_range=0.2), torch.Generator().manual_seed(0))
    diff = (out - x).flatten(2)
    assert torch.allclose(diff, diff[:, :, :1].expand_as(diff), atol=1e-5)  # one offset per channel
    assert diff.abs().max() <= 0.2 + 1e-6
    assert not torch.allclose(diff[:, 0, 0], diff[:, 1, 0])  # channels shift independently


def test_contrast_keeps_each_images_mean():
    x = batch(n=16)
    out = augment_batch(x, Augmentation(contrast_range=0.5), torch.Generator().manual_seed(0))
    assert torch.allclose(out.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=1e-5)
    assert not torch.allclose(out, x)


def test_augmentation_needs_image_batches():
    with pytest.raises(DataError, match="N×C×H×W"):
        augment_batch(torch.rand(4, 10), EVERYTHING, torch.Generator())


def test_preview_grid_shows_reproducible_variants_of_one_image():
    image = torch.rand(3, 12, 12)
    grid = preview_grid(image, EVERYTHING, n=16, seed=5)
    assert grid.shape == (16, 3, 12, 12)
    assert torch.equal(grid, preview_grid(image, EVERYTHING, n=16, seed=5))
    assert not torch.allclose(grid, preview_grid(image, EVERYTHING, n=16, seed=6))
    assert not torch.allclose(grid[0], grid[1])
    plain = preview_grid(image, Augmentation(), n=4)
    assert plain.shape == (4, 3, 12, 12) and torch.equal(plain[3], image)


def test_settings_round_trip_through_json():
    assert Augmentation.from_dict(json.loads(json.dumps(EVERYTHING.to_dict()))) == EVERYTHING
    assert Augmentation.from_dict({}) == Augmentation()
    assert Augmentation.from_dict({"rotation_range": 15}).rotation_range == 15.0


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"rotate": 10}, "'rotate'"),
        ({"horizontal_flip": 1}, "'horizontal_flip'"),
        ({"crop_padding": 2.5}, "'crop_padding'"),
        ({"zoom_range": "0.1"}, "'zoom_range'"),
        ({"rotation_range": 400}, "'rotation_range'"),
        ({"brightness_range": -0.1}, "'brightness_range'"),
        ({"fill_mode": "wrap"}, "'fill_mode'"),
    ],
)
def test_bad_settings_are_refused_by_name(settings, named):
    with pytest.raises(DataError, match=named):
        Augmentation.from_dict(settings)


def test_settings_must_be_a_mapping():
    with pytest.raises(DataError, match="mapping"):
        Augmentation.from_dict(["horizontal_flip"])
