"""load_source on real file formats written to a temporary folder."""

from __future__ import annotations

import logging
import os
import pickle
import time

import numpy as np
import pytest
import torch

from designer.data import DataError, load_source


def test_digits_are_sklearns_bundled_images_rescaled_to_bytes():
    from sklearn.datasets import load_digits

    raw = load_source("digits")
    assert raw.train_images.shape == (1797, 1, 8, 8)
    assert raw.train_images.dtype == torch.uint8 and raw.train_labels.dtype == torch.int64
    assert raw.classes == [str(d) for d in range(10)]
    assert raw.test_images is None and raw.test_labels is None
    bunch = load_digits()
    expected = np.rint(bunch.images * 255 / 16).astype(np.uint8)
    assert np.array_equal(raw.train_images[:, 0].numpy(), expected)
    assert np.array_equal(raw.train_labels.numpy(), bunch.target)


def test_mnist_is_read_from_idx_files_without_downloading(tmp_path, formats, offline):
    written = formats.write_mnist(tmp_path)
    raw = load_source("mnist", tmp_path)
    assert raw.train_images.shape == (20, 1, 28, 28) and raw.test_images.shape == (10, 1, 28, 28)
    assert np.array_equal(raw.train_images[:, 0].numpy(), written.train.images)
    assert np.array_equal(raw.test_images[:, 0].numpy(), written.test.images)
    assert raw.train_labels.tolist() == written.train.labels.tolist()
    assert raw.test_labels.tolist() == written.test.labels.tolist()
    assert len(raw.classes) == 10
    assert offline == []  # the files were there: no network use at all


def test_gzipped_idx_files_alone_are_enough(tmp_path, formats, offline):
    # torchvision reads only unpacked files, and would re-download .gz files that are not the
    # official ones
    written = formats.write_mnist(tmp_path, raw=False, gz=True)
    raw = load_source("mnist", tmp_path)
    assert np.array_equal(raw.train_images[:, 0].numpy(), written.train.images)
    assert offline == []


def test_fashion_mnist_uses_its_own_folder_and_class_names(tmp_path, formats, offline):
    written = formats.write_mnist(tmp_path, folder="FashionMNIST", seed=3)
    raw = load_source("fashion_mnist", tmp_path)
    assert np.array_equal(raw.test_images[:, 0].numpy(), written.test.images)
    assert raw.classes[-1] == "Ankle boot"
    with pytest.raises(DataError):  # MNIST's folder is a different one
        load_source("mnist", tmp_path)


def test_idx_image_and_label_counts_must_agree(tmp_path, formats):
    formats.write_mnist(tmp_path, gz=False)
    labels_file = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    labels_file.write_bytes(formats.idx_bytes(np.zeros(19, dtype=np.uint8)))
    with pytest.raises(DataError) as err:
        load_source("mnist", tmp_path)
    message = str(err.value)
    assert "20 images" in message and "19 labels" in message and str(labels_file) in message


