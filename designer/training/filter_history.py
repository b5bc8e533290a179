"""The first convolution's filters at every epoch of a run, so a user can watch them learn.

One small safetensors file in the run directory, ``filters.safetensors``: a tensor per epoch,
``epoch_0`` (the initial weights, written when the run starts) then ``epoch_1``, ``epoch_2``...
(after each finished epoch), all of the first convolution's weight shape; its metadata names the
module ("conv1", or "stem.conv" inside a block) as the model's state_dict does. A resumed run
rewrites the epochs from where it resumes, so the file always matches the checkpoint's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from designer.core.atomic import atomic_path

FILE = "filters.safetensors"
PREFIX = "epoch_"
CONV_MODULES = (nn.Conv2d, nn.ConvTranspose2d)


@dataclass
class FilterHistory:
    module: str  # the convolution's qualified name in the model
    weights: dict[int, torch.Tensor]  # epoch -> weight (epoch 0: before training)

    @property
    def epochs(self) -> list[int]:
        return sorted(self.weights)


def first_convolution(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The model's first convolution in definition order (the generated code defines the layers
    in the order they run), or None for a network without one."""
    for name, module in model.named_modules():
        if isinstance(module, CONV_MODULES):
            return name, module
    return None


def record(run_path: str | Path, model: nn.Module, epoch: int) -> None:
    """Store the first convolution's weights as ``epoch``'s, dropping any later epochs (left by
    a run that is being resumed from an earlier checkpoint). Nothing for a network without one."""
    found = first_convolution(model)
    if found is None:
        return
    name, conv = found
    path = Path(run_path) / FILE
    kept = {}
    if epoch > 0 and path.exists():
        old = read(run_path)
        if old is not None and old.module == name:
            kept = {f"{PREFIX}{e}": w for e, w in old.weights.items() if e < epoch}
    kept[f"{PREFIX}{epoch}"] = conv.weight.detach().float().cpu().contiguous()
    with atomic_path(path) as tmp:
        save_file(kept, str(tmp), metadata={"module": name})


def read(run_path: str | Path) -> FilterHistory | None:
    """The run's filter history, or None when it has none (a run from before the file existed,
    or a network without a convolution) or the file cannot be read."""
    path = Path(run_path) / FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            module = (f.metadata() or {}).get("module", "")
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError):
        return None
    weights = {
        int(k[len(PREFIX) :]): v
        for k, v in tensors.items()
        if k.startswith(PREFIX) and k[len(PREFIX) :].isdigit()
    }
    return FilterHistory(module, weights) if weights else None
