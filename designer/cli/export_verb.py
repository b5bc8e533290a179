"""The export verb: a design (and its weights) to standalone code, model files and a training
script."""

from __future__ import annotations

from pathlib import Path

from designer.cli import CliError
from designer.cli.design_verbs import require_valid, write_text
from designer.cli.trained_args import add_arguments, check_usage, load_design, trained_from_args

# designer.interop.exports.MODEL_FORMATS, spelled out here so `--help` needs no torch import
MODEL_FORMATS = ("state_dict", "torchscript", "onnx", "pt2")


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write the design as standalone PyTorch code, model files or a training script",
    )
    p.add_argument(
        "design",
        metavar="DESIGN",
        nargs="?",
        help="the design (optional with --run: the run's design)",
    )
    p.add_argument("--code", metavar="OUT.py", help="standalone PyTorch source (build_model())")
    add_arguments(
        p,
        "trained weights for the model exports, e.g. RUN/best.safetensors, and the "
        "weights --train-script starts from (default: the design's own weights, "
        "else fresh ones)",
    )
    p.add_argument(
        "--state-dict",
        metavar="OUT.safetensors",
        help="the weights, loadable with strict=True into the exported code's build_model()",
    )
    p.add_argument("--torchscript", metavar="OUT.pt", help="TorchScript (torch.jit.load)")
    p.add_argument("--onnx", metavar="OUT.onnx", help="ONNX, dynamic batch size")
    p.add_argument("--pt2", metavar="OUT.pt2", help="torch.export program (torch.export.load)")
    p.add_argument(
        "--train-script",
        metavar="OUT.py",
        help="a standalone training script with the design's training settings; runs with "
        "python or torchrun (DistributedDataParallel); the design's weights, if "
        "any, go beside it as OUT_weights.pt",
    )
    p.add_argument(
        "--config",
        metavar="SETTINGS.json",
        help="training settings for --train-script on top of the design's (with --run: "
        "of the run's), e.g. a run's config.json",
    )
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from designer.codegen import generate

    wanted_models = [f for f in MODEL_FORMATS if getattr(args, f)]
    if not (args.code or args.train_script or wanted_models):
        raise CliError(
            "say what to export: --code, --state-dict, --torchscript, --onnx, --pt2 or "
            "--train-script",
            code=2,
        )
    if args.config and not args.train_script:
        raise CliError("--config is for --train-script", code=2)
    if args.weights and not (wanted_models or args.train_script):
        raise CliError(
            "--weights is for the model exports (--state-dict, --torchscript, --onnx, "
            "--pt2) and --train-script",
            code=2,
        )
    check_usage(args)
    design = load_design(args)
    trained = trained_from_args(args, design) if args.run else None
    if trained is not None:
        design = trained.design
    res = require_valid(design, args.design or args.run)
    code = generate(design, res)
    for out in [args.code, args.train_script, *(getattr(args, f) for f in wanted_models)]:
        if out:
            _make_parent(out)
    if args.code:
        write_text(args.code, code.source)
        print(f"wrote {args.code} (class {code.class_name})")
    if wanted_models:
        _export_models(args, design, code, wanted_models, trained)
    if args.train_script:
        _export_train_script(args, design, trained)
    return 0


def _make_parent(path: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the folder for {path}: {exc.strerror or exc}") from None


def _model_with_weights(args, design, code, trained=None):
    from designer.codegen import compile_design
    from designer.interop.weights import WeightsError, design_weights_path, load_weights

    model = compile_design(design, code)
    if trained is not None:
        try:
            load_weights(model, trained.weights)
        except WeightsError as exc:
            raise CliError(str(exc)) from None
        print(f"weights: {trained.weights_note}")
        print(f"inputs: {_input_note(trained)}")
        return model
    source = args.weights or design_weights_path(design, args.design)
    if source is None:
        print(
            "note: no --weights and the design has none of its own: exporting fresh (untrained) "
            "weights"
        )
        return model
    try:
        load_weights(model, source)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    print(f"weights: {source}")
    return model


def _input_note(trained) -> str:
    """How the exported model's inputs must be prepared: as the run's training data was."""
    stats = trained.stats
    if stats is None:
        return f"prepared as the run's training data was (see {trained.run.file('config.json')})"
    inverse = 1 / stats.rescale
    scale = f"1/{round(inverse)}" if abs(inverse - round(inverse)) < 1e-6 else f"{stats.rescale:g}"
    steps = [f"pixel values (0-255) times {scale}"]
    if stats.mean is not None:
        steps.append(
            "minus the training "
            + ("mean image" if stats.mean.shape[1:] != (1, 1) else "per-channel mean")
        )
    if stats.std is not None:
        steps.append("divided by the per-channel standard deviation")
    return (
        ", ".join(steps) + f"; classes in output order: {', '.join(trained.classes or [])} "
        f"(the statistics: {trained.run.file('data.json')})"
    )


def _export_models(args, design, code, formats, trained=None) -> None:
    from designer.interop import exports

    model = _model_with_weights(args, design, code, trained)
    try:
        written = exports.export_model_files(
            model, tuple(design.input_shape), {fmt: getattr(args, fmt) for fmt in formats}
        )
    except exports.ExportError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the export: {exc.strerror or exc}") from None
    for out, note in written:
        print(f"wrote {out} ({note})")


def _export_train_script(args, design, trained=None) -> None:
    from designer.interop.weights import WeightsError, design_weights_path
    from designer.training.config import ConfigError, TrainConfig, config_for_design
    from designer.training.script.export import TrainScriptError, export_train_script
    from designer.training.script.main import loadable

    overrides = {}
    if args.config:
        import json

        try:
            overrides = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the settings in {args.config}: {exc}", code=2) from None
    try:
        if trained is not None:  # the run's own settings, preprocessing included
            config = TrainConfig.from_dict({**trained.config.to_dict(), **overrides})
        else:
            config = config_for_design(design, overrides)
    except ConfigError as exc:
        raise CliError(str(exc), code=2 if args.config else 1) from None
    if trained is not None:
        weights = trained.weights
    else:
        weights = args.weights or design_weights_path(design, args.design)
    try:
        weights_file = export_train_script(args.train_script, design, config, weights)
    except (TrainScriptError, WeightsError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.train_script}: {exc.strerror or exc}") from None
    script = args.train_script
    data = config.dataset if loadable(config.dataset) else "FOLDER"
    print(
        f"wrote {script} (run: python {script} --data {data} --out run, "
        f"or torchrun --standalone --nproc-per-node=N {script} ...)"
    )
    if data == "FOLDER":
        print(
            f"note: the script cannot load the design's dataset '{config.dataset}'; FOLDER is an "
            f"image folder with one subfolder per class"
        )
    if weights_file is not None:
        print(
            f"wrote {weights_file} (the weights the script starts from, from {weights}; "
            f"--fresh starts from fresh ones)"
        )
