"""Weights files: `.safetensors` in the designer's own names (the compiled module's state_dict
keys). Loading is all-or-nothing: a missing tensor, an unexpected one or a shape mismatch is
refused with a message naming the tensor, and the model is left untouched."""

from __future__ import annotations

from pathlib import Path


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file and the tensor."""


def state_dict_for_save(module) -> dict:
    """Contiguous CPU tensors, one per state_dict key (safetensors refuses shared storage)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}


def save_weights(module, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write the module's state_dict atomically (temp file + rename)."""
    from safetensors.torch import save_file

    from designer.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        save_file(state_dict_for_save(module), str(tmp), metadata=metadata)


def read_tensors(path: str | Path) -> dict:
    """Tensors of a .safetensors file, or of a .pt/.pth state_dict loaded with weights_only=True."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors/unpickler errors: report, run nothing
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            reason = "it holds pickled Python objects, not just tensors (refused for safety)"
        raise WeightsError(f"{path}: cannot be read as weights: {reason}") from None
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise WeightsError(f"{path}: is not a state_dict (a mapping of names to tensors)")
    return data


def check_compatible(module, tensors: dict, source: str) -> None:
    """Raise WeightsError naming the first missing, unexpected or mis-shaped tensor."""
    own = module.state_dict()
    missing = [k for k in own if k not in tensors]
    extra = [k for k in tensors if k not in own]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise WeightsError(f"{source}: the tensor '{missing[0]}' is missing{more}")
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise WeightsError(
            f"{source}: the tensor '{extra[0]}' does not belong to this design{more}"
        )
    for k, v in own.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise WeightsError(
                f"{source}: the tensor '{k}' has shape {tuple(tensors[k].shape)} but the design "
                f"needs {tuple(v.shape)}"
            )


def load_weights(module, path: str | Path) -> None:
    """Load a weights file into the module with strict=True, or change nothing and raise."""
    tensors = read_tensors(path)
    check_compatible(module, tensors, str(path))
    module.load_state_dict(tensors, strict=True)


WEIGHTS_KEY = "weights"  # design.metadata key: weights file, relative to the design file


def design_weights_path(design, design_path: str | Path | None) -> Path | None:
    """The weights file a design refers to (kept beside it), or None if it has none."""
    ref = design.metadata.get(WEIGHTS_KEY)
    if not ref:
        return None
    ref = Path(ref)
    if not ref.is_absolute() and design_path is not None:
        ref = Path(design_path).resolve().parent / ref
    return ref


FRESH_KEY = "fresh_weights"  # design.metadata: ids of nodes whose weights in the file are new


def nodes_with_weights(design, analysis, design_path) -> set[str]:
    """Top-level nodes whose weights come from the design's weights file (trained or
    pretrained): every node with parameters, except those a transfer edit made fresh."""
    path = design_weights_path(design, design_path)
    if path is None or not path.is_file():
        return set()
    fresh = set(design.metadata.get(FRESH_KEY) or ())
    return {
        nid
        for nid, info in analysis.info.items()
        if nid in design.nodes
        and nid not in fresh
        and (info.trainable_params or info.buffer_params)
    }
