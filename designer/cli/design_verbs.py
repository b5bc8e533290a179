"""Verbs that read a design: check and summary, plus helpers other verbs share."""

from __future__ import annotations

import json

from designer.cli import CliError


def register(sub) -> None:
    p = sub.add_parser("check", help="list a design's problems (exit 1 if any)")
    p.add_argument("design", metavar="DESIGN")
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

    res = analyze(load(args.design))
    for p in res.problems:
        print(p)
    if not res.problems:
        print(f"{args.design}: no problems")
    return 1 if res.problems else 0


def cmd_summary(args) -> int:
    from designer.core.summary import format_table, summarize

    design = load(args.design)
    res = require_valid(design, args.design)
    s = summarize(design, res)
    print(json.dumps(s.to_json(), indent=2) if args.json else format_table(s))
    return 0
