"""Exports of a (trained) model: state_dict (.safetensors), TorchScript, ONNX and torch.export
(.pt2).

Every export is of the compiled design, i.e. of exactly the code `export --code` writes, in eval
mode, with the batch dimension left free (dynamic) where the format allows it.

ONNX: torch.onnx.export with dynamo=True (the torch.export-based exporter; onnxscript is a
dependency). It is the exporter PyTorch maintains and the default since 2.9, and handles every
layer the designer offers; the TorchScript-based exporter (dynamo=False) is deprecated and is
used only as a fallback if the new one fails on some model, which export_onnx reports.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from designer.core.atomic import atomic_path
from designer.interop.weights import save_weights

ONNX_OPSET = 18


class ExportError(Exception):
    """An export that failed; the message names the format and the reason."""


def example_input(input_shape: tuple[int, ...], batch: int = 2) -> torch.Tensor:
    """A random batch for tracing exporters (batch 2, so the batch size is not taken for a constant
    1)."""
    return torch.randn(batch, *input_shape, generator=torch.Generator().manual_seed(0))


def _atomic(path: str | Path, write: Callable[[str], None]) -> None:
    """Write through a temp file in the same folder, then rename: a failed export leaves nothing."""
    with atomic_path(path) as tmp:
        write(str(tmp))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def export_state_dict(model: torch.nn.Module, path: str | Path) -> None:
    """The weights as .safetensors, keyed like the exported code's build_model().state_dict()."""
    try:
        save_weights(model, path)
    except OSError as exc:
        raise ExportError(f"state_dict: cannot write {path}: {exc.strerror or exc}") from None


def export_torchscript(model: torch.nn.Module, path: str | Path, example: torch.Tensor) -> str:
    """TorchScript via torch.jit.script (keeps the code's structure); if scripting fails, tracing
    with ``example``. Returns "script" or "trace". (PyTorch deprecates TorchScript in favour of
    torch.export, see export_pt2, but C++/mobile runtimes still load it.)"""
    model = model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            module, how = torch.jit.script(model), "script"
        except Exception:  # noqa: BLE001 - any scripting failure: trace instead
            try:
                with torch.no_grad():
                    module, how = torch.jit.trace(model, example), "trace"
            except Exception as exc:  # noqa: BLE001
                raise ExportError(
                    f"TorchScript: the model can be neither scripted nor traced: {_reason(exc)}"
                ) from None
        _atomic(path, lambda tmp: torch.jit.save(module, tmp))
    return how


def export_pt2(model: torch.nn.Module, path: str | Path, example: torch.Tensor) -> None:
    """A torch.export ExportedProgram (.pt2) with a dynamic batch dimension."""
    model = model.eval()
    try:
        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic_batch(model))
    except Exception as exc:  # noqa: BLE001 - torch.export raises many kinds
        raise ExportError(f"torch.export: {_reason(exc)}") from None
    _atomic(path, lambda tmp: torch.export.save(program, tmp))


def _dynamic_batch(model: torch.nn.Module) -> dict:
    import inspect

    arg = next(iter(inspect.signature(model.forward).parameters))
    return {arg: {0: torch.export.Dim("batch")}}


def export_onnx(model: torch.nn.Module, path: str | Path, example: torch.Tensor) -> str:
    """ONNX (opset 18) with input "input", output "output" and a dynamic batch dimension; checked
    with onnx.checker. Returns the exporter used: "dynamo" or, as a fallback, "torchscript"."""
    import onnx

    model = model.eval()
    names = {"input_names": ["input"], "output_names": ["output"]}
    try:
        with _quiet():
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                opset_version=ONNX_OPSET,
                dynamic_shapes=_dynamic_batch(model),
                verbose=False,
                **names,
            )
        how = "dynamo"
        _atomic(path, lambda tmp: program.save(tmp))
    except Exception as first:  # noqa: BLE001 - fall back to the older exporter
        try:
            with _quiet():
                _atomic(
                    path,
                    lambda tmp: torch.onnx.export(
                        model,
                        (example,),
                        tmp,
                        dynamo=False,
                        opset_version=ONNX_OPSET,
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                        **names,
                    ),
                )
            how = "torchscript"
        except Exception as exc:  # noqa: BLE001
            raise ExportError(
                f"ONNX: the model cannot be exported: {_reason(first)} "
                f"(older exporter: {_reason(exc)})"
            ) from None
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:  # noqa: BLE001 - onnx raises its own ValidationError and others
        Path(path).unlink(missing_ok=True)
        raise ExportError(f"ONNX: the exported model fails onnx.checker: {_reason(exc)}") from None
    return how


@contextlib.contextmanager
def _quiet():
    """The ONNX exporters print progress and warn about deprecations; an export says what it did
    itself."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


MODEL_FORMATS = ("state_dict", "torchscript", "onnx", "pt2")


def export_model_files(
    model: torch.nn.Module, input_shape: tuple[int, ...], outputs: dict[str, str | Path]
) -> list[tuple[str, str]]:
    """Export ``model`` (eval mode) in each format of ``outputs`` (format -> path); returns
    (path, note) per file written. Raises ExportError, or OSError for a file that cannot be
    written. The CLI's `export` and the app's export dialog both come here."""
    model = model.eval()
    example = example_input(tuple(input_shape))
    written = []
    for fmt, out in outputs.items():
        if fmt == "state_dict":
            export_state_dict(model, out)
            note = "safetensors; load into build_model() with strict=True"
        elif fmt == "torchscript":
            note = f"TorchScript, by torch.jit.{export_torchscript(model, out, example)}"
        elif fmt == "onnx":
            how = export_onnx(model, out, example)
            note = f"ONNX opset {ONNX_OPSET}, {how} exporter, checked with onnx.checker"
        elif fmt == "pt2":
            export_pt2(model, out, example)
            note = "torch.export program"
        else:
            raise ExportError(f"unknown export format {fmt!r}; formats: {', '.join(MODEL_FORMATS)}")
        written.append((str(out), note))
    return written
