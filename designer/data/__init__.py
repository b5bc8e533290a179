"""Datasets for training designs: loading, splitting, preprocessing, augmentation and batching.

Names are imported from their submodules on first use, so importing this package stays cheap
(torch, torchvision and scikit-learn take seconds to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from designer.data.errors import DataError

_EXPORTS = {
    "Augmentation": "designer.data.augment",
    "augment_batch": "designer.data.augment",
    "preview_grid": "designer.data.augment",
    "iterate_batches": "designer.data.batches",
    "PreparedData": "designer.data.prepare",
    "prepare_data": "designer.data.sources",
    "NormStats": "designer.data.preprocess",
    "Preprocessing": "designer.data.preprocess",
    "to_network_input": "designer.data.preprocess",
    "RawData": "designer.data.rawdata",
    "KNOWN_SOURCES": "designer.data.sources",
    "default_data_dir": "designer.data.data_dir",
    "load_source": "designer.data.sources",
    "SplitIndices": "designer.data.splits",
    "split_indices": "designer.data.splits",
}

__all__ = [
    "KNOWN_SOURCES",
    "Augmentation",
    "DataError",
    "NormStats",
    "PreparedData",
    "Preprocessing",
    "RawData",
    "SplitIndices",
    "augment_batch",
    "default_data_dir",
    "iterate_batches",
    "load_source",
    "prepare_data",
    "preview_grid",
    "split_indices",
    "to_network_input",
]

if TYPE_CHECKING:
    from designer.data.augment import Augmentation, augment_batch, preview_grid
    from designer.data.batches import iterate_batches
    from designer.data.data_dir import default_data_dir
    from designer.data.prepare import PreparedData
    from designer.data.preprocess import NormStats, Preprocessing, to_network_input
    from designer.data.rawdata import RawData
    from designer.data.sources import KNOWN_SOURCES, load_source, prepare_data
    from designer.data.splits import SplitIndices, split_indices


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'designer.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
