"""Data sources: load_source turns a spec ("digits", "mnist", "folder:PATH", ...) into RawData, and
prepare_data loads one and prepares it for a design's input."""

from __future__ import annotations

from pathlib import Path

from designer.data.builtin_datasets import (
    CIFAR_DATASETS,
    IDX_DATASETS,
    files_present,
    load_cifar_dataset,
    load_idx_dataset,
)
from designer.data.data_dir import default_data_dir
from designer.data.digits import load_digits_data
from designer.data.errors import DataError
from designer.data.image_folder import load_image_folder
from designer.data.prepare import PreparedData, check_preparation, folder_image_size, prepare_raw
from designer.data.preprocess import Preprocessing
from designer.data.rawdata import RawData
from designer.data.source_names import FOLDER_PREFIX, KNOWN_SOURCES, source_problem

__all__ = [
    "KNOWN_SOURCES",
    "RawData",
    "default_data_dir",
    "is_on_this_machine",
    "load_source",
    "prepare_data",
]


def load_source(
    spec: str,
    data_dir: str | Path | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    progress=None,
) -> RawData:
    """Load a dataset.

    ``spec`` is a dataset name (see KNOWN_SOURCES), ``folder:PATH``, or the path of an existing
    image folder (names win over folders of the same name; write ``folder:mnist`` for those).
    ``data_dir`` is where the named datasets live (default: ``default_data_dir()``).
    ``image_size`` (H, W) applies to image folders, whose images may differ in size.
    ``progress(file name, bytes so far, total)`` follows a download (return True to stop it).
    """
    problem = source_problem(spec)
    if problem is not None:
        raise DataError(problem)
    spec = spec.strip()
    if image_size is not None:
        image_size = _check_image_size(image_size)
    key = spec.lower().replace("-", "_")
    if key == "digits":
        return load_digits_data()
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if key in IDX_DATASETS:
        return load_idx_dataset(key, root, progress)
    if key in CIFAR_DATASETS:
        return load_cifar_dataset(key, root, progress)
    if spec.startswith(FOLDER_PREFIX):
        spec = spec[len(FOLDER_PREFIX) :].strip()
    return load_image_folder(Path(spec).expanduser(), image_size)


def is_on_this_machine(spec: str, data_dir: str | Path | None = None) -> bool:
    """Whether load_source(spec, data_dir) finds the data here, without downloading anything:
    digits always, a named dataset when its files are in the data directory, a folder when it
    exists."""
    key = spec.strip().lower().replace("-", "_")
    if key == "digits":
        return True
    if key in IDX_DATASETS or key in CIFAR_DATASETS:
        root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
        return files_present(key, root)
    path = spec.strip()[len(FOLDER_PREFIX) :] if spec.strip().startswith(FOLDER_PREFIX) else spec
    return bool(path.strip()) and Path(path.strip()).expanduser().is_dir()


def prepare_data(
    source: str,
    input_shape: tuple[int, ...],
    *,
    num_classes: int | None = None,
    preprocessing: Preprocessing | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    progress=None,
) -> PreparedData:
    """Load ``source`` (see load_source; ``progress`` follows a download) and prepare it for a
    design's input (see prepare_raw)."""
    input_shape = tuple(input_shape)
    check_preparation(input_shape, val_fraction, test_fraction, limit)
    raw = load_source(
        source, data_dir, image_size=folder_image_size(input_shape), progress=progress
    )
    return prepare_raw(
        raw,
        input_shape,
        num_classes=num_classes,
        preprocessing=preprocessing,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        limit=limit,
    )


def _check_image_size(size: object) -> tuple[int, int]:
    ok = (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    )
    if not ok:
        raise DataError(f"image_size must be (height, width) in whole pixels, got {size!r}")
    return (size[0], size[1])  # type: ignore[index]
