"""The plot verb: one metric of several training runs, one curve per run, as PNG, SVG or CSV."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from designer.cli import CliError

X_AXES = ("step", "epoch", "time")  # designer.training.curves.X_AXES (numpy-free here)


def register(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="compare training runs: one metric, one curve per run, as PNG/SVG and CSV",
        description="Plot a metric of one or more run directories (their metrics.jsonl), one "
        "curve per run with a legend by run name.",
    )
    p.add_argument("runs", metavar="RUN_DIR", nargs="+", help="training run directories")
    p.add_argument(
        "--metric",
        default="val_loss",
        metavar="NAME",
        help="what to plot (default: val_loss): per step loss, loss_ema, lr; per epoch "
        "train_loss, val_loss, train_accuracy, val_accuracy, train_top5, val_top5, "
        "epoch_lr, samples_per_second",
    )
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        metavar="S",
        help="moving-average smoothing from 0 (none, the default) to below 1, e.g. "
        "0.99, "
        "the engine's bias-corrected average (the recorded values stay in faintly)",
    )
    p.add_argument(
        "--x",
        choices=X_AXES,
        default="step",
        dest="x_axis",
        help="x axis: step (default), epoch, or time (training seconds)",
    )
    p.add_argument("-o", "--output", metavar="OUT.png", help="the picture: .png or .svg")
    p.add_argument(
        "--csv", metavar="OUT.csv", help="the plotted points: run, x, metric[, smoothed]"
    )
    p.add_argument(
        "--size", default="900x560", metavar="WxH", help="PNG size in pixels (default 900x560)"
    )
    p.add_argument("--title", default="", help="a title above the plot")
    p.set_defaults(func=cmd_plot)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CliError(
            f"--size must be WIDTHxHEIGHT in pixels, e.g. 900x560, got {text!r}", code=2
        ) from None
    if not (16 <= w <= 10000 and 16 <= h <= 10000):
        raise CliError(f"--size must be 16 to 10000 pixels each way, got {text}", code=2)
    return w, h


def cmd_plot(args) -> int:
    from designer.training.curves import CurveError, check_choice, load_curves, write_csv

    if not (args.output or args.csv):
        raise CliError("say where the plot goes: -o OUT.png (or .svg) and/or --csv OUT.csv", code=2)
    if args.output and Path(args.output).suffix.lower() not in (".png", ".svg"):
        raise CliError(f"-o {args.output}: a plot is written as .png or .svg", code=2)
    size = _size(args.size)
    try:
        check_choice(args.metric, args.x_axis, args.smooth)
    except CurveError as exc:
        raise CliError(str(exc), code=2) from None
    try:
        curves = load_curves(args.runs, args.metric, args.x_axis, args.smooth)
    except CurveError as exc:
        raise CliError(str(exc)) from None
    for c in curves:
        if not len(c):
            print(f"note: the run {c.run_dir} has no {c.metric} values")
    if not any(len(c) for c in curves):
        raise CliError(f"none of the runs has {args.metric} values to plot")
    names = ", ".join(c.name for c in curves)
    try:
        if args.csv:
            write_csv(curves, args.csv)
            print(f"wrote {args.csv}: {sum(len(c) for c in curves)} points of {names}")
        if args.output:
            _draw(curves, args.output, size, args.title)
            print(
                f"wrote {args.output}: {args.metric} of {len(curves)} run(s) ({names}) "
                f"by {args.x_axis}"
            )
    except OSError as exc:
        raise CliError(f"cannot write the plot: {exc.strerror or exc}") from None
    return 0


def headless() -> None:
    """Drawing needs no screen: without one, Qt draws offscreen (set before Qt is imported)."""
    no_screen = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if no_screen and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _draw(curves, out: str, size: tuple[int, int], title: str) -> None:
    headless()
    from designer.app.plots.export import save_plot

    save_plot(curves, out, size=size, title=title)
