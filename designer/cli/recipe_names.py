"""-h/--help for the train and search verbs: the help ends with the training recipe's optimizers
and learning-rate schedules, read from the recipe when help is asked for. (The recipe imports
torch, and every verb's parser is built at each start: 0.2 s for `netdesigner check`, not 1.5.)"""

from __future__ import annotations

import argparse


def add_help(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` (made with add_help=False) this -h/--help."""
    parser.add_argument(
        "-h",
        "--help",
        action=_HelpWithRecipeNames,
        nargs=0,
        default=argparse.SUPPRESS,
        help="show this help message and exit",
    )


class _HelpWithRecipeNames(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        from designer.training.config import OPTIMIZERS, SCHEDULES

        parser.epilog = (
            f"Optimizers: {', '.join(OPTIMIZERS)}. Learning-rate schedules: {', '.join(SCHEDULES)}."
        )
        parser.print_help()
        parser.exit()
