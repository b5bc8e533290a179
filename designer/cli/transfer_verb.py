"""The transfer verb: reuse a (pretrained) design for a new task, carrying its weights over.

netdesigner transfer DESIGN --classes 2 --freeze-until layer4_2 OUT.json
"""

from __future__ import annotations

import re
from pathlib import Path

from designer.cli import CliError
from designer.cli.design_verbs import load, write_text


def register(sub) -> None:
    p = sub.add_parser(
        "transfer",
        help="new head, cut, frozen layers, other input: reuse a design's weights",
        description="Edit a copy of DESIGN for transfer learning and write it to OUT.json, with "
        "its weights carried over to OUT.safetensors. Edits run in this order: "
        "--input, --stage, --cut-at / --classes, then --freeze-until, --freeze, "
        "--unfreeze, --lr-mult.",
    )
    p.add_argument("design", metavar="DESIGN")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument(
        "--classes",
        type=int,
        metavar="N",
        help="a new classifier for N classes (every other weight is kept)",
    )
    p.add_argument(
        "--hidden",
        default="",
        metavar="W[,W...]",
        help="Linear-ReLU-Dropout layers before the new classifier (e.g. 256)",
    )
    p.add_argument(
        "--dropout",
        type=float,
        default=0.5,
        metavar="P",
        help="dropout after each --hidden layer (default 0.5; 0 = none)",
    )
    p.add_argument(
        "--cut-at",
        metavar="NODE",
        help="keep NODE and everything before it; without --classes the design "
        "outputs NODE's features (a feature extractor)",
    )
    p.add_argument("--freeze-until", metavar="NODE", help="freeze NODE and every node before it")
    p.add_argument(
        "--freeze",
        action="append",
        default=[],
        metavar="NODE[,NODE...]",
        help="freeze these nodes; repeatable",
    )
    p.add_argument(
        "--unfreeze",
        action="append",
        default=[],
        metavar="NODE[,NODE...]",
        help="unfreeze these nodes ('all' = every node); repeatable",
    )
    p.add_argument(
        "--lr-mult",
        action="append",
        default=[],
        metavar="NODE=M",
        help="learning-rate multiplier of a node's parameters; repeatable",
    )
    p.add_argument(
        "--input",
        metavar="[C]xHxW",
        help="another input: 1x224x224 for grayscale images, 160x160 for another size",
    )
    p.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="N=DEPTH",
        help="give stage N (1 = first) DEPTH blocks, e.g. 3=23 makes ResNet-50 a "
        "ResNet-101; repeatable",
    )
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="the data the new design trains on (digits, mnist, cifar10, folder:PATH, "
        "...): its training settings follow (dataset, flips)",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT.json and its weights")
    p.set_defaults(func=cmd_transfer)


