"""torchvision weights -> a design's own weights, mapped by structure.

A torchvision state_dict is first put in the order of the torchvision model it belongs to
(built on the meta device, so it costs no memory) and checked against it: every tensor present,
none extra. Then modules are paired in order with the design's compiled module: the i-th module
holding tensors in torchvision (e.g. `layer1.0.conv1`) with the i-th one in the design
(`layer1_0.conv1`), the tensor names of each pair equal and every shape checked. No table of
names per model: this works because the templates build each network in torchvision's order,
and the equivalence tests prove the outputs equal.

Nothing is half-loaded: the result is a complete state_dict for the design, or a WeightsError
naming the first tensor that does not fit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from designer.interop.weights import WeightsError, read_tensors, save_weights

# Old DenseNet checkpoints (torchvision's own downloads) name layers 'norm.1' instead of 'norm1';
# torchvision renames them the same way when it loads them.
_DENSENET_LEGACY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
_COUNTER = "num_batches_tracked"  # BatchNorm's step counter; checkpoints before PyTorch 0.4 lack it


def module_groups(keys) -> list[tuple[str, list[str]]]:
    """Consecutive keys with the same module prefix: [('layer1.0.conv1', ['...weight']), ...]."""
    groups: list[tuple[str, list[str]]] = []
    for key in keys:
        prefix = key.rpartition(".")[0]
        if groups and groups[-1][0] == prefix:
            groups[-1][1].append(key)
        else:
            groups.append((prefix, [key]))
    return groups


def _leaf(key: str) -> str:
    return key.rpartition(".")[2]


def _shape(t) -> tuple[int, ...]:
    return tuple(t.shape)


def canonical_source(
    tensors: dict, reference_keys: list[str], source: str, ignore: tuple[str, ...] = ()
) -> dict:
    """The source tensors in the reference model's order, after dropping ignored prefixes and
    renaming legacy keys; raises WeightsError naming a missing or unexpected tensor."""
    import torch

    renamed: dict[str, Any] = {}
    keys = list(tensors)
    if keys and all(k.startswith("module.") for k in keys):  # saved from DataParallel
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    for key, value in tensors.items():
        if any(key.startswith(p) for p in ignore):
            continue
        m = _DENSENET_LEGACY.match(key)
        renamed[m.group(1) + m.group(2) if m else key] = value
    wanted = set(reference_keys)
    extra = [k for k in renamed if k not in wanted]
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise WeightsError(
            f"{source}: the tensor '{extra[0]}'{more} does not belong to this "
            "network; is it a state_dict of another architecture?"
        )
    ordered = {}
    for key in reference_keys:
        if key in renamed:
            ordered[key] = renamed[key]
        elif _leaf(key) == _COUNTER:
            ordered[key] = torch.tensor(0, dtype=torch.long)
        else:
            missing = [k for k in reference_keys if k not in renamed and _leaf(k) != _COUNTER]
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise WeightsError(f"{source}: the tensor '{key}' is missing{more}")
    return ordered


def map_by_structure(
    source: dict, target_shapes: dict[str, tuple[int, ...]], source_name: str, head_hint: str = ""
) -> dict:
    """Pair the modules of `source` with those of the target in order; return target key ->
    tensor. Raises WeightsError naming the first tensor whose name or shape does not fit
    (adding `head_hint` when that is in the last layer, the classifier)."""
    src_groups, dst_groups = module_groups(source), module_groups(target_shapes)
    mapped = {}
    for i, ((sp, skeys), (dp, dkeys)) in enumerate(zip(src_groups, dst_groups)):
        hint = head_hint if i == len(dst_groups) - 1 else ""
        snames = {_leaf(k): k for k in skeys}
        dnames = {_leaf(k): k for k in dkeys}
        if set(snames) != set(dnames):
            raise WeightsError(
                f"{source_name}: the module '{sp}' ({', '.join(snames)}) does not correspond to "
                f"the design's '{dp}' ({', '.join(dnames)}); the architectures differ there"
            )
        for name, dkey in dnames.items():
            skey = snames[name]
            have, need = _shape(source[skey]), tuple(target_shapes[dkey])
            if have != need:
                raise WeightsError(
                    f"{source_name}: the tensor '{skey}' has shape {have} but the design's "
                    f"'{dkey}' needs {need}{hint}"
                )
            mapped[dkey] = source[skey]
    if len(src_groups) != len(dst_groups):
        if len(src_groups) > len(dst_groups):
            _, keys = src_groups[len(dst_groups)]
            raise WeightsError(
                f"{source_name}: the tensor '{keys[0]}' has no place in the design "
                f"(it has {len(dst_groups)} layers with weights, the file "
                f"{len(src_groups)})"
            )
        _, keys = dst_groups[len(src_groups)]
        raise WeightsError(
            f"{source_name}: nothing in it fits the design's '{keys[0]}' (the "
            f"design has {len(dst_groups)} layers with weights, the file "
            f"{len(src_groups)})"
        )
    return mapped


def meta_module(design, code=None):
    """The design's compiled module with meta tensors: every key and shape, no memory."""
    import torch

    from designer.codegen import generate, load_source

    code = code or generate(design)
    with torch.device("meta"):
        return load_source(code.source, code.class_name).build_model(), code


