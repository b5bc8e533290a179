"""Reader for the CIFAR "python version" pickle batches.

torchvision's CIFAR classes accept a folder only if every batch file has the md5 of the
official archive, and otherwise insist on downloading it again. Folders that are present but
differ (a re-pickled copy, a subset made for a slow machine) are read here instead, from the
same format: each batch is a pickled dict with ``data`` (uint8 N×3072: 1024 red, 1024 green,
1024 blue values, row-major 32×32) and a label list; the meta file holds the class names.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from designer.data.errors import DataError


@dataclass(frozen=True)
class CifarLayout:
    folder: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    names_key: str
    labels_key: str
    archive: str
    files_text: str  # how error messages list the expected files

    @property
    def all_files(self) -> tuple[str, ...]:
        return self.train_files + self.test_files + (self.meta_file,)


CIFAR10 = CifarLayout(
    folder="cifar-10-batches-py",
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test_files=("test_batch",),
    meta_file="batches.meta",
    names_key="label_names",
    labels_key="labels",
    archive="cifar-10-python.tar.gz",
    files_text="data_batch_1..5, test_batch, batches.meta",
)
CIFAR100 = CifarLayout(
    folder="cifar-100-python",
    train_files=("train",),
    test_files=("test",),
    meta_file="meta",
    names_key="fine_label_names",
    labels_key="fine_labels",
    archive="cifar-100-python.tar.gz",
    files_text="train, test, meta",
)

# The batches hold only numpy arrays, lists, strings and numbers. Refusing every other global
# keeps a foreign pickle from running code when it is loaded (pickle would call anything).
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),  # what numpy writes with pickle protocol 5
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # how Python 3 writes bytes (the array buffers) with protocol 2
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"it contains a {module}.{name} object, which CIFAR batches never hold"
            )
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            # The official files are Python 2 pickles; latin1 turns their byte strings into str.
            content = _BatchUnpickler(f, encoding="latin1").load()
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
    ) as exc:
        raise DataError(f"{path} is not a readable CIFAR pickle file: {exc}") from exc
    if not isinstance(content, dict):
        raise DataError(f"{path} should hold a dict but holds a {type(content).__name__}")
    return content


def _read_batch(path: Path, labels_key: str, class_count: int) -> tuple[np.ndarray, list[int]]:
    batch = _load_pickle(path)
    for key in ("data", labels_key):
        if key not in batch:
            raise DataError(f"{path} has no '{key}' entry (it has: {', '.join(map(str, batch))})")
    data = np.asarray(batch["data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"{path}: 'data' should be uint8 of shape N×3072 (32×32 RGB), "
            f"got {data.dtype} of shape {data.shape}"
        )
    labels = [int(v) for v in batch[labels_key]]
    if len(labels) != len(data):
        raise DataError(f"{path} has {len(data)} images but {len(labels)} labels")
    bad = [v for v in labels if not 0 <= v < class_count]
    if bad:
        raise DataError(
            f"{path} has label {bad[0]} but the meta file names only {class_count} classes"
        )
    return data, labels


def read_cifar_folder(
    folder: Path, layout: CifarLayout
) -> tuple[list[str], torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (classes, train_images, train_labels, test_images, test_labels) from a batches
    folder."""
    meta_path = folder / layout.meta_file
    meta = _load_pickle(meta_path)
    if layout.names_key not in meta:
        raise DataError(f"{meta_path} has no '{layout.names_key}' entry with the class names")
    classes = [str(name) for name in meta[layout.names_key]]

    def read(files: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [_read_batch(folder / name, layout.labels_key, len(classes)) for name in files]
        data = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32)
        labels = [v for p in parts for v in p[1]]
        return torch.from_numpy(data), torch.tensor(labels, dtype=torch.int64)

    train_images, train_labels = read(layout.train_files)
    test_images, test_labels = read(layout.test_files)
    return classes, train_images, train_labels, test_images, test_labels
