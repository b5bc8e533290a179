"""torchvision's pretrained ImageNet weights for a template, with progress and cancel.

torchvision's weights API names the file (its URL, and the hash prefix in the file name); the
download itself is designer.data.download's, in chunks, so a UI can show progress and stop it,
into torch's own cache (torch.hub's checkpoints folder), where torchvision then finds it. Offline,
the error names
the URL and where to put a copy made elsewhere (or: pick the file, as `--weights-file` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from designer.data.download import TIMEOUT_SECONDS, DownloadCancelled, DownloadError, hash_prefix
from designer.data.download import download as fetch
from designer.interop.torchvision_weights import PretrainedUnavailable

__all__ = ["DownloadCancelled", "PretrainedFile", "download", "pretrained_file"]


@dataclass(frozen=True)
class PretrainedFile:
    label: str  # e.g. "ResNet18_Weights.IMAGENET1K_V1"
    url: str
    cache: Path  # where torch keeps it once downloaded

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


def download(
    url: str, target: Path, *, progress=None, cancelled=None, timeout: float = TIMEOUT_SECONDS
) -> None:
    """Fetch pretrained weights into ``target`` (designer.data.download, with torch.hub's hash
    prefix checked). Raises PretrainedUnavailable, naming the URL and where a copy goes, or
    DownloadCancelled."""
    try:
        fetch(
            url,
            target,
            progress=progress,
            cancelled=cancelled,
            sha256_prefix=hash_prefix(Path(target).name),
            timeout=timeout,
        )
    except DownloadError as exc:
        raise PretrainedUnavailable(
            f"{exc}. Download it on a machine with internet access and put it at {target}, or "
            f"choose the file (.pth or .safetensors)"
        ) from None
