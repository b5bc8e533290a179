"""Verbs that read a design: check and summary, plus helpers other verbs share."""

from __future__ import annotations

import json

from designer.cli import CliError


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="list a design's problems (exit 1 if any)",
        description="List a design's problems. --gradients also checks that each "
        "layer's backward pass is its forward pass's derivative "
        "(torch.autograd.gradcheck in float64 on a small random input "
        "of the layer's input shape; exit 1 if one fails).",
    )
    p.add_argument("design", metavar="DESIGN")
    p.add_argument(
        "--gradients",
        action="store_true",
        help="check the gradients of every top-level layer and block (or --node)",
    )
    p.add_argument(
        "--node",
        metavar="NAME",
        help="with --gradients: only this node; inside a block: BLOCK/LAYER",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("summary", help="a Keras-style table of layers, shapes and parameters")
    p.add_argument("design", metavar="DESIGN")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=cmd_summary)


def load(path: str):
    """Load a design file or raise CliError with the loader's message."""
    from designer.core.errors import DesignFileError
    from designer.core.serialization import load_design

    try:
        return load_design(path)
    except DesignFileError as exc:
        raise CliError(str(exc)) from None


def require_valid(design, path: str):
    from designer.core.analysis import analyze

    res = analyze(design)
    if res.problems:
        lines = "\n".join(str(p) for p in res.problems)
        raise CliError(f"{path} has {len(res.problems)} problem(s):\n{lines}")
    return res


def write_text(path: str, text: str) -> None:
    from designer.core.serialization import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_check(args) -> int:
    from designer.core.analysis import analyze

    if args.node and not args.gradients:
        raise CliError("--node goes with --gradients", code=2)
    design = load(args.design)
    res = analyze(design)
    for p in res.problems:
        print(p)
    if not res.problems:
        print(f"{args.design}: no problems")
    if res.problems or not args.gradients:
        return 1 if res.problems else 0
    return _check_gradients(design, args)


def _check_gradients(design, args) -> int:
    """One line per checked node; exit 1 when any fails."""
    from designer.viz import VizError, load_model, pick_node
    from designer.viz.gradients import check_node
    from designer.viz.nodes import candidates

    try:
        model = load_model(design, args.design)
        if args.node:
            places = [pick_node(design, model.analysis, "gradients", args.node)]
        else:
            places = candidates(design, model.analysis, "gradients", nested=False)
        results = [check_node(model, place.key) for place in places]
    except VizError as exc:
        raise CliError(str(exc)) from None
    for r in results:
        print(r.summary)
    failed = [r for r in results if not r.passed]
    print(
        f"gradients: {len(results) - len(failed)} of {len(results)} node(s) correct"
        + (f"; failed: {', '.join(r.node_name for r in failed)}" if failed else "")
    )
    return 1 if failed else 0


def cmd_summary(args) -> int:
    from designer.core.summary import format_table, summarize

    design = load(args.design)
    res = require_valid(design, args.design)
    s = summarize(design, res)
    print(json.dumps(s.to_json(), indent=2) if args.json else format_table(s))
    return 0
