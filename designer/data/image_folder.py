"""Image folders with one subfolder per class (the Keras flow_from_directory / ImageFolder layout).

    PATH/cat/001.png, PATH/dog/002.jpg, ...
or, with the dataset's own test split:
    PATH/train/cat/001.png, ..., PATH/test/cat/101.png, ...

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from designer.data.errors import DataError
from designer.data.rawdata import RawData

log = logging.getLogger("designer.data")

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "F"})


def load_image_folder(root: Path, image_size: tuple[int, int] | None = None) -> RawData:
    """Load every image under ``root``; all come out the same size, grayscale or RGB.

    Images are resized to ``image_size`` (H, W) if given, else to the most common size.
    Files that Pillow cannot decode are skipped, listed in ``RawData.skipped`` and logged.
    """
    if not root.is_dir():
        raise DataError(f"the image folder {root} does not exist")
    train_root, test_root = root / "train", root / "test"
    has_split = train_root.is_dir() and test_root.is_dir()
    if not has_split:
        train_root = root

    classes = _class_names(train_root)
    if not classes:
        raise DataError(
            f"the image folder {train_root} has no class subfolders; put the images of each class "
            f"in a subfolder named after the class, e.g. {train_root / 'cats' / '001.png'}"
        )
    train_files = _list_files(train_root, classes)
    test_files = []
    if has_split:
        unknown = sorted(set(_class_names(test_root)) - set(classes))
        if unknown:
            raise DataError(
                f"the test folder {test_root} has class folder(s) {', '.join(unknown)} "
                f"that the training folder {train_root} does not have"
            )
        test_files = _list_files(test_root, [c for c in classes if (test_root / c).is_dir()])
        test_files = [(path, classes.index(cls)) for path, cls in test_files]
    train_files = [(path, classes.index(cls)) for path, cls in train_files]

    files = train_files + test_files
    decoded = _decode_all([path for path, _ in files])
    skipped = [str(path) for (path, _), image in zip(files, decoded) if image is None]
    if skipped:
        log.warning(
            "skipped %d unreadable image file(s) in %s: %s%s",
            len(skipped),
            root,
            ", ".join(skipped[:5]),
            " ..." if len(skipped) > 5 else "",
        )
    train_pairs = [(img, label) for (_, label), img in zip(train_files, decoded) if img is not None]
    test_pairs = [
        (img, label)
        for (_, label), img in zip(test_files, decoded[len(train_files) :])
        if img is not None
    ]
    _check_every_class_has_images(train_root, classes, train_pairs, skipped)
    if has_split and not test_pairs:
        raise DataError(f"the test folder {test_root} has no readable images")

    all_images = [img for img, _ in train_pairs + test_pairs]
    size = image_size or Counter(img.shape[:2] for img in all_images).most_common(1)[0][0]
    channels = 1 if all(img.ndim == 2 for img in all_images) else 3

    def stack(pairs: list[tuple[np.ndarray, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        arrays = [_conform(img, size, channels) for img, _ in pairs]
        images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
        return images, torch.tensor([label for _, label in pairs], dtype=torch.int64)

    train_images, train_labels = stack(train_pairs)
    test_images, test_labels = stack(test_pairs) if has_split else (None, None)
    return RawData(
        name=root.name or str(root),
        classes=classes,
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        skipped=skipped,
    )


def _class_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _list_files(root: Path, classes: list[str]) -> list[tuple[Path, str]]:
    """Image files per class, searched recursively, in a stable (sorted) order."""
    found = []
    for cls in classes:
        for dirpath, dirnames, filenames in os.walk(root / cls, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                extension = os.path.splitext(name)[1].lower()
                if not name.startswith(".") and extension in IMAGE_EXTENSIONS:
                    found.append((Path(dirpath) / name, cls))
    return found


def _decode_all(paths: list[Path]) -> list[np.ndarray | None]:
    # Pillow releases the GIL while decoding, so threads help; map() keeps the order.
    workers = min(8, os.cpu_count() or 1)
    if workers == 1 or len(paths) < 64:
        return [_decode(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_decode, paths, chunksize=32))


def _decode(path: Path) -> np.ndarray | None:
    """H×W uint8 for grayscale images, H×W×3 for everything else; None if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode.startswith("I;16") or image.mode in ("I", "F"):
                # 16-bit / float grayscale: Pillow's own conversion to 8 bits would clip at 255.
                values = np.asarray(image, dtype=np.float64)
                scale = 255.0 / 65535.0 if values.max(initial=0) > 255 else 1.0
                return np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
            if image.mode in _GRAY_MODES:
                return np.asarray(image.convert("L"))
            return np.asarray(image.convert("RGB"))
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for bad files (OSError...)
        return None


def _conform(image: np.ndarray, size: tuple[int, int], channels: int) -> np.ndarray:
    """Resize to ``size`` (H, W) and return H×W×channels uint8."""
    from PIL import Image

    if image.shape[:2] != tuple(size):
        # Pillow's bilinear filter widens with the scale factor, so shrinking is antialiased.
        resized = Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR)
        image = np.asarray(resized)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] != channels:
        image = np.repeat(image, channels, axis=2)
    return image


def _check_every_class_has_images(
    root: Path, classes: list[str], pairs: list, skipped: list[str]
) -> None:
    counts = Counter(label for _, label in pairs)
    empty = [c for i, c in enumerate(classes) if counts[i] == 0]
    if len(empty) == len(classes):
        extra = f" ({len(skipped)} file(s) could not be read)" if skipped else ""
        raise DataError(
            f"the image folder {root} has no readable images in its class subfolders{extra}"
        )
    if empty:
        raise DataError(
            f"class folder(s) {', '.join(str(root / c) for c in empty)} in {root} have no "
            f"readable images; "
            f"add images or remove the folder"
        )
