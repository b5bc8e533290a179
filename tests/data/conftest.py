"""Writers for tiny datasets in the real on-disk formats, and a switch that makes the machine
offline."""

from __future__ import annotations

import errno
import gzip
import pickle
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CIFAR10_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
IDX_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format: 0, 0, type 0x08 (uint8), dimension count, big-endian uint32 sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@dataclass
class Split:
    images: np.ndarray  # N×H×W (MNIST) or N×H×W×3 (CIFAR)
    labels: np.ndarray


@dataclass
class WrittenDataset:
    root: Path
    train: Split
    test: Split


def write_mnist(
    root: Path,
    folder: str = "MNIST",
    *,
    raw: bool = True,
    gz: bool = True,
    n_train: int = 20,
    n_test: int = 10,
    seed: int = 0,
) -> WrittenDataset:
    """root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], as torchvision lays
    them out."""
    rng = np.random.default_rng(seed)
    splits = {
        "train": Split(
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            np.arange(n_train, dtype=np.uint8) % 10,
        ),
        "test": Split(
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            (np.arange(n_test, dtype=np.uint8) + 3) % 10,
        ),
    }
    raw_dir = root / folder / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for (split, kind), name in IDX_NAMES.items():
        data = idx_bytes(getattr(splits[split], kind))
        if raw:
            (raw_dir / name).write_bytes(data)
        if gz:
            with gzip.open(raw_dir / f"{name}.gz", "wb") as f:
                f.write(data)
    return WrittenDataset(root, splits["train"], splits["test"])


def _cifar_rows(images: np.ndarray) -> np.ndarray:
    # one row per image: 1024 red, then 1024 green, then 1024 blue values
    return images.transpose(0, 3, 1, 2).reshape(len(images), 3 * 32 * 32)


def _dump(path: Path, content: dict) -> None:
    with path.open("wb") as f:
        pickle.dump(content, f, protocol=2)


def write_cifar10(root: Path, per_batch: int = 4, n_test: int = 6, seed: int = 0) -> WrittenDataset:
    """root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = [], []
    for b in range(1, 6):
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        _dump(
            folder / f"data_batch_{b}",
            {
                "batch_label": f"training batch {b} of 5",
                "labels": labels,
                "data": _cifar_rows(images),
                "filenames": [f"img_{b}_{i}.png" for i in range(per_batch)],
            },
        )
        train_images.append(images)
        train_labels += labels
    test_images = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    test_labels = [int(v) for v in rng.integers(0, 10, n_test)]
    _dump(
        folder / "test_batch",
        {
            "batch_label": "testing batch 1 of 1",
            "labels": test_labels,
            "data": _cifar_rows(test_images),
        },
    )
    _dump(
        folder / "batches.meta",
        {"label_names": CIFAR10_NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072},
    )
    return WrittenDataset(
        root,
        Split(np.concatenate(train_images), np.array(train_labels)),
        Split(test_images, np.array(test_labels)),
    )


def write_cifar100(root: Path, n_train: int = 12, n_test: int = 5, seed: int = 1) -> WrittenDataset:
    """root/cifar-100-python/{train, test, meta}; labels under 'fine_labels'."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    splits = {}
    for name, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        fine = [int(v) for v in rng.integers(0, 100, n)]
        _dump(
            folder / name,
            {
                "data": _cifar_rows(images),
                "fine_labels": fine,
                "coarse_labels": [v // 5 for v in fine],
            },
        )
        splits[name] = Split(images, np.array(fine))
    _dump(
        folder / "meta",
        {
            "fine_label_names": [f"class_{i:02d}" for i in range(100)],
            "coarse_label_names": [f"group_{i:02d}" for i in range(20)],
        },
    )
    return WrittenDataset(root, splits["train"], splits["test"])


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def offline(monkeypatch) -> list:
    """Make name lookups and connections fail at once, as on a machine without internet.

    Returns the list of attempted lookups/connections, so a test can see a download was tried.
    """
    attempts: list = []

    def no_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_connect(self, address):
        attempts.append(address)
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    return attempts


@pytest.fixture
def formats():
    """The writers above, for tests (conftest modules are not imported by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        idx_bytes=idx_bytes,
        write_mnist=write_mnist,
        write_cifar10=write_cifar10,
        write_cifar100=write_cifar100,
        write_png=write_png,
        IDX_NAMES=IDX_NAMES,
        CIFAR10_NAMES=CIFAR10_NAMES,
    )