def test_truncated_idx_file_is_named(tmp_path, formats):
    formats.write_mnist(tmp_path, gz=False)
    images_file = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    images_file.write_bytes(images_file.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as err:
        load_source("mnist", tmp_path)
    assert str(images_file) in str(err.value)


def test_cifar10_batches_are_read_in_their_channel_layout(tmp_path, formats, offline):
    written = formats.write_cifar10(tmp_path)
    raw = load_source("cifar10", tmp_path)
    assert raw.classes == formats.CIFAR10_NAMES
    assert raw.train_images.shape == (20, 3, 32, 32) and raw.test_images.shape == (6, 3, 32, 32)
    # NCHW from HWC: red plane of the first image is its [..., 0]
    assert np.array_equal(raw.train_images.permute(0, 2, 3, 1).numpy(), written.train.images)
    assert np.array_equal(raw.test_images.permute(0, 2, 3, 1).numpy(), written.test.images)
    assert raw.train_labels.tolist() == written.train.labels.tolist()
    assert raw.test_labels.tolist() == written.test.labels.tolist()
    assert offline == []


def test_cifar100_uses_fine_labels(tmp_path, formats):
    written = formats.write_cifar100(tmp_path)
    raw = load_source("cifar100", tmp_path)
    assert len(raw.classes) == 100 and raw.classes[7] == "class_07"
    assert raw.train_labels.tolist() == written.train.labels.tolist()
    assert np.array_equal(raw.test_images.permute(0, 2, 3, 1).numpy(), written.test.images)


def test_cifar_batch_of_the_wrong_shape_is_named(tmp_path, formats):
    formats.write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    with batch.open("wb") as f:
        pickle.dump({"data": np.zeros((4, 100), dtype=np.uint8), "labels": [0, 1, 2, 3]}, f)
    with pytest.raises(DataError, match="N×3072") as err:
        load_source("cifar10", tmp_path)
    assert str(batch) in str(err.value)


class _RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_cifar_pickle_that_would_run_code_is_refused(tmp_path, formats):
    formats.write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    with batch.open("wb") as f:
        pickle.dump({"data": _RunsCode(), "labels": []}, f)
    with pytest.raises(DataError, match="getcwd") as err:
        load_source("cifar10", tmp_path)
    assert str(batch) in str(err.value)


@pytest.mark.parametrize(
    ("spec", "expected_place", "expected_files"),
    [
        (
            "mnist",
            os.path.join("MNIST", "raw"),
            ["train-images-idx3-ubyte(.gz)", "t10k-labels-idx1-ubyte(.gz)"],
        ),
        (
            "cifar10",
            "cifar-10-batches-py",
            ["data_batch_1..5, test_batch, batches.meta", "cifar-10-python.tar.gz"],
        ),
    ],
)
def test_missing_dataset_offline_says_what_to_put_where(
    tmp_path, offline, spec, expected_place, expected_files
):
    start = time.monotonic()
    with pytest.raises(DataError) as err:
        load_source(spec, tmp_path)
    assert time.monotonic() - start < 10
    assert offline, "a download should have been attempted"
    message = str(err.value)
    assert str(tmp_path / expected_place) in message
    for text in expected_files:
        assert text in message
    assert "could not be downloaded" in message and "NETDESIGNER_DATA" in message


def test_data_dir_defaults_to_the_environment_variable(tmp_path, formats, monkeypatch):
    formats.write_mnist(tmp_path)
    monkeypatch.setenv("NETDESIGNER_DATA", str(tmp_path))
    assert len(load_source("MNIST").train_images) == 20


def _class_folder(root, formats, rng):
    """cats: three 10×12 RGB images and one 20×24; dogs: two 10×12 images, a broken file, a text
    file."""
    for i in range(3):
        formats.write_png(
            root / "cats" / f"c{i}.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
        )
    formats.write_png(root / "cats" / "big.png", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    for i in range(2):
        formats.write_png(
            root / "dogs" / f"d{i}.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
        )
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "dogs" / "notes.txt").write_text("not an image, ignored")
    return root / "dogs" / "broken.png"


def test_image_folder_skips_and_counts_unreadable_files(tmp_path, formats, caplog):
    root = tmp_path / "pets"
    broken = _class_folder(root, formats, np.random.default_rng(0))
    with caplog.at_level(logging.WARNING, logger="designer.data"):
        raw = load_source(f"folder:{root}")
    assert raw.skipped == [str(broken)]
    assert any(
        "skipped 1 unreadable" in r.getMessage() and r.name == "designer.data"
        for r in caplog.records
    )
    assert raw.classes == ["cats", "dogs"] and raw.name == "pets"
    assert raw.train_images.shape == (
        6,
        3,
        10,
        12,
    )  # the odd 20×24 image resized to the common size
    assert raw.train_labels.tolist() == [0, 0, 0, 0, 1, 1]
    from PIL import Image

    first = np.asarray(Image.open(root / "cats" / "big.png"))  # sorted: big.png comes first
    assert raw.train_images[0].shape == (3, 10, 12)
    resized = np.asarray(Image.fromarray(first).resize((12, 10), Image.Resampling.BILINEAR))
    assert np.array_equal(raw.train_images[0].permute(1, 2, 0).numpy(), resized)


def test_image_folder_to_a_given_size_and_grayscale(tmp_path, formats):
    rng = np.random.default_rng(1)
    for cls in ("a", "b"):
        for i in range(2):
            formats.write_png(
                tmp_path / "g" / cls / f"{i}.png", rng.integers(0, 256, (9, 9), dtype=np.uint8)
            )
    raw = load_source(str(tmp_path / "g"), image_size=(4, 6))  # a plain path works as a spec too
    assert raw.train_images.shape == (4, 1, 4, 6)


def test_image_folder_with_train_and_test_subfolders(tmp_path, formats):
    rng = np.random.default_rng(2)
    for split, n in (("train", 3), ("test", 1)):
        for cls in ("x", "y"):
            for i in range(n):
                formats.write_png(
                    tmp_path / split / cls / f"{i}.png",
                    rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
                )
    raw = load_source(f"folder:{tmp_path}")
    assert raw.classes == ["x", "y"]
    assert len(raw.train_images) == 6 and len(raw.test_images) == 2
    assert raw.test_labels.tolist() == [0, 1]


def test_image_folder_without_class_subfolders_is_named(tmp_path, formats):
    formats.write_png(tmp_path / "flat" / "a.png", np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(DataError, match="no class subfolders") as err:
        load_source(f"folder:{tmp_path / 'flat'}")
    assert str(tmp_path / "flat") in str(err.value)


def test_image_folder_with_only_broken_files(tmp_path):
    (tmp_path / "c" / "one").mkdir(parents=True)
    (tmp_path / "c" / "one" / "x.jpg").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"no readable images.*1 file\(s\) could not be read"):
        load_source(f"folder:{tmp_path / 'c'}")


def test_missing_image_folder_is_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_source(f"folder:{tmp_path / 'nope'}")


def test_unknown_source_lists_the_known_ones():
    with pytest.raises(DataError) as err:
        load_source("imagenet")
    message = str(err.value)
    assert "'imagenet'" in message
    for name in ("digits", "mnist", "fashion_mnist", "cifar10", "cifar100", "folder:PATH"):
        assert name in message


def test_is_on_this_machine_looks_for_the_files_without_downloading(tmp_path, formats, offline):
    from designer.data.sources import is_on_this_machine

    assert is_on_this_machine("digits", tmp_path)
    assert not is_on_this_machine("cifar10", tmp_path)
    assert not is_on_this_machine("mnist", tmp_path)
    formats.write_cifar10(tmp_path)
    formats.write_mnist(tmp_path, raw=False, gz=True)
    assert is_on_this_machine("cifar10", tmp_path) and is_on_this_machine("mnist", tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    assert not is_on_this_machine("cifar10", tmp_path)  # all of its files, not some
    assert is_on_this_machine(f"folder:{tmp_path}") and not is_on_this_machine("folder:")
    assert not is_on_this_machine(str(tmp_path / "nowhere"))
    assert offline == []


def test_the_source_names_the_cli_checks_are_the_loaders_names():
    from designer.data.builtin_datasets import CIFAR_DATASETS, IDX_DATASETS
    from designer.data.source_names import NAMED_SOURCES, source_problem

    assert NAMED_SOURCES == ("digits", *IDX_DATASETS, *CIFAR_DATASETS)
    assert source_problem("Fashion-MNIST") is None and source_problem("folder:/x") is None
    assert "needs a path" in source_problem("folder: ")
    assert "unknown data source 'nowhere'" in source_problem("nowhere")
