"""Tensors to pixmaps for the panels: a uint8 or 0..1 float C×H×W image, scaled up with
nearest-neighbour so 8×8 digits stay crisp rather than blurred."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from designer.viz.render import to_rgb8


def image_pixmap(image, size: int) -> QPixmap:
    """A C×H×W image (torch tensor or numpy; 1 or 3 channels) as a ``size``-pixel-tall pixmap."""
    array = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if np.issubdtype(array.dtype, np.integer):  # 0..255 pixels
        array = array.astype(np.float32) / 255.0
    array = array.astype(np.float32)
    rgb = np.ascontiguousarray(to_rgb8(np.transpose(array, (1, 2, 0))))
    h, w = rgb.shape[:2]
    qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaledToHeight(size, Qt.TransformationMode.FastTransformation)