def torchvision_to_design(design, tensors: dict, link, source_name: str) -> dict:
    """A complete state_dict for `design` (its own key names) from a torchvision state_dict of
    the architecture `link` describes (designer_templates._imagenet.TorchvisionLink)."""
    import torch

    module, code = meta_module(design)
    with torch.device("meta"):
        reference = link.reference()
    source = canonical_source(tensors, list(reference.state_dict()), source_name, link.ignore)
    if getattr(link, "adapt", None) is not None:
        source = link.adapt(source)
    target = {k: _shape(v) for k, v in module.state_dict().items()}
    fixed: dict[str, Any] = {}
    for node_name, values in link.fixed.items():
        node = design.find(node_name)
        attr = code.module_names.get(node.id) if node is not None else None
        if attr is None:
            raise WeightsError(
                f"the design has no layer {node_name!r} to hold torchvision's fixed input transform"
            )
        for name, value in values.items():
            fixed[f"{attr}.{name}"] = torch.tensor(value, dtype=torch.float32)
    hint = (
        f" (weights for another number of classes? this design has {design.num_classes}; "
        "make it with the template option num_classes=N)"
    )
    mapped = map_by_structure(
        source, {k: s for k, s in target.items() if k not in fixed}, source_name, hint
    )
    for key, value in fixed.items():
        if _shape(value) != target[key]:
            raise WeightsError(
                f"the fixed tensor '{key}' has shape {_shape(value)} but the "
                f"design needs {target[key]}"
            )
        mapped[key] = value
    return {k: mapped[k] for k in target}


def save_design_weights(
    design, tensors: dict, path: str | Path, metadata: dict[str, str] | None = None
) -> None:
    """Write a design's weights (its own key names) after checking that they load with
    strict=True into its compiled module; atomic, so a failure leaves no file behind."""
    module, _ = meta_module(design)
    from designer.interop.weights import check_compatible

    check_compatible(module, tensors, str(path))
    module.load_state_dict(tensors, strict=True, assign=True)
    save_weights(module, path, metadata=metadata)


def load_design_weights(design, path: str | Path) -> dict:
    """A design's weights file, checked against the design (every tensor, every shape)."""
    from designer.interop.weights import check_compatible

    tensors = read_tensors(path)
    module, _ = meta_module(design)
    check_compatible(module, tensors, str(path))
    return tensors


class PretrainedUnavailable(WeightsError):
    """torchvision's pretrained weights could not be fetched (offline, or no such weights)."""


def pretrained_state_dict(model: str) -> tuple[dict, str]:
    """torchvision's default ImageNet weights for `model` through its weights API (downloaded
    once, then read from torch's cache); returns (state_dict, 'Enum.MEMBER')."""
    import torch
    from torchvision.models import get_model_weights

    weights = get_model_weights(model).DEFAULT
    label = f"{type(weights).__name__}.{weights.name}"
    cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    cached = cache.is_file()
    try:
        state = weights.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch.load of a damaged file raises anything
        # Downloads fail with URLError / HTTPError / socket errors (OSErrors); a damaged or
        # foreign cached file fails in torch.load (with whatever its unpickler hits); a bad
        # download fails the hash check.
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0] or type(exc).__name__
        if cached:
            raise PretrainedUnavailable(
                f"torchvision's {label} weights could not be read from {cache}: {reason}; "
                "delete that file to download it again, or pass a copy with --weights-file "
                "PATH"
            ) from None
        raise PretrainedUnavailable(
            f"cannot download torchvision's {label} weights ({reason}). Download "
            f"{weights.url} on a machine with internet access and pass the file with "
            f"--weights-file PATH (or put it at {cache})"
        ) from None
    return state, label


def attach_torchvision_weights(design, tensors: dict, link, source: str, weights_out) -> None:
    """Map a torchvision state_dict onto ``design`` (its template's link), write the design's
    weights file ``weights_out`` and point the design at it (metadata "weights", relative to the
    design file, which goes beside it). Raises WeightsError or OSError. `netdesigner new
    --pretrained/--weights-file` and the app's "with ImageNet weights" both come here."""
    from designer.interop.weights import WEIGHTS_KEY

    mapped = torchvision_to_design(design, tensors, link, source)
    save_design_weights(design, mapped, weights_out, metadata={"source": source})
    design.metadata[WEIGHTS_KEY] = Path(weights_out).name
    design.metadata["weights_source"] = source
