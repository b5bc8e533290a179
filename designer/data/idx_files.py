"""Checks for MNIST-style IDX files, so a broken file is reported by name before torchvision reads
it.

Format (big-endian): two zero bytes, a type byte (0x08 = uint8), a dimension count byte,
one uint32 per dimension, then the values.
"""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

from designer.data.errors import DataError


def check_idx_file(path: Path, ndim: int) -> int:
    """Check the header and size of an uncompressed uint8 IDX file; return its item count."""
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[0:2] != b"\x00\x00":
            raise DataError(
                f"{path} is not an IDX file (it does not start with the IDX magic number)"
            )
        if header[2] != 0x08:
            raise DataError(
                f"{path} holds IDX type 0x{header[2]:02x}; expected unsigned bytes (0x08)"
            )
        if header[3] != ndim:
            raise DataError(f"{path} has {header[3]} dimensions; expected {ndim}")
        dims_raw = f.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise DataError(f"{path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", dims_raw)
    values = 1
    for d in dims:
        values *= d
    if size != 4 + 4 * ndim + values:
        raise DataError(
            f"{path} should hold {'×'.join(map(str, dims))} = {values} bytes of data after its "
            "header "
            f"but holds {size - 4 - 4 * ndim}; the file is truncated or damaged"
        )
    return dims[0]


def gunzip_missing(raw_dir: Path, names: list[str]) -> None:
    """Unpack ``name.gz`` to ``name`` where only the compressed file is present.

    torchvision reads only the unpacked files, and it would unpack a .gz itself only if its
    md5 matched the official archive; otherwise it downloads again, which fails offline.
    """
    for name in names:
        target, packed = raw_dir / name, raw_dir / f"{name}.gz"
        if target.is_file() or not packed.is_file():
            continue
        partial = target.with_name(target.name + ".partial")
        try:
            with gzip.open(packed, "rb") as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:
            partial.unlink(missing_ok=True)
            raise DataError(f"could not unpack {packed}: {exc}") from exc
        partial.replace(target)
