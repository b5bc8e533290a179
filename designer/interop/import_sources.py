"""Where an imported model comes from: a torchvision builder, a factory in a Python file, an ONNX
file (converted to torch.fx by onnx2torch) or a saved torch.export program.

Safety: a `.py` file is executed, as `python file.py` would (it is the user's own code); an
`.onnx` file is parsed as protobuf, and a `.pt2` program is loaded by torch.export.load with
every unpickling limited to tensors (see _tensors_only), so neither runs code from the file.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class SourceError(Exception):
    """The model cannot be loaded; the message says what and where. `usage` marks a malformed
    request (exit code 2) rather than a failed load (1)."""

    def __init__(self, message: str, usage: bool = False):
        super().__init__(message)
        self.usage = usage


@dataclass
class LoadedModel:
    module: Any  # an nn.Module (an fx GraphModule for ONNX and .pt2)
    input_shape: tuple[int, ...] | None  # one sample's shape, when the source knows it
    name: str
    source: str  # how the design records where it came from


def parse_shape(text: str) -> tuple[int, ...]:
    """'3x224x224' -> (3, 224, 224)."""
    if not re.fullmatch(r"\d+(x\d+)*", text.strip()) or "x0" in f"x{text}":
        raise SourceError(
            f"--input {text}: give one sample's shape as CxHxW, e.g. 3x224x224", usage=True
        )
    return tuple(int(v) for v in text.strip().split("x"))


def torchvision_names() -> list[str]:
    """torchvision's classification models."""
    import torchvision.models as tvm

    return sorted(tvm.list_models(module=tvm))


def _torchvision(name: str, weights: str | None, weights_file: str | None) -> LoadedModel:
    import torchvision.models as tvm

    names = torchvision_names()
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=3)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else "; torchvision.models.list_models() lists them"
        )
        raise SourceError(f"torchvision has no classification model {name!r}{hint}", usage=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GoogLeNet/Inception warn about their default init
        module = tvm.get_model(name, weights=None)
    source = f"torchvision:{name}"
    if weights is not None:
        from designer.interop.torchvision_weights import pretrained_state_dict

        state, label = pretrained_state_dict(name)  # PretrainedUnavailable names the way out
        module.load_state_dict(state)
        source += f" ({label})"
    elif weights_file is not None:
        from designer.interop.torchvision_weights import canonical_source
        from designer.interop.weights import WeightsError, read_tensors

        state = canonical_source(
            read_tensors(weights_file), list(module.state_dict()), weights_file
        )
        try:
            module.load_state_dict(state)
        except RuntimeError as exc:  # shapes of another variant
            raise WeightsError(f"{weights_file}: {str(exc).splitlines()[-1].strip()}") from None
        source += f" ({Path(weights_file).name})"
    size = 299 if name == "inception_v3" else 224
    return LoadedModel(module, (3, size, size), name, source)


def _python_file(path: Path, factory: str) -> LoadedModel:
    import importlib.util
    import sys

    from torch import nn

    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"netdesigner_import_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SourceError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look classes up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file can raise anything
        raise SourceError(f"{path}: running it failed: {type(exc).__name__}: {exc}") from None
    make = getattr(module, factory, None)
    if make is None:
        raise SourceError(f"{path} defines no {factory!r}")
    try:
        model = make() if callable(make) and not isinstance(make, nn.Module) else make
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{path}:{factory}() failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise SourceError(f"{path}:{factory} gives a {type(model).__name__}, not a torch.nn.Module")
    return LoadedModel(
        model,
        None,
        factory if factory[:1].isupper() else type(model).__name__,
        f"{path.name}:{factory}",
    )


def _static_shape(dims) -> tuple[int, ...] | None:
    shape = tuple(dims)
    if len(shape) < 2 or not all(isinstance(d, int) and d > 0 for d in shape[1:]):
        return None
    return shape[1:]


def _shared_initializers(model) -> None:
    """torch.onnx writes equal constants once and an Identity node for each other use;
    onnx2torch wants every weight as an initializer, so each use gets its own copy."""
    import onnx

    inits = {t.name: t for t in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            model.graph.initializer.append(copy)
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)


# protobuf cannot serialize (or even size) one message over 2 GiB, and onnx2torch sizes the
# model it is given; a model with more weights than this goes to it as a file with its tensors
# beside it (which its shape inference reads by path), as regnet_y_128gf's 2.6 GB need.
IN_MEMORY_LIMIT = 1 << 30


def _convert(model, convert, limit: int = IN_MEMORY_LIMIT):
    """onnx2torch's convert() of ``model``, through a file with external data when it is big."""
    import tempfile

    import onnx

    weights = sum(len(t.raw_data) + 4 * len(t.float_data) for t in model.graph.initializer)
    if weights < limit:
        return convert(model)
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "model.onnx"
        onnx.save_model(model, str(file), save_as_external_data=True, all_tensors_to_one_file=True)
        return convert(str(file))


def _onnx(path: Path) -> LoadedModel:
    import onnx

    try:
        from onnx2torch import convert
    except ImportError:
        raise SourceError(
            "importing ONNX needs the onnx2torch package: pip install onnx2torch"
        ) from None
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - a damaged file fails inside protobuf
        raise SourceError(f"{path}: not a readable ONNX file ({exc})") from None
    inputs = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in inputs]
    if len(graph_inputs) != 1:
        raise SourceError(f"{path}: the network has {len(graph_inputs)} inputs; a design has one")
    dims = [
        d.dim_value if d.HasField("dim_value") else None
        for d in graph_inputs[0].type.tensor_type.shape.dim
    ]
    _shared_initializers(model)
    try:
        module = _convert(model, convert)
    except Exception as exc:  # noqa: BLE001 - onnx2torch raises NotImplementedError and others
        text = str(exc).strip().splitlines()
        raise SourceError(
            f"{path}: onnx2torch cannot convert it: {text[0] if text else type(exc).__name__}"
        ) from None
    return LoadedModel(module, _static_shape(dims), path.stem, path.name)


