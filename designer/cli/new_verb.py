"""Verbs that create designs: templates (the list) and new (from a template)."""

from __future__ import annotations

from pathlib import Path

from designer.cli import CliError
from designer.cli.design_verbs import write_text


def register(sub) -> None:
    p = sub.add_parser("templates", help="list the templates: name, parameters, description")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("new", help="create a design file from a template")
    p.add_argument("--template", required=True, metavar="NAME")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    p.set_defaults(func=cmd_new)


def cmd_templates(args) -> int:
    from designer.core.summary import human, summarize
    from designer.templates import list_templates

    rows = []
    for t in list_templates():
        s = summarize(t.build())
        rows.append((t.name, human(s.total_params), t.description))
    width = max(len(r[0]) for r in rows) + 2
    for name, params, desc in rows:
        print(f"{name.ljust(width)}{params.rjust(7)}  {desc}")
    return 0


def cmd_new(args) -> int:
    from designer.core.serialization import dumps
    from designer.templates import UnknownTemplate, new_from_template

    try:
        design = new_from_template(args.template)
    except UnknownTemplate as exc:
        raise CliError(exc.args[0], code=2) from None
    if Path(args.out).exists() and not args.force:
        raise CliError(f"{args.out} exists already; pass --force to overwrite it", code=1)
    write_text(args.out, dumps(design))
    print(f"wrote {args.out} ({design.name})")
    return 0
