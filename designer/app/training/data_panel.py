"""The data a run trains on: a source picker (the bundled digits, MNIST, Fashion-MNIST, CIFAR, or a
folder of class subfolders), what the data is (classes, split sizes, a few samples), the engine's
own message when files are missing (offline, it says which files go where), a check that the
head fits the number of classes with a one-click fix, and a live preview of the augmentation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from designer.app.panels.fields import ERROR_STYLE
from designer.app.training.background import BackgroundTask
from designer.app.training.images import image_pixmap
from designer.data import DataError
from designer.data.source_names import FOLDER_PREFIX

SOURCES = (  # (dataset setting, label)
    ("digits", "Digits (8×8, bundled, offline)"),
    ("mnist", "MNIST"),
    ("fashion_mnist", "Fashion-MNIST"),
    ("cifar10", "CIFAR-10"),
    ("cifar100", "CIFAR-100"),
    ("folder", "Image folder (one subfolder per class)…"),
)

SAMPLES_SHOWN = 8
PREVIEW_IMAGES = 8


@dataclass
class DataSummary:
    """What the panel shows about a loaded source."""

    name: str
    classes: list[str]
    train: int
    val: int
    test: int
    test_is_own_split: bool
    samples: list  # a few C×H×W uint8 images
    skipped: list[str]


def summarize_source(
    dataset: str,
    data_dir: str | None,
    val_fraction: float,
    test_fraction: float,
    split_seed: int,
    progress=None,
) -> DataSummary:
    """Load a source and count its splits the way the engine will split it (slow: a thread).
    ``progress`` follows a download (designer.data.load_source)."""
    from designer.data import load_source, split_indices

    raw = load_source(dataset, data_dir, progress=progress)
    own_test = raw.test_images is not None
    split = split_indices(
        raw.train_labels,
        val_fraction=val_fraction,
        test_fraction=0.0 if own_test else test_fraction,
        seed=split_seed,
    )
    test = len(raw.test_labels) if own_test else len(split.test)
    samples = [raw.train_images[int(i)] for i in split.train[:SAMPLES_SHOWN]]
    return DataSummary(
        raw.name,
        list(raw.classes),
        len(split.train),
        len(split.val),
        test,
        own_test,
        samples,
        list(raw.skipped),
    )


class _DownloadProgress(QObject):
    """Carries a download's progress from the loading thread to the panel."""

    changed = Signal(str, int, int)  # file, bytes so far, total (0: unknown)


