"""load_source: turn a data source spec ("digits", "mnist", "folder:PATH", ...) into RawData."""

from __future__ import annotations

from pathlib import Path

from designer.data.builtin_datasets import (
    CIFAR_DATASETS,
    IDX_DATASETS,
    default_data_dir,
    load_cifar_dataset,
    load_digits_data,
    load_idx_dataset,
)
from designer.data.errors import DataError
from designer.data.image_folder import load_image_folder
from designer.data.rawdata import RawData

__all__ = ["KNOWN_SOURCES", "RawData", "default_data_dir", "load_source"]

KNOWN_SOURCES = ("digits", *IDX_DATASETS, *CIFAR_DATASETS, "folder:PATH")
FOLDER_PREFIX = "folder:"


def load_source(
    spec: str,
    data_dir: str | Path | None = None,
    *,
    image_size: tuple[int, int] | None = None,
) -> RawData:
    """Load a dataset.

    ``spec`` is a dataset name (see KNOWN_SOURCES), ``folder:PATH``, or the path of an existing
    image folder (names win over folders of the same name; write ``folder:mnist`` for those).
    ``data_dir`` is where the named datasets live (default: ``default_data_dir()``).
    ``image_size`` (H, W) applies to image folders, whose images may differ in size.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"no data source given; known sources: {', '.join(KNOWN_SOURCES)}")
    spec = spec.strip()
    if image_size is not None:
        image_size = _check_image_size(image_size)
    key = spec.lower().replace("-", "_")
    if key == "digits":
        return load_digits_data()
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if key in IDX_DATASETS:
        return load_idx_dataset(key, root)
    if key in CIFAR_DATASETS:
        return load_cifar_dataset(key, root)
    if spec.startswith(FOLDER_PREFIX):
        path_text = spec[len(FOLDER_PREFIX):].strip()
        if not path_text:
            raise DataError("the data source 'folder:' needs a path, e.g. folder:/home/me/pictures")
        return load_image_folder(Path(path_text).expanduser(), image_size)
    if Path(spec).expanduser().is_dir():
        return load_image_folder(Path(spec).expanduser(), image_size)
    raise DataError(
        f"unknown data source '{spec}'; known sources: {', '.join(KNOWN_SOURCES)} "
        f"(or the path of an existing image folder)"
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
