"""prepare_data end to end, and iterate_batches."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from designer.data import (
    Augmentation,
    DataError,
    Preprocessing,
    iterate_batches,
    prepare_data,
)
from designer.data.batches import batch_count


def test_digits_come_out_as_float_splits_of_the_design_shape():
    data = prepare_data("digits", (1, 8, 8), num_classes=10)
    assert (len(data.train_x), len(data.val_x), len(data.test_x)) == (1437, 180, 180)
    assert data.train_x.dtype == torch.float32 and data.train_y.dtype == torch.int64
    assert data.val_x.shape[1:] == (1, 8, 8) and len(data.val_y) == 180 and len(data.test_y) == 180
    assert not data.test_is_own_split and data.num_classes == 10 and data.skipped == []


def test_class_count_mismatch_tells_what_to_set():
    with pytest.raises(DataError) as err:
        prepare_data("digits", (1, 8, 8), num_classes=7)
    assert str(err.value) == (
        "the dataset 'digits' has 10 classes but the design's head has 7; "
        "set the design's number of classes to 10"
    )


def test_same_seed_same_data_other_seed_other_split():
    a = prepare_data("digits", (1, 8, 8), seed=1)
    b = prepare_data("digits", (1, 8, 8), seed=1)
    c = prepare_data("digits", (1, 8, 8), seed=2)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y)
    assert not torch.equal(a.val_x, c.val_x)


def test_limit_keeps_a_small_balanced_training_sample():
    data = prepare_data("digits", (1, 8, 8), limit=20)
    assert len(data.train_x) == 20 and len(data.val_x) == 180
    assert set(Counter(data.train_y.tolist()).values()) <= {1, 2, 3}
    assert len(set(data.train_y.tolist())) >= 9
    with pytest.raises(DataError, match="limit"):
        prepare_data("digits", (1, 8, 8), limit=0)


def test_mnist_keeps_its_own_test_split(tmp_path, formats):
    written = formats.write_mnist(tmp_path)
    data = prepare_data(
        "mnist", (1, 28, 28), data_dir=tmp_path, val_fraction=0.1, test_fraction=0.3
    )
    assert data.test_is_own_split
    assert (len(data.train_x), len(data.val_x), len(data.test_x)) == (
        18,
        2,
        10,
    )  # test_fraction unused
    assert torch.allclose(data.test_x[:, 0], torch.from_numpy(written.test.images).float() / 255)
    assert data.test_y.tolist() == written.test.labels.tolist()


def test_mnist_fed_to_an_rgb_design(tmp_path, formats):
    formats.write_mnist(tmp_path)
    data = prepare_data("mnist", (3, 32, 32), data_dir=tmp_path)
    assert data.train_x.shape[1:] == (3, 32, 32) and data.test_x.shape == (10, 3, 32, 32)


def test_cifar10_fed_to_a_grayscale_design(tmp_path, formats):
    formats.write_cifar10(tmp_path)
    data = prepare_data("cifar10", (1, 16, 16), data_dir=tmp_path, val_fraction=0.2)
    assert data.train_x.shape == (16, 1, 16, 16) and data.test_x.shape == (6, 1, 16, 16)


def test_image_folder_is_resized_to_the_design_and_reports_skipped_files(tmp_path, formats):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        for i in range(5):
            size = (20, 30) if i else (7, 7)
            formats.write_png(
                tmp_path / "imgs" / cls / f"{i}.png",
                rng.integers(0, 256, (*size, 3), dtype=np.uint8),
            )
    (tmp_path / "imgs" / "b" / "zz.jpg").write_bytes(b"not a jpeg")
    data = prepare_data(
        f"folder:{tmp_path / 'imgs'}",
        (3, 16, 16),
        num_classes=2,
        val_fraction=0.2,
        test_fraction=0.2,
    )
    assert data.train_x.shape == (6, 3, 16, 16)
    assert data.skipped == [str(tmp_path / "imgs" / "b" / "zz.jpg")]


def _epoch(x, y, generator, **kwargs):
    return list(iterate_batches(x, y, 4, True, generator, **kwargs))


def test_batches_cover_every_sample_once_in_a_seeded_order():
    x, y = torch.arange(10).float().view(10, 1), torch.arange(10)
    g = torch.Generator().manual_seed(0)
    first = _epoch(x, y, g)
    assert [len(yb) for _, yb in first] == [4, 4, 2]
    assert sorted(torch.cat([yb for _, yb in first]).tolist()) == list(range(10))
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in first)
    second = _epoch(x, y, g)
    assert (
        torch.cat([yb for _, yb in first]).tolist() != torch.cat([yb for _, yb in second]).tolist()
    )
    plain = list(iterate_batches(x, y, 4, False, None, drop_last=True))
    assert [yb.tolist() for _, yb in plain] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shards_share_every_batch_between_processes():
    x, y = torch.arange(10).float().view(10, 1, 1, 1), torch.arange(10)
    aug = Augmentation(channel_shift_range=0.5)
    whole = _epoch(x, y, torch.Generator().manual_seed(3), augmentation=aug)
    shares = [
        _epoch(x, y, torch.Generator().manual_seed(3), augmentation=aug, shard=(rank, 2))
        for rank in (0, 1)
    ]
    assert [[len(yb) for _, yb in share] for share in shares] == [[2, 2, 1], [2, 2, 1]]
    for (_, yb), (_, first), (_, second) in zip(whole, *shares):
        assert sorted([*first.tolist(), *second.tolist()]) == sorted(yb.tolist())
    shifted = [xb.flatten() - yb for share in shares for xb, yb in share]
    # Each process draws its own random numbers: the ten shifts all differ.
    assert len({round(float(v), 6) for v in torch.cat(shifted).flatten()}) == 10
    # Three processes cannot share the last batch of two samples: it is left out.
    three = _epoch(x, y, torch.Generator(), shard=(2, 3))
    assert len(three) == batch_count(10, 4, processes=3) == 2
    assert batch_count(10, 4) == 3 and batch_count(10, 4, drop_last=True) == 2
    with pytest.raises(ValueError, match="shard"):
        iterate_batches(x, y, 4, False, None, shard=(2, 2))


def test_restoring_the_generator_state_replays_and_resumes_an_epoch_exactly():
    data = prepare_data("digits", (1, 8, 8), limit=64)
    aug = Augmentation(rotation_range=15, horizontal_flip=True, brightness_range=0.2)
    g = torch.Generator().manual_seed(11)
    _epoch(data.train_x, data.train_y, g, augmentation=aug)  # move the state along
    saved = g.get_state()
    full = _epoch(data.train_x, data.train_y, g, augmentation=aug, stats=data.stats)
    g.set_state(saved)
    replay = _epoch(data.train_x, data.train_y, g, augmentation=aug, stats=data.stats)
    g.set_state(saved)
    resumed = _epoch(
        data.train_x, data.train_y, g, augmentation=aug, stats=data.stats, start_batch=10
    )
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(full, replay))
    assert len(resumed) == len(full) - 10
    assert all(
        torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(full[10:], resumed)
    )


def test_augmentation_works_on_rescaled_pixels_when_given_the_stats():
    config = Preprocessing(center="mean_image", standardize=True)
    data = prepare_data("digits", (1, 8, 8), preprocessing=config, limit=64)
    x, stats = data.train_x, data.stats
    g = torch.Generator().manual_seed(0)
    batches = list(
        iterate_batches(
            x, data.train_y, 64, False, g, Augmentation(horizontal_flip=True), stats=stats
        )
    )
    ((xb, _),) = batches
    pixel_flip = stats.normalize(
        stats.denormalize(x).flip(-1)
    )  # flip the picture, not the normalized values
    same = (xb - x).abs().amax(dim=(1, 2, 3)) < 1e-4
    flipped = (xb - pixel_flip).abs().amax(dim=(1, 2, 3)) < 1e-4
    assert torch.all(same | flipped) and flipped.any()
    assert not torch.allclose(pixel_flip, x.flip(-1), atol=1e-3)  # the difference matters here


def test_vector_inputs_can_be_augmented_given_their_image_shape():
    data = prepare_data("digits", (64,), limit=32)
    g = torch.Generator().manual_seed(0)
    aug = Augmentation(vertical_flip=True)
    ((xb, _),) = list(
        iterate_batches(data.train_x, data.train_y, 32, False, g, aug, image_shape=data.image_shape)
    )
    assert xb.shape == (32, 64) and not torch.equal(xb, data.train_x)
    with pytest.raises(DataError, match="image_shape"):
        iterate_batches(data.train_x, data.train_y, 32, False, g, aug)


def test_bad_batch_size_is_refused():
    with pytest.raises(DataError, match="batch size"):
        iterate_batches(torch.zeros(3, 1), torch.zeros(3), 0, False, None)
