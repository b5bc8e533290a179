"""scikit-learn's bundled 8×8 digits: the dataset that is always there, offline.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import torch

from designer.data.errors import DataError
from designer.data.rawdata import RawData


def load_digits_data() -> RawData:
    """The 1797 digits as 1×8×8 uint8 images; they ship with scikit-learn, so loading them never
    touches the network."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        message = "the digits dataset comes with scikit-learn: pip install scikit-learn"
        raise DataError(message) from None

    bunch = load_digits()
    pixels = torch.from_numpy(bunch.images).float()  # values 0..16
    images = (pixels * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)
    labels = torch.from_numpy(bunch.target).long()
    return RawData(
        name="digits",
        classes=[str(c) for c in bunch.target_names],
        train_images=images,
        train_labels=labels,
    )
