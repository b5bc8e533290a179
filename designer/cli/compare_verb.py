"""The compare verb: seed 000's chart of accuracy against operations and parameters, for the
templates (ImageNet top-1) and for runs of the user's designs (their test accuracy)."""

from __future__ import annotations

from designer.cli import CliError


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="chart accuracy vs MACs vs parameters of templates and of your runs",
        description="One bubble per network: x = MACs per sample (log), y = accuracy, area = "
        "parameters. Templates show torchvision's ImageNet top-1; runs show their "
        "test accuracy on their own data. Without paths, the templates.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="DESIGN|RUN_DIR",
        help="a design file (its runs beside it), a run directory or a folder of runs",
    )
    p.add_argument(
        "--templates",
        action="store_true",
        help="also the templates (the default when no path is given)",
    )
    p.add_argument("-o", "--out", required=True, metavar="OUT.png", help="the chart, .png or .svg")
    p.add_argument("--json", action="store_true", help="also print the points as JSON")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    from pathlib import Path

    from designer.training.compare import CompareError, points_json, template_points, user_points

    if Path(args.out).suffix.lower() not in (".png", ".svg"):
        raise CliError(f"-o {args.out}: the chart is written as .png or .svg", code=2)
    try:
        runs = user_points(args.paths)
    except CompareError as exc:
        raise CliError(str(exc)) from None
    if args.paths and not runs:
        raise CliError("none of these runs has a test accuracy yet (finished runs have one)")
    templates = template_points() if args.templates or not args.paths else []
    points = templates + runs
    if templates and runs:
        y_label = "accuracy (%): ImageNet top-1 for templates, test accuracy for runs"
    else:
        y_label = "ImageNet top-1 accuracy (%)" if templates else "test accuracy (%)"
    from designer.app.plots.compare import save_chart
    from designer.cli.plot_verb import headless

    headless()
    try:
        save_chart(points, args.out, y_label, "Accuracy vs operations (bubble area: parameters)")
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.json:
        print(points_json(points))
    print(f"wrote {args.out} ({len(points)} network{'s' if len(points) != 1 else ''})")
    return 0
