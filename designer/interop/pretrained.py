"""torchvision's pretrained ImageNet weights for a template, with progress and cancel.

torchvision's weights API names the file (its URL, and the hash prefix in the file name); the
download itself is done here, in chunks, so a UI can show progress and stop it, into torch's own
cache (torch.hub's checkpoints folder), where torchvision then finds it. Offline, the error names
the URL and where to put a copy made elsewhere (or: pick the file, as `--weights-file` does).
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from designer.core.atomic import atomic_path
from designer.interop.torchvision_weights import PretrainedUnavailable

CHUNK = 1 << 16
TIMEOUT_SECONDS = 30.0


class DownloadCancelled(Exception):
    """The user stopped the download; nothing was written."""


@dataclass(frozen=True)
class PretrainedFile:
    label: str          # e.g. "ResNet18_Weights.IMAGENET1K_V1"
    url: str
    cache: Path         # where torch keeps it once downloaded

    @property
    def cached(self) -> bool:
        return self.cache.is_file()


def pretrained_file(model: str) -> PretrainedFile:
    """The default ImageNet weights of torchvision's ``model`` (no download)."""
    import torch
    from torchvision.models import get_model_weights

    weights = get_model_weights(model).DEFAULT
    cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    return PretrainedFile(f"{type(weights).__name__}.{weights.name}", weights.url, cache)


def download(url: str, target: Path, *, progress: Callable[[int, int | None], None] | None = None,
             cancelled: Callable[[], bool] | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
    """Fetch ``url`` into ``target`` (atomically: a stopped or failed download leaves nothing).
    progress(bytes so far, total or None) after every chunk; cancelled() is asked as often.
    The file's name may carry a hash prefix (torch.hub's "name-<sha256 prefix>.pth"): a file
    whose hash does not start with it is refused. Raises PretrainedUnavailable or
    DownloadCancelled."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            digest, done = hashlib.sha256(), 0
            with open(tmp, "wb") as out:
                while chunk := response.read(CHUNK):
                    if cancelled is not None and cancelled():
                        raise DownloadCancelled(f"the download of {url} was stopped")
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            expected = _hash_prefix(target.name)
            if expected and not digest.hexdigest().startswith(expected):
                raise PretrainedUnavailable(f"the file downloaded from {url} is damaged (its "
                                            f"SHA-256 does not start with {expected}); try again")
    except (TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise PretrainedUnavailable(
            f"cannot download {url} ({reason}). Download it on a machine with internet access "
            f"and put it at {target}, or choose the file (.pth or .safetensors)") from None


def _hash_prefix(name: str) -> str | None:
    """torch.hub's convention: the part after the last '-' of the stem, if it is hexadecimal."""
    stem = Path(name).stem
    if "-" not in stem:
        return None
    prefix = stem.rsplit("-", 1)[1]
    return prefix if len(prefix) >= 6 and all(c in "0123456789abcdef" for c in prefix) else None
