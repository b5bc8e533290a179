"""`netdesigner`: the app (no verb, or a design file) and the command-line verbs.

Contract: exit 0 on success, 1 when a design is invalid or a step fails, 2 for bad usage;
every failure prints one clear message, never a traceback. Each process's CPU threads are set
here, before torch is imported (designer.threads)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from designer import __version__, threads

# Each module adds its verbs with register(subparsers); a verb's function returns the exit code.
VERB_MODULES = [
    "designer.cli.new_verb",
    "designer.cli.plot_verb",
    "designer.cli.design_verbs",
    "designer.cli.evaluate_verb",
    "designer.cli.export_verb",
    "designer.cli.train_verb",
    "designer.cli.transfer_verb",
    "designer.cli.viz_verb",
    "designer.cli.compare_verb",
    "designer.cli.features_verb",
    "designer.cli.import_verb",
    "designer.cli.experiment_verb",
]


class CliError(Exception):
    """A failure to report as 'error: ...' with an exit code (1 by default)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _verb_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    parser = argparse.ArgumentParser(
        prog="netdesigner",
        description="Network Designer: build, check, train and export convolutional networks.",
    )
    parser.add_argument("--version", action="version", version=f"netdesigner {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    return parser, set(sub.choices)


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netdesigner",
        description="Open the editor (on the built-in LeNet-5 design unless DESIGN is given). "
        "Verbs: netdesigner --help-verbs",
    )
    parser.add_argument("--version", action="version", version=f"netdesigner {__version__}")
    parser.add_argument("design", nargs="?", help="a design file (.json) to open")
    parser.add_argument(
        "--screenshot", metavar="OUT.png", help="render the main window to a PNG and exit"
    )
    parser.add_argument(
        "--workspace",
        choices=("design", "training"),
        default="design",
        help="with --screenshot: the workspace to show",
    )
    parser.add_argument(
        "--run",
        metavar="RUN_DIR",
        action="append",
        default=[],
        help="with --workspace training: show this run (its curves and "
        "results); repeat it to overlay several",
    )
    parser.add_argument(
        "--experiment",
        metavar="SPEC|NAME|new",
        help="with --screenshot: render the New experiment form instead, opened on this "
        "experiment file or shipped experiment (new: an empty form)",
    )
    parser.add_argument(
        "--install-desktop",
        action="store_true",
        help="add Network Designer to the desktop's menu (Linux: the .desktop "
        "entry and icons into $XDG_DATA_HOME, default ~/.local/share) "
        "and exit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:  # also after argparse's SystemExit (--help): a closed pipe shows here, not at exit
            if sys.stdout is not None:
                sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """Whoever read the output stopped (`netdesigner templates | head -1`): end quietly with the
    status of a command killed by SIGPIPE (128 + 13), as command-line tools do. stdout and stderr
    are pointed at /dev/null first, so Python's own flush at exit does not fail again (the recipe
    in the docs of the signal module)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):  # no file behind it (e.g. captured in a test)
            pass
    os.close(devnull)
    return 141


def _install_desktop() -> int:
    from designer.desktop import install_desktop

    try:
        written = install_desktop()
    except OSError as exc:
        raise CliError(f"cannot install the desktop entry: {exc}") from None
    for path in written:
        print(path)
    print("Network Designer is in the applications menu (it may take a moment to appear)")
    return 0


def _check_data_flag(args) -> None:
    """Every verb's --data SOURCE names a data source (bad usage, before anything loads)."""
    from designer.data.source_names import source_problem

    if isinstance(getattr(args, "data", None), str):
        if not args.data.strip():
            raise CliError("--data needs a data source, e.g. digits or folder:PATH", code=2)
        problem = source_problem(args.data)
        if problem is not None:
            raise CliError(problem, code=2)


def _run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbs_parser, verbs = _verb_parser()
    try:
        if argv and (argv[0] in verbs or argv[0] == "--help-verbs"):
            if argv[0] == "--help-verbs":
                verbs_parser.print_help()
                return 0
            args, extra = verbs_parser.parse_known_args(argv)
            # A verb whose file list may continue after options (predict D --run R IMG...)
            # names it in ``more_inputs``; anything else left over is an error, as usual.
            more = getattr(args, "more_inputs", None)
            if extra and more and not any(e.startswith("-") for e in extra):
                getattr(args, more).extend(extra)
            elif extra:
                verbs_parser.error(f"unrecognized arguments: {' '.join(extra)}")
            _check_data_flag(args)
            threads.apply_at_start("compute")  # before a verb imports torch
            return int(args.func(args) or 0)
        if argv and argv[0] in ("-h", "--help"):
            _app_parser().print_help()
            print("\nverbs:\n  " + ", ".join(sorted(verbs)) + "   (netdesigner VERB --help)")
            return 0
        args = _app_parser().parse_args(argv)
        if args.install_desktop:
            return _install_desktop()
        threads.apply_at_start("ui")  # the app's process stays out of a training worker's way
        from designer.app.launch import launch  # Qt is imported only for the app

        if (args.workspace != "design" or args.run or args.experiment) and not args.screenshot:
            raise CliError("--workspace, --run and --experiment go with --screenshot", code=2)
        return launch(
            args.design,
            screenshot=args.screenshot,
            workspace=args.workspace,
            runs=args.run,
            experiment=args.experiment,
        )
    except CliError as exc:
        print(f"netdesigner: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("netdesigner: interrupted", file=sys.stderr)
        return 130
