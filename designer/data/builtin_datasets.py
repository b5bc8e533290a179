"""The downloadable named datasets: MNIST, Fashion-MNIST and CIFAR, read from torchvision's layout.

torchvision is imported inside the loaders; it takes seconds to import.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from designer.data.cifar_files import CIFAR10, CIFAR100, read_cifar_folder
from designer.data.data_dir import DATA_DIR_ENV
from designer.data.download import DownloadCancelled, DownloadError, download
from designer.data.errors import DataError
from designer.data.idx_files import check_idx_file, gunzip_missing
from designer.data.rawdata import RawData

log = logging.getLogger("designer.data")

# A download that gets no answer for this long counts as failed, so an offline machine whose
# firewall drops packets gives an error instead of hanging the app.
DOWNLOAD_TIMEOUT_SECONDS = 30.0


# key: (torchvision class, title, where to get the files by hand)
IDX_DATASETS = {
    "mnist": ("MNIST", "MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": (
        "FashionMNIST",
        "Fashion-MNIST",
        "https://github.com/zalandoresearch/fashion-mnist",
    ),
}
_IDX_FILES = {  # file -> dimensions
    "train-images-idx3-ubyte": 3,
    "train-labels-idx1-ubyte": 1,
    "t10k-images-idx3-ubyte": 3,
    "t10k-labels-idx1-ubyte": 1,
}

CIFAR_DATASETS = {
    "cifar10": ("CIFAR10", "CIFAR-10", CIFAR10),
    "cifar100": ("CIFAR100", "CIFAR-100", CIFAR100),
}
_CIFAR_HOME = "https://www.cs.toronto.edu/~kriz/cifar.html"


def load_idx_dataset(key: str, root: Path, progress: FileProgress | None = None) -> RawData:
    from torchvision import datasets

    class_name, title, home = IDX_DATASETS[key]
    raw_dir = root / class_name / "raw"
    gunzip_missing(raw_dir, list(_IDX_FILES))
    missing = [name for name in _IDX_FILES if not (raw_dir / name).is_file()]
    dataset_cls = getattr(datasets, class_name)
    if missing:
        listing = ", ".join(f"{name}(.gz)" for name in _IDX_FILES)
        _download(
            lambda: _fetch_idx(dataset_cls, raw_dir, progress),
            f"{title} is not in {raw_dir}",
            f"Put {listing} (from {home}) in {raw_dir}{os.sep}",
        )
        gunzip_missing(raw_dir, list(_IDX_FILES))
    else:
        counts = {name: check_idx_file(raw_dir / name, ndim) for name, ndim in _IDX_FILES.items()}
        for split in ("train", "t10k"):
            images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
            if counts[images] != counts[labels]:
                raise DataError(
                    f"{raw_dir / images} holds {counts[images]} images but "
                    f"{raw_dir / labels} holds {counts[labels]} labels"
                )
    try:
        train = dataset_cls(str(root), train=True)
        test = dataset_cls(str(root), train=False)
    except (RuntimeError, ValueError, TypeError, AssertionError, OSError) as exc:
        raise DataError(f"could not read {title} from {raw_dir}: {exc}") from exc
    return RawData(
        name=key,
        classes=list(train.classes),
        train_images=train.data.unsqueeze(1).contiguous(),
        train_labels=train.targets,
        test_images=test.data.unsqueeze(1).contiguous(),
        test_labels=test.targets,
    )


def load_cifar_dataset(key: str, root: Path, progress: FileProgress | None = None) -> RawData:
    from torchvision import datasets

    class_name, title, layout = CIFAR_DATASETS[key]
    folder = root / layout.folder
    missing = [name for name in layout.all_files if not (folder / name).is_file()]
    dataset_cls = getattr(datasets, class_name)
    if missing:
        partly = f" (missing: {', '.join(missing)})" if len(missing) < len(layout.all_files) else ""
        _download(
            lambda: _fetch_cifar(dataset_cls, root, progress),
            f"{title} is not in {folder}{partly}",
            f"Download {layout.archive} from {_CIFAR_HOME} and unpack it in {root}, "
            f"so that {folder}{os.sep} holds {layout.files_text}",
        )
    try:
        train = dataset_cls(str(root), train=True)
        test = dataset_cls(str(root), train=False)
    except RuntimeError:
        # torchvision refuses files whose md5 differs from the official archive; read the same
        # format ourselves instead of downloading over the user's files.
        log.info(
            "%s files in %s differ from the official archive; reading them directly", title, folder
        )
        classes, train_images, train_labels, test_images, test_labels = read_cifar_folder(
            folder, layout
        )
    else:
        classes = list(train.classes)
        train_images, train_labels = _cifar_tensors(train)
        test_images, test_labels = _cifar_tensors(test)
    return RawData(
        name=key,
        classes=classes,
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
    )


def files_present(key: str, root: Path) -> bool:
    """Whether the files of the named dataset ``key`` (MNIST, Fashion-MNIST or CIFAR) are in
    ``root``, so that loading it downloads nothing."""
    if key in IDX_DATASETS:
        raw_dir = root / IDX_DATASETS[key][0] / "raw"
        return all(
            (raw_dir / name).is_file() or (raw_dir / f"{name}.gz").is_file() for name in _IDX_FILES
        )
    layout = CIFAR_DATASETS[key][2]
    return all((root / layout.folder / name).is_file() for name in layout.all_files)


def _cifar_tensors(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    return images, torch.tensor(dataset.targets, dtype=torch.int64)


# progress(file name, bytes so far, total bytes or None), and whether to stop (cancel)
FileProgress = Callable[[str, int, "int | None"], "bool | None"]


def _fetch_idx(dataset_cls, raw_dir: Path, progress: FileProgress | None) -> None:
    """The dataset's .gz files from torchvision's mirror list, each checked against its MD5."""
    for filename, md5 in dataset_cls.resources:
        if (raw_dir / filename).is_file() or (raw_dir / filename.removesuffix(".gz")).is_file():
            continue
        errors = []
        for mirror in dataset_cls.mirrors:
            try:
                _fetch(mirror + filename, raw_dir / filename, md5, progress)
                break
            except DownloadError as exc:
                errors.append(str(exc))
        else:
            raise DownloadError("; ".join(errors))


def _fetch_cifar(dataset_cls, root: Path, progress: FileProgress | None) -> None:
    """The official archive (MD5-checked), unpacked where torchvision reads it."""
    import tarfile

    archive = root / dataset_cls.filename
    if not archive.is_file():
        _fetch(dataset_cls.url, archive, dataset_cls.tgz_md5, progress)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(root, filter="data")


def _fetch(url: str, target: Path, md5: str, progress: FileProgress | None) -> None:
    report = stop = None
    if progress is not None:
        state = {"stop": False}

        def report(done: int, total: int | None) -> None:
            state["stop"] = bool(progress(target.name, done, total))

        def stop() -> bool:
            return state["stop"]

    download(
        url, target, md5=md5, progress=report, cancelled=stop, timeout=DOWNLOAD_TIMEOUT_SECONDS
    )


def _download(fetch: Callable[[], object], problem: str, instructions: str) -> None:
    log.info("%s; trying to download it", problem)
    try:
        with _network_timeout(DOWNLOAD_TIMEOUT_SECONDS):
            fetch()
    except DownloadCancelled:
        raise DataError(f"{problem}; the download was stopped") from None
    except (
        Exception
    ) as exc:  # urllib, http.client, tarfile and torchvision each raise their own kinds
        raise DataError(
            f"{problem} and could not be downloaded ({_last_line(exc)}). {instructions}, "
            f"or set {DATA_DIR_ENV} to a folder that has them."
        ) from exc


@contextmanager
def _network_timeout(seconds: float) -> Iterator[None]:
    # torchvision's urlopen calls pass no timeout, so they use the process-wide default.
    previous = socket.getdefaulttimeout()
    if previous is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _last_line(exc: BaseException) -> str:
    # torchvision's messages put the useful cause ("Name or service not known") last.
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
