"""Importing every torchvision CNN classification model (all but vit_*, swin_* and maxvit_t) and
checking the round trip, plus the import time of ResNet-50.

For each model: BatchNorm statistics, scales and shifts and all biases randomized (so every
tensor must land in its place), eval mode; imported at 3 x 64 x 64 (Inception-v3 at 3 x 299 x
299: its stem needs 75 x 75 and more); the design validated; its standalone code generated,
compiled and loaded with the imported weights (strict); outputs compared with the original's on
one random input. Exact = max relative difference < 1e-4.

Printed:
  import round trip: N/M torchvision CNN models exact
  one line per failure: the model and the import report's first line (or what differed)
  import round trip via ONNX: N/M ...   the same after torch.onnx.export (opset 17) and
                                        onnx2torch (ONNX folds BatchNorm into the convolutions;
                                        AlexNet and VGG at 224 x 224, which ONNX can export)
  resnet50 import: S s (target < 3 s; tracing, block proofs and weights, at 3 x 224 x 224)
"""

from __future__ import annotations

import time
import warnings

import torch

SIZE = {"inception_v3": 299}
TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def _randomize(model, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.3)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            elif isinstance(getattr(m, "bias", None), torch.nn.Parameter):
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)
            if isinstance(m, torch.nn.LayerNorm) and m.weight is not None:
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.3)
            if isinstance(getattr(m, "layer_scale", None), torch.nn.Parameter):
                # ConvNeXt's 1e-6 would hide its blocks' branches from the comparison
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=g) * 0.5 + 0.5)
    return model.eval()


def round_trip(name: str, via_onnx: bool = False) -> str | None:
    """None when exact, else why not (the import report's first line, or the difference).
    `via_onnx`: export the model with torch.onnx.export first and import the .onnx file."""
    import torchvision

    from designer.codegen import compile_design
    from designer.core.analysis import analyze
    from designer.interop.import_fx import ImportRefused, import_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _randomize(torchvision.models.get_model(name, weights=None))
    size = SIZE.get(name, 64)
    if via_onnx and name.startswith(("alexnet", "vgg")):
        size = 224  # ONNX cannot export AdaptiveAvgPool2d to a size that does not divide
    try:
        source = _via_onnx(model, size) if via_onnx else model
        result = import_model(source, (3, size, size), name)
    except ImportRefused as exc:
        return exc.report.first_line()
    problems = analyze(result.design).problems
    if problems:
        return f"the design has {len(problems)} problem(s): {problems[0]}"
    with torch.device("meta"):  # filled by assignment: no init time, no second copy
        ours = compile_design(result.design)
    ours.load_state_dict(result.tensors, strict=True, assign=True)
    ours.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = model(x), ours(x)
    diff = float((want - got).abs().max() / want.abs().max())
    return None if diff < 1e-4 else f"outputs differ (max relative difference {diff:.2e})"


def _via_onnx(model, size: int):
    """The model exported to ONNX (opset 17, which onnx2torch reads) and converted back."""
    import tempfile
    from pathlib import Path

    from designer.interop.import_sources import load_model

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (torch.randn(1, 3, size, size),), str(path), dynamo=False, opset_version=17
            )
        return load_model(str(path)).module


def _coverage(names: list[str], via_onnx: bool) -> None:
    failures = {}
    for name in names:
        try:
            why = round_trip(name, via_onnx)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            why = f"crashed: {type(exc).__name__}: {exc}".splitlines()[0]
        if why:
            failures[name] = why
    label = "import round trip" + (" via ONNX" if via_onnx else "")
    print(f"{label}: {len(names) - len(failures)}/{len(names)} torchvision CNN models exact")
    for name, why in failures.items():
        print(f"  {name}: {why}")


def main() -> None:
    import torchvision

    names = [
        n
        for n in torchvision.models.list_models(module=torchvision.models)
        if not n.startswith(TRANSFORMERS)
    ]
    _coverage(names, via_onnx=False)
    _coverage(names, via_onnx=True)

    from designer.interop.import_fx import import_module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torchvision.models.resnet50(weights=None).eval()
    start = time.perf_counter()
    import_module(model, (3, 224, 224), "resnet50")
    print(f"resnet50 import: {time.perf_counter() - start:.2f} s (target < 3 s)")