class DataPanel(QGroupBox):
    """Emits ``source_changed(dataset, data_dir)`` when the user picks another source, and
    ``fix_head(classes)`` when they accept the one-click fix of the head."""

    source_changed = Signal(str, object)
    fix_head = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__("Data", parent)
        self.summary: DataSummary | None = None
        self.head_classes: int | None = None
        self.dataset = "digits"
        self.data_dir: str | None = None
        self._split = (0.1, 0.1, 0)
        self._task = BackgroundTask(self)

        self.source = QComboBox()
        self.source.setObjectName("data-source")
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.source.activated.connect(self._source_picked)
        self.folder = QLineEdit()
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText("default data folder")
        self.choose = QPushButton("Choose folder…")
        self.choose.clicked.connect(self._choose_folder)
        self.busy = QProgressBar()
        self.busy.setObjectName("data-progress")
        self.busy.setRange(0, 0)  # indeterminate while loading; a download shows its bytes
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.cancel_download = QPushButton("Cancel download")
        self.cancel_download.hide()
        self.cancel_download.clicked.connect(self._stop_download)
        self._stop = False
        self._download = _DownloadProgress(self)
        self._download.changed.connect(self._show_download)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("data-error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.mismatch = QLabel()
        self.mismatch.setWordWrap(True)
        self.mismatch.setStyleSheet(ERROR_STYLE)
        self.fix_button = QPushButton()
        self.fix_button.clicked.connect(lambda: self.fix_head.emit(len(self.summary.classes)))
        self.mismatch.hide()
        self.fix_button.hide()
        self.samples = QHBoxLayout()
        self.samples.setSpacing(2)
        self.preview_title = QLabel("Augmentation preview (one sample)")
        self.preview = QGridLayout()
        self.preview.setSpacing(2)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.choose)
        layout = QVBoxLayout(self)
        layout.addWidget(self.source)
        layout.addLayout(folder_row)
        layout.addWidget(self.busy)
        layout.addWidget(self.cancel_download)
        layout.addWidget(self.error)
        layout.addWidget(self.info)
        layout.addLayout(self.samples)
        layout.addWidget(self.mismatch)
        layout.addWidget(self.fix_button)
        layout.addWidget(self.preview_title)
        layout.addLayout(self.preview)
        self._augmentation = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(60)  # coalesce a slider's burst of changes
        self._preview_timer.timeout.connect(self._draw_preview)

    # -- the source ---------------------------------------------------------------------------
    def set_source(self, dataset: str, data_dir: str | None, split=(0.1, 0.1, 0)) -> None:
        """Show ``dataset`` (from the settings) and load it if it changed."""
        changed = (dataset, data_dir, tuple(split)) != (self.dataset, self.data_dir, self._split)
        self.dataset, self.data_dir, self._split = dataset, data_dir, tuple(split)
        key = "folder" if dataset.startswith(FOLDER_PREFIX) else dataset.lower().replace("-", "_")
        index = self.source.findData(key)
        self.source.setCurrentIndex(max(index, 0))
        self.folder.setText(dataset[len(FOLDER_PREFIX) :] if key == "folder" else (data_dir or ""))
        if changed or self.summary is None and not self._task.busy:
            self.reload()

    def _source_picked(self, index: int) -> None:
        key = self.source.itemData(index)
        if key == "folder":
            self._choose_folder(image_folder=True)
            return
        self.dataset = key
        self.source_changed.emit(key, self.data_dir)
        self.reload()

    def _choose_folder(self, image_folder: bool | None = None) -> None:
        image_folder = image_folder or self.source.currentData() == "folder"
        title = (
            "Image folder (one subfolder per class)"
            if image_folder
            else "Folder that holds the dataset's files"
        )
        start = self.folder.text() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, title, start)
        if not path:
            self.set_source(self.dataset, self.data_dir, self._split)  # back to what it was
            return
        if image_folder:
            self.dataset = FOLDER_PREFIX + path
        else:
            self.data_dir = path
        self.folder.setText(path)
        self.source_changed.emit(self.dataset, self.data_dir)
        self.reload()

    def reload(self) -> None:
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.show()
        self.error.hide()
        self.info.setText(f"Loading {self.dataset}…")
        dataset, data_dir, split = self.dataset, self.data_dir, self._split
        self._stop = False

        def progress(name: str, done: int, total: int | None) -> bool:
            self._download.changed.emit(name, done, total or 0)
            return self._stop

        self._task.start(
            lambda: summarize_source(dataset, data_dir, *split, progress=progress),
            self._loaded,
            self._failed,
            (DataError, OSError),
        )

    def _show_download(self, name: str, done: int, total: int) -> None:
        if not self._task.busy:
            return
        self.cancel_download.show()
        self.busy.setTextVisible(True)
        if total:
            self.busy.setRange(0, total)
            self.busy.setValue(done)
        self.busy.setFormat(
            f"Downloading {name}: {done / 1e6:.1f}"
            + (f" of {total / 1e6:.1f}" if total else "")
            + " MB"
        )

    def _stop_download(self) -> None:
        self._stop = True

    def _loaded(self, summary: DataSummary) -> None:
        self.busy.hide()
        self.cancel_download.hide()
        self.summary = summary
        names = ", ".join(summary.classes[:12]) + (" …" if len(summary.classes) > 12 else "")
        test = "its own test split" if summary.test_is_own_split else "held out"
        text = (
            f"<b>{len(summary.classes)} classes</b>: {names}<br>"
            f"{summary.train:,} training · {summary.val:,} validation · "
            f"{summary.test:,} test ({test})"
        )
        if summary.skipped:
            text += (
                f"<br>{len(summary.skipped)} unreadable image(s) skipped, e.g. {summary.skipped[0]}"
            )
        self.info.setText(text)
        self._clear(self.samples)
        for image in summary.samples:
            label = QLabel()
            label.setPixmap(image_pixmap(image, 40))
            self.samples.addWidget(label)
        self.samples.addStretch(1)
        self._check_head()
        self._draw_preview()

    def _failed(self, message: str) -> None:
        self.busy.hide()
        self.cancel_download.hide()
        self.summary = None
        self.info.setText("")
        self.error.setText(message)
        self.error.show()
        self._clear(self.samples)
        self._check_head()

    # -- the head -----------------------------------------------------------------------------
    def set_head_classes(self, classes: int | None) -> None:
        """The number of classes the design's head gives (None: not a classifier)."""
        self.head_classes = classes
        self._check_head()

    @property
    def head_mismatch(self) -> str | None:
        if self.summary is None or self.head_classes is None:
            return None
        n = len(self.summary.classes)
        if n < 2:
            return (
                "The data has only one class: a classifier learns to tell at least two apart "
                "(an image folder needs one subfolder per class)."
            )
        if n == self.head_classes:
            return None
        return (
            f"The data has {n} classes but the design's head gives {self.head_classes}: "
            f"training would be refused."
        )

    def _check_head(self) -> None:
        problem = self.head_mismatch
        self.mismatch.setText(problem or "")
        self.mismatch.setVisible(bool(problem))
        fixable = bool(problem) and len(self.summary.classes) >= 2
        if fixable:
            self.fix_button.setText(f"Set the head to {len(self.summary.classes)} classes")
        self.fix_button.setVisible(fixable)

    # -- augmentation preview -----------------------------------------------------------------
    def set_augmentation(self, augmentation) -> None:
        self._augmentation = augmentation
        self._preview_timer.start()

    def _draw_preview(self) -> None:
        self._clear(self.preview)
        active = self._augmentation is not None and self._augmentation.is_active
        self.preview_title.setVisible(bool(active and self.summary and self.summary.samples))
        if not self.preview_title.isVisible():
            return
        from designer.data import preview_grid

        image = self.summary.samples[0].float() / 255.0
        grid = preview_grid(image, self._augmentation, n=PREVIEW_IMAGES)
        for i, tile in enumerate(grid):
            label = QLabel()
            label.setPixmap(image_pixmap(tile.clamp(0, 1), 48))
            self.preview.addWidget(label, i // 4, i % 4)

    @staticmethod
    def _clear(layout) -> None:
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