class _Refused(Exception):
    pass


@contextmanager
def _tensors_only():
    """While torch.export.load reads an archive: every torch.load loads tensors only
    (weights_only=True) and pickled constants are refused. torch.export.load would otherwise
    unpickle (its docs warn about it), which can run code from the file."""
    import torch
    from torch.export.pt2_archive import _package

    def refuse(*args, **kwargs):
        raise _Refused("it holds pickled Python objects (refused for safety)")

    real_load, real_pickle, real_obj = torch.load, _package.pickle, torch._C._pickle_load_obj

    def load(*args, **kwargs):
        kwargs["weights_only"] = True
        return real_load(*args, **kwargs)

    torch.load = load
    _package.pickle = SimpleNamespace(loads=refuse, load=refuse)
    torch._C._pickle_load_obj = refuse
    try:
        yield
    finally:
        torch.load, _package.pickle, torch._C._pickle_load_obj = real_load, real_pickle, real_obj


def _exported(path: Path) -> LoadedModel:
    import torch

    try:
        with _tensors_only():
            program = torch.export.load(str(path))
    except _Refused as exc:
        raise SourceError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged archive fails in many ways
        text = str(exc).strip().splitlines()
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            text = ["it holds pickled Python objects, not just tensors (refused for safety)"]
        raise SourceError(
            f"{path}: not a readable torch.export program "
            f"({text[0] if text else type(exc).__name__})"
        ) from None
    placeholders = [
        n
        for n in program.graph.nodes
        if n.op == "placeholder" and n.name in program.graph_signature.user_inputs
    ]
    if len(placeholders) != 1:
        raise SourceError(f"{path}: the program takes {len(placeholders)} inputs; a design has one")
    val = placeholders[0].meta.get("val")
    shape = _static_shape(val.shape) if val is not None else None
    return LoadedModel(program, shape, path.stem, path.name)


def load_model(
    spec: str, weights: str | None = None, weights_file: str | None = None
) -> LoadedModel:
    """`torchvision:NAME` (with torchvision's `weights`, "DEFAULT", or a state_dict file),
    `path/to/file.py:FACTORY`, `model.onnx` or `model.pt2`. Raises SourceError, or WeightsError
    for weights that cannot be had."""
    if spec.startswith("torchvision:"):
        if weights and weights_file:
            raise SourceError("give --weights DEFAULT or --weights-file, not both", usage=True)
        return _torchvision(spec.split(":", 1)[1], weights, weights_file)
    if weights is not None or weights_file is not None:
        raise SourceError(
            "--weights and --weights-file are for torchvision:NAME; a file brings its own",
            usage=True,
        )
    path_text, _, factory = spec.rpartition(":")
    if path_text.endswith(".py") and factory:
        return _python_file(Path(path_text), factory)
    path = Path(spec)
    if spec.endswith(".py"):
        raise SourceError(
            f"{spec}: name the function or class that builds the model, e.g. {spec}:build_model",
            usage=True,
        )
    if path.suffix.lower() not in (".onnx", ".pt2"):
        raise SourceError(
            f"{spec}: import a torchvision:NAME, a FILE.py:FACTORY, a .onnx or a .pt2 file",
            usage=True,
        )
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    return _onnx(path) if path.suffix.lower() == ".onnx" else _exported(path)


def save_imported(design, tensors: dict, out: str | Path, source: str) -> Path:
    """Write an imported design (OUT.json) and its weights beside it (OUT.safetensors): the
    weights first (checked against the design), then the design that refers to them; a failure
    leaves neither. Returns the weights file. Raises WeightsError or OSError."""
    from designer.core.serialization import save_design
    from designer.interop.torchvision_weights import save_design_weights
    from designer.interop.weights import WEIGHTS_KEY

    out = Path(out)
    weights_out = out.with_suffix(".safetensors")
    design.metadata["imported_from"] = source
    design.metadata[WEIGHTS_KEY] = weights_out.name
    save_design_weights(design, tensors, weights_out, metadata={"source": source})
    try:
        save_design(design, out)
    except OSError:
        weights_out.unlink(missing_ok=True)  # no weights file without its design
        raise
    return weights_out
