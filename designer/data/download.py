"""Fetch a file over HTTP(S) in chunks, with progress and cancel, atomically, checking its hash.

The one downloader of the project: datasets (MNIST, Fashion-MNIST, CIFAR) and pretrained weights
come through here, so a UI can show a real progress bar and a Cancel button, and a failed or
stopped download never leaves half a file where a reader would take it for a whole one.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Callable
from pathlib import Path

from designer.core.atomic import atomic_path

CHUNK = 1 << 16
TIMEOUT_SECONDS = 30.0

Progress = Callable[[int, int | None], None]  # bytes so far, total (None: unknown)


class DownloadError(OSError):
    """The file could not be fetched (offline, refused, damaged); the message says why."""


class DownloadCancelled(Exception):
    """The user stopped the download; nothing was written."""


def download(
    url: str,
    target: str | Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    md5: str | None = None,
    sha256_prefix: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    """Fetch ``url`` into ``target``; progress() after every chunk, cancelled() asked as often.
    ``md5`` / ``sha256_prefix``: what the file's hash must be (or start with). Raises
    DownloadError or DownloadCancelled; either way ``target`` is untouched."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            sha, md, done = hashlib.sha256(), hashlib.md5(), 0
            with open(tmp, "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    sha.update(chunk)
                    md.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                    if cancelled is not None and cancelled():
                        raise DownloadCancelled(f"the download of {url} was stopped")
            if sha256_prefix and not sha.hexdigest().startswith(sha256_prefix):
                raise DownloadError(
                    f"the file downloaded from {url} is damaged (its SHA-256 does "
                    f"not start with {sha256_prefix}); try again"
                )
            if md5 and md.hexdigest() != md5:
                raise DownloadError(
                    f"the file downloaded from {url} is damaged (its MD5 is not {md5}); try again"
                )
    except DownloadError:
        raise
    except (TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise DownloadError(f"cannot download {url} ({reason})") from None


def hash_prefix(name: str) -> str | None:
    """torch.hub's convention "name-<sha256 prefix>.pth": the prefix, if the stem carries one."""
    stem = Path(name).stem
    if "-" not in stem:
        return None
    prefix = stem.rsplit("-", 1)[1]
    return prefix if len(prefix) >= 6 and all(c in "0123456789abcdef" for c in prefix) else None
