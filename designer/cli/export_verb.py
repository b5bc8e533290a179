"""The export verb: a design (and its weights) to standalone code and model files."""

from __future__ import annotations

from designer.cli import CliError
from designer.cli.design_verbs import load, require_valid, write_text


def register(sub) -> None:
    p = sub.add_parser("export", help="write the design as standalone PyTorch code (and more)")
    p.add_argument("design", metavar="DESIGN")
    p.add_argument("--code", metavar="OUT.py", help="standalone PyTorch source")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from designer.codegen import generate

    if not args.code:
        raise CliError("say what to export, e.g. --code OUT.py", code=2)
    design = load(args.design)
    res = require_valid(design, args.design)
    code = generate(design, res)
    write_text(args.code, code.source)
    print(f"wrote {args.code} (class {code.class_name})")
    return 0
