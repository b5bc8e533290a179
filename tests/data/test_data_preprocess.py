"""Preprocessing: channels, resizing, vector inputs, statistics from the training split only."""

from __future__ import annotations

import json

import pytest
import torch

from designer.data import (
    DataError,
    NormStats,
    Preprocessing,
    load_source,
    prepare_data,
    split_indices,
    to_network_input,
)
from designer.data.preprocess import (
    fit_stats,
    image_shape_for_input,
    match_channels,
    resize_images,
)


def test_mean_image_and_std_are_fitted_on_the_training_split_only():
    config = Preprocessing(center="mean_image", standardize=True)
    data = prepare_data("digits", (1, 8, 8), preprocessing=config, seed=4)
    raw = load_source("digits")
    train = split_indices(raw.train_labels, val_fraction=0.1, test_fraction=0.1, seed=4).train
    rescaled = raw.train_images.float() / 255
    train_mean = rescaled[train].mean(dim=0)
    assert torch.allclose(data.stats.mean, train_mean, atol=1e-6)
    assert not torch.allclose(
        data.stats.mean, rescaled.mean(dim=0), atol=1e-4
    )  # all data would differ
    std = (rescaled[train] - train_mean).pow(2).mean().sqrt()
    assert torch.allclose(data.stats.std.flatten(), std.reshape(1), atol=1e-5)
    # training inputs come out centred with unit spread; the other splits only approximately
    assert data.train_x.mean(dim=0).abs().max() < 1e-5
    assert abs(float(data.train_x.std()) - 1) < 0.01
    assert data.val_x.mean(dim=0).abs().max() > 1e-3


def test_mean_pixel_centers_each_channel():
    x = torch.rand(50, 3, 4, 4) + torch.tensor([0.0, 1.0, 2.0]).view(1, 3, 1, 1)
    stats = fit_stats(x, Preprocessing(center="mean_pixel"))
    assert stats.mean.shape == (3, 1, 1) and stats.std is None
    assert stats.normalize(x).mean(dim=(0, 2, 3)).abs().max() < 1e-5
    assert torch.allclose(stats.denormalize(stats.normalize(x)), x, atol=1e-6)


def test_no_centering_no_standardizing_keeps_rescaled_values():
    data = prepare_data("digits", (1, 8, 8))
    assert data.stats.is_identity
    assert float(data.train_x.min()) == 0.0 and float(data.train_x.max()) == 1.0


def test_gray_to_rgb_repeats_and_rgb_to_gray_uses_luma():
    gray = torch.rand(2, 1, 3, 3)
    rgb = match_channels(gray, 3)
    assert rgb.shape == (2, 3, 3, 3) and torch.equal(rgb[:, 0], rgb[:, 2])
    pure = torch.zeros(1, 3, 1, 1)
    pure[0, :, 0, 0] = torch.tensor([255.0, 100.0, 10.0])
    assert match_channels(pure, 1).item() == pytest.approx(0.299 * 255 + 0.587 * 100 + 0.114 * 10)
    with pytest.raises(DataError, match="4"):
        match_channels(gray, 4)


def test_resize_is_antialiased():
    checker = (torch.arange(12).view(1, 12) + torch.arange(12).view(12, 1)) % 2
    x = checker.float().view(1, 1, 12, 12)
    small = resize_images(x, (4, 4))
    assert small.shape == (1, 1, 4, 4)
    assert (
        small - 0.5
    ).abs().max() < 0.2  # without antialiasing each output is a single pixel: 0 or 1
    assert resize_images(x, (12, 12)) is x


def test_digits_as_rgb_32px():
    data = prepare_data("digits", (3, 32, 32), val_fraction=0.0, test_fraction=0.0)
    assert data.train_x.shape == (1797, 3, 32, 32) and data.image_shape == (3, 32, 32)
    assert torch.equal(data.train_x[:, 0], data.train_x[:, 1])


@pytest.mark.parametrize(
    ("features", "source", "expected"),
    [
        (64, (1, 8, 8), (1, 8, 8)),
        (256, (1, 8, 8), (1, 16, 16)),
        (3 * 100, (3, 32, 32), (3, 10, 10)),
        (60, (1, 6, 10), (1, 6, 10)),
    ],
)
def test_vector_inputs_take_square_images_of_the_right_size(features, source, expected):
    assert image_shape_for_input((features,), source) == expected


def test_vector_input_that_cannot_be_matched_names_both_numbers():
    with pytest.raises(DataError) as err:
        prepare_data("digits", (50,))
    assert "50" in str(err.value) and "64" in str(err.value)


def test_vector_input_is_flattened():
    data = prepare_data("digits", (100,))
    assert data.train_x.shape == (1437, 100) and data.image_shape == (1, 10, 10)


@pytest.mark.parametrize("shape", [(1, 8), (0,), (1, 8, 8.0)])
def test_bad_input_shapes_are_refused(shape):
    with pytest.raises(DataError, match="input shape"):
        prepare_data("digits", shape)


def test_to_network_input_matches_what_prepare_data_produced():
    config = Preprocessing(center="mean_pixel", standardize=True)
    data = prepare_data("digits", (3, 12, 12), preprocessing=config, seed=1)
    raw = load_source("digits")
    train = split_indices(raw.train_labels, val_fraction=0.1, test_fraction=0.1, seed=1).train
    again = to_network_input(
        raw.train_images[train[:5]],
        (3, 12, 12),
        NormStats.from_dict(json.loads(json.dumps(data.stats.to_dict()))),
    )
    assert torch.allclose(again, data.train_x[:5], atol=1e-5)


def test_preprocessing_settings_round_trip_and_are_checked():
    config = Preprocessing(rescale=0.5, center="mean_pixel", standardize=True)
    assert Preprocessing.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert Preprocessing.from_dict({"rescale": 1}).rescale == 1.0  # JSON writes 1.0 as 1
    with pytest.raises(DataError, match="'centre'"):
        Preprocessing.from_dict({"centre": "none"})
    with pytest.raises(DataError, match="'standardize'.*true or false"):
        Preprocessing.from_dict({"standardize": "yes"})
    with pytest.raises(DataError, match="'center'.*mean_image"):
        Preprocessing.from_dict({"center": "median"})
    with pytest.raises(DataError, match="'rescale'"):
        Preprocessing.from_dict({"rescale": 0})


def test_stats_from_a_damaged_file_are_refused_by_name():
    with pytest.raises(DataError, match="'rescale'"):
        NormStats.from_dict({"mean": None})
    with pytest.raises(DataError, match="'std'"):
        NormStats.from_dict({"rescale": 1.0, "std": [1.0, 2.0]})


def test_fixed_statistics_replace_fitted_ones():
    """ImageNet-style fixed mean/std: per channel (or one for all), never fitted."""
    import torch

    from designer.data.preprocess import Preprocessing, fit_stats

    x = torch.rand(6, 3, 4, 4)
    stats = fit_stats(x, Preprocessing(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))
    assert torch.allclose(stats.mean.flatten(), torch.tensor([0.485, 0.456, 0.406]))
    assert torch.allclose(stats.normalize(x)[:, 1], (x[:, 1] - 0.456) / 0.224)
    one = fit_stats(x, Preprocessing(mean=[0.5], std=[0.25]))
    assert one.mean.shape == (3, 1, 1) and torch.all(one.std == 0.25)
