"""Where the named datasets live (and are downloaded to) unless a data directory is given.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "NETDESIGNER_DATA"


def default_data_dir() -> Path:
    """$NETDESIGNER_DATA, else ~/.cache/netdesigner/data."""
    return Path(os.environ.get(DATA_DIR_ENV) or "~/.cache/netdesigner/data").expanduser()
