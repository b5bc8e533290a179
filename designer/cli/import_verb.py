"""The import verb: a PyTorch or ONNX model -> an editable design (OUT.json) with its weights
beside it (OUT.safetensors); refused whole, with the import report, when something does not map."""

from __future__ import annotations

from pathlib import Path

from designer.cli import CliError


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import a PyTorch or ONNX model as an editable design with its weights",
        description="Trace a model with torch.fx and map it onto the layer types: standard "
        "layers with their exact params and weights, child modules as blocks named "
        "after them. What cannot be mapped is listed (what, where, how many) and "
        "nothing is written. SOURCE is torchvision:NAME, path/to/file.py:FACTORY "
        "(a function or class returning the module; importing a .py file RUNS it, "
        "as python would, so import only code you trust), model.pt2 (a saved "
        "torch.export program) or model.onnx (converted with onnx2torch); .pt2 and "
        ".onnx files run no code from the file.",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="torchvision:NAME | FILE.py:FACTORY | MODEL.pt2 | MODEL.onnx",
    )
    p.add_argument("out", metavar="OUT.json", help="the design to write (weights go beside it)")
    p.add_argument(
        "--input",
        metavar="CxHxW",
        help="one sample's shape, e.g. 3x224x224 (needed for a .py file; torchvision "
        "models default to 3x224x224, files with a fixed input use theirs)",
    )
    p.add_argument(
        "--weights",
        choices=("DEFAULT",),
        help="with torchvision:NAME: torchvision's default pretrained weights "
        "(downloaded once; offline, the error says where to put the file)",
    )
    p.add_argument(
        "--weights-file",
        metavar="W.pth",
        help="with torchvision:NAME: a state_dict of that model (.pth/.pt read with "
        "weights_only=True, or .safetensors), e.g. a download of its weights",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT.json and its weights")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from designer.cli.new_verb import weights_path_for
    from designer.interop.import_fx import ImportRefused, import_model
    from designer.interop.import_sources import (
        SourceError,
        load_model,
        parse_shape,
        save_imported,
    )
    from designer.interop.weights import WeightsError

    out, weights_out = Path(args.out), weights_path_for(args.out)
    if out.suffix.lower() != ".json":
        raise CliError(f"{out}: a design is written as .json", code=2)
    try:
        shape = parse_shape(args.input) if args.input else None
        if args.source.partition(":")[0].endswith(".py") and shape is None:
            raise SourceError("a .py model needs --input CxHxW (one sample's shape)", usage=True)
        for path in (out, weights_out):
            if path.exists() and not args.force:
                raise CliError(f"{path} exists already; pass --force to overwrite it")
        loaded = load_model(args.source, args.weights, args.weights_file)
    except SourceError as exc:
        raise CliError(str(exc), code=2 if exc.usage else 1) from None
    except WeightsError as exc:  # --weights DEFAULT offline, or a --weights-file that misfits
        raise CliError(str(exc)) from None
    shape = shape or loaded.input_shape
    if shape is None:
        raise CliError(f"{args.source} does not fix its input shape; pass --input CxHxW", code=2)
    try:
        result = import_model(loaded.module, shape, loaded.name)
    except ImportRefused as exc:
        raise CliError(str(exc.report)) from None
    design = result.design
    try:
        save_imported(design, result.tensors, out, loaded.source)
    except (WeightsError, OSError) as exc:
        raise CliError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from None
    top = [n for n in design.nodes.values() if n.type not in ("Input", "ClassificationOutput")]
    blocks = sum(1 for n in top if n.type == "Block" or _composite(n.type))
    print(
        f"wrote {out} ({design.name}: {len(top)} layers and blocks on the canvas, {blocks} of "
        f"them blocks; {len(design.blocks)} custom block types) and {weights_out}"
    )
    return 0


def _composite(type_name: str) -> bool:
    from designer.core.registry import get_spec

    return get_spec(type_name).composite