def _pairs(items: list[str], what: str, example: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise CliError(f"{what} {item!r} must be written like {example}", code=2)
        out.append((key, value))
    return out


def _parse_input(text: str) -> tuple[int | None, tuple[int, int] | None]:
    if not re.fullmatch(r"\d+(x\d+){0,2}", text or ""):
        raise CliError(f"--input {text!r} must be CxHxW, HxW or a size, e.g. 1x224x224", code=2)
    dims = [int(v) for v in text.split("x")]
    if len(dims) == 3:
        return dims[0], (dims[1], dims[2])
    return None, (dims[0], dims[-1])


def _names(items: list[str]) -> list[str]:
    return [name.strip() for item in items for name in item.split(",") if name.strip()]


def _widths(text: str) -> list[int]:
    if not re.fullmatch(r"\s*(\d+\s*(,\s*\d+\s*)*)?", text):
        raise CliError(f"--hidden {text!r} must be widths like 256 or 512,256", code=2)
    return [int(v) for v in text.split(",") if v.strip()]


def _number(text: str, what: str, kind=float):
    try:
        return kind(text)
    except ValueError:
        raise CliError(f"{what} must be a number, got {text!r}", code=2) from None


def apply_edits(design, args):
    """Run the requested edits on `design`; returns (TransferEdit, lines describing them)."""
    from designer.core import transfer as tr

    edit, done = tr.TransferEdit(), []
    hidden, freeze, unfreeze = _widths(args.hidden), _names(args.freeze), _names(args.unfreeze)
    if args.input:
        channels, size = _parse_input(args.input)
        edit.merge(tr.adapt_input(design, channels=channels, size=size))
        done.append(f"input is now {'x'.join(map(str, design.input_shape))}")
    for stage, depth in _pairs(args.stage, "--stage", "3=23"):
        stage_n, depth_n = _number(stage, "--stage N", int), _number(depth, "--stage DEPTH", int)
        edit.merge(tr.set_stage_depth(design, stage_n, depth_n))
        done.append(f"stage {stage_n} has {depth_n} block{'' if depth_n == 1 else 's'}")
    if args.cut_at:
        edit.merge(
            tr.cut_at(
                design, args.cut_at, num_classes=args.classes, hidden=hidden, dropout=args.dropout
            )
        )
        head = (
            f"a new classifier for {args.classes} classes"
            if args.classes
            else "its features as output"
        )
        done.append(f"cut at {args.cut_at}, with {head}")
    elif args.classes is not None:
        edit.merge(tr.replace_head(design, args.classes, hidden=hidden, dropout=args.dropout))
        done.append(f"new classifier for {args.classes} classes")
    elif hidden:
        raise CliError("--hidden goes with --classes (the new head it comes before)", code=2)
    if args.freeze_until:
        n = len(tr.freeze_until(design, args.freeze_until))
        done.append(f"froze {args.freeze_until} and the {n - 1} nodes before it")
    if freeze:
        tr.set_trainable(design, freeze, False)
        done.append(f"froze {', '.join(freeze)}")
    if unfreeze == ["all"]:
        tr.unfreeze_all(design)
        done.append("unfroze every node")
    elif unfreeze:
        tr.set_trainable(design, unfreeze, True)
        done.append(f"unfroze {', '.join(unfreeze)}")
    for node, mult in _pairs(args.lr_mult, "--lr-mult", "fc=10"):
        tr.set_lr_mult(design, [node], _number(mult, "--lr-mult M"))
        done.append(f"learning rate x{mult} for {node}")
    settings = tr.adapt_training_settings(design, args.data)
    if done or args.data:
        done += settings
    return edit, done


def cmd_transfer(args) -> int:
    from designer.cli.new_verb import weights_path_for
    from designer.core.serialization import clone, dumps
    from designer.core.summary import summarize
    from designer.core.transfer import TransferError
    from designer.interop.weights import WEIGHTS_KEY, WeightsError, design_weights_path

    design = load(args.design)
    out, weights_out = Path(args.out), weights_path_for(args.out)
    source_weights = design_weights_path(design, args.design)
    targets = [out, weights_out] if source_weights else [out]
    for path in targets:
        if path.exists() and not args.force:
            raise CliError(f"{path} exists already; pass --force to overwrite it")
    if source_weights is not None and not source_weights.is_file():
        raise CliError(
            f"{args.design} refers to the weights file {source_weights}, which does not exist"
        )
    before = clone(design)
    try:
        edit, done = apply_edits(design, args)
    except TransferError as exc:
        raise CliError(str(exc)) from None
    if not done:
        raise CliError(
            "say what to change, e.g. --classes 2 --freeze-until NODE "
            "(netdesigner transfer --help)",
            code=2,
        )
    design.metadata["transfer_from"] = Path(args.design).name
    if source_weights is not None:
        from designer.interop.transfer_weights import write_carried_weights
        from designer.interop.weights import FRESH_KEY

        fresh = set(design.metadata.get(FRESH_KEY) or ()) | edit.fresh
        design.metadata[FRESH_KEY] = sorted(n for n in fresh if n in design.nodes)
        try:
            write_carried_weights(before, source_weights, design, edit, weights_out)
        except WeightsError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"cannot write {weights_out}: {exc.strerror or exc}") from None
        design.metadata[WEIGHTS_KEY] = weights_out.name
    else:
        design.metadata.pop(WEIGHTS_KEY, None)
    write_text(str(out), dumps(design))
    s = summarize(design)
    for line in done:
        print(line)
    print(
        f"{s.trainable_params:,} trainable and {s.non_trainable_params:,} non-trainable parameters"
    )
    kept = (
        f" and {weights_out} (weights carried over)"
        if source_weights is not None
        else " (DESIGN has no weights file, so none were carried)"
    )
    print(f"wrote {out}{kept}")
    return 0
