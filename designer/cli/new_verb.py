"""Verbs that create designs: templates (the list) and new (from a template, optionally with
torchvision's pretrained weights or a torchvision state_dict file mapped in)."""

from __future__ import annotations

import json
from pathlib import Path

from designer.cli import CliError
from designer.cli.design_verbs import write_text


def register(sub) -> None:
    p = sub.add_parser("templates", help="list the templates: name, parameters, MACs, accuracy")
    p.add_argument(
        "--json", action="store_true", help="print every template's metadata as one JSON list"
    )
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("new", help="create a design file from a template")
    p.add_argument("--template", required=True, metavar="NAME")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template option, e.g. num_classes=10, input_size=64, layers=3,4,23,3 "
        "(netdesigner templates lists them); repeatable",
    )
    weights = p.add_mutually_exclusive_group()
    weights.add_argument(
        "--pretrained",
        choices=["imagenet"],
        help="map in torchvision's ImageNet weights (downloaded once into torch's cache)",
    )
    weights.add_argument(
        "--weights-file",
        metavar="PATH",
        help="map in a torchvision state_dict (.pth/.pt, read with "
        "weights_only=True, or .safetensors)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite OUT.json (and its weights file) if they exist",
    )
    p.set_defaults(func=cmd_new)


def cmd_templates(args) -> int:
    from designer.core.summary import human
    from designer.templates import describe_options, list_templates, template_info

    infos = [(t, template_info(t)) for t in list_templates()]
    if args.json:
        print(json.dumps([info for _, info in infos], indent=2))
        return 0
    width = max(len(t.name) for t, _ in infos) + 2
    print(f"{'name'.ljust(width)} params     MACs  top-1  description")
    for t, info in infos:
        top1 = f"{info['accuracy']['top1']:.1f}" if "top1" in info["accuracy"] else "-"
        print(
            f"{t.name.ljust(width)}{human(info['params']).rjust(7)}  "
            f"{human(info['macs']).rjust(7)}  {top1.rjust(5)}  {t.description}"
        )
        options = describe_options(t)
        if options:
            print(f"{''.ljust(width)}options: {options}")
    return 0


def weights_path_for(out: str | Path) -> Path:
    """The weights file kept beside a design: OUT.json -> OUT.safetensors."""
    return Path(out).with_suffix(".safetensors")


def _parse_options(t, texts: list[str]) -> dict:
    from designer.templates import TemplateOptionError, parse_option

    options = {}
    for text in texts:
        try:
            key, value = parse_option(t, text)
        except TemplateOptionError as exc:
            raise CliError(str(exc), code=2) from None
        options[key] = value
    return options


def _torchvision_link(t, options: dict, pretrained: bool):
    from designer.templates import list_templates
    from designer_templates._imagenet import link_for

    link = link_for(t, options)
    if link is None:
        have = ", ".join(x.name for x in list_templates() if link_for(x) is not None)
        raise CliError(
            f"template {t.name} has no torchvision counterpart, so no torchvision "
            f"weights fit it; these do: {have}",
            code=2,
        )
    if pretrained:
        if options.get("num_classes", 1000) != 1000:
            raise CliError(
                "torchvision's ImageNet weights are for 1000 classes; make the design without "
                "num_classes, then give it a new head: netdesigner transfer OUT.json --classes "
                f"{options['num_classes']} NEW.json",
                code=2,
            )
        implied = {k: v for k, v in link.pretrained_options.items() if k not in options}
        if implied:
            options.update(implied)
            link = link_for(t, options)
        if link.model is None:
            shown = ", ".join(f"{k}={v}" for k, v in options.items())
            raise CliError(
                f"torchvision has no pretrained weights for {t.name} with {shown}; "
                "use --weights-file with a state_dict of that architecture",
                code=1,
            )
    return link


def _refuse_overwrite(paths: list[Path], force: bool) -> None:
    for path in paths:
        if path.exists() and not force:
            raise CliError(f"{path} exists already; pass --force to overwrite it", code=1)


def cmd_new(args) -> int:
    from designer.core.serialization import dumps
    from designer.interop.weights import WeightsError, read_tensors
    from designer.templates import (
        TemplateOptionError,
        UnknownTemplate,
        get_template,
        new_from_template,
    )

    try:
        t = get_template(args.template)
    except UnknownTemplate as exc:
        raise CliError(exc.args[0], code=2) from None
    options = _parse_options(t, args.option)
    with_weights = bool(args.pretrained or args.weights_file)
    link = _torchvision_link(t, options, bool(args.pretrained)) if with_weights else None
    out, weights_out = Path(args.out), weights_path_for(args.out)
    _refuse_overwrite([out, weights_out] if with_weights else [out], args.force)
    try:
        design = new_from_template(t.name, **options)
    except TemplateOptionError as exc:
        raise CliError(str(exc), code=2) from None

    if link is not None:
        from designer.interop.torchvision_weights import (
            attach_torchvision_weights,
            pretrained_state_dict,
        )

        try:
            if args.pretrained:
                tensors, source = pretrained_state_dict(link.model)
            else:
                tensors, source = read_tensors(args.weights_file), Path(args.weights_file).name
                if link.pretrained_options and not all(
                    k in options for k in link.pretrained_options
                ):
                    implied = ", ".join(f"{k}={v}" for k, v in link.pretrained_options.items())
                    print(
                        f"note: torchvision's pretrained {t.name} runs with {implied}; if these "
                        f"weights come from it, add --option {implied.replace(', ', ' --option ')}"
                    )
            attach_torchvision_weights(
                design, tensors, link, str(args.weights_file or source), weights_out
            )
            design.metadata["weights_source"] = source
        except WeightsError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"cannot write {weights_out}: {exc.strerror or exc}") from None
    try:
        write_text(str(out), dumps(design))
    except CliError:
        if link is not None:  # no weights file without the design that refers to it
            weights_out.unlink(missing_ok=True)
        raise
    extra = f" and {weights_out} (weights: {design.metadata['weights_source']})" if link else ""
    print(f"wrote {out} ({design.name}){extra}")
    return 0
