"""`netdesigner`: the app (no verb, or a design file) and the command-line verbs.

Contract: exit 0 on success, 1 when a design is invalid or a step fails, 2 for bad usage;
every failure prints one clear message, never a traceback."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from designer import __version__

# Each module adds its verbs with register(subparsers); a verb's function returns the exit code.
VERB_MODULES = [
    "designer.cli.new_verb",
    "designer.cli.design_verbs",
    "designer.cli.export_verb",
    "designer.cli.train_verb",
    "designer.cli.transfer_verb",
    "designer.cli.viz_verb",
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
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="render the main window to a PNG and exit")
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


def _run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbs_parser, verbs = _verb_parser()
    try:
        if argv and (argv[0] in verbs or argv[0] == "--help-verbs"):
            if argv[0] == "--help-verbs":
                verbs_parser.print_help()
                return 0
            args = verbs_parser.parse_args(argv)
            return int(args.func(args) or 0)
        if argv and argv[0] in ("-h", "--help"):
            _app_parser().print_help()
            print("\nverbs:\n  " + ", ".join(sorted(verbs)) + "   (netdesigner VERB --help)")
            return 0
        args = _app_parser().parse_args(argv)
        from designer.app.launch import launch  # Qt is imported only for the app

        return launch(args.design, screenshot=args.screenshot)
    except CliError as exc:
        print(f"netdesigner: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("netdesigner: interrupted", file=sys.stderr)
        return 130
