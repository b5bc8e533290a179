"""The flags that say which trained weights a verb uses: --weights W, or --run RUN_DIR with
--which best|last (the run's design, weights and preprocessing together)."""

from __future__ import annotations

from designer.cli import CliError
from designer.cli.design_verbs import load, require_valid

RUN_HELP = (
    "a training run directory: its kept weights (see --which), its preprocessing, and "
    "its design when DESIGN is not given"
)
WHICH_HELP = "with --run: the run's best or last weights (default: the ones the run keeps)"


def add_arguments(p, weights_help: str) -> None:
    source = p.add_mutually_exclusive_group()
    source.add_argument("--weights", metavar="W.safetensors", help=weights_help)
    source.add_argument("--run", metavar="RUN_DIR", help=RUN_HELP)
    p.add_argument("--which", choices=("best", "last"), help=WHICH_HELP)


def check_usage(args) -> None:
    if args.which and not args.run:
        raise CliError("--which goes with --run", code=2)
    if not args.design and not args.run:
        raise CliError("name a DESIGN, or a training run with --run RUN_DIR", code=2)


def load_design(args):
    """The DESIGN argument, loaded and checked; None with --run and no DESIGN (the run's)."""
    if not args.design:
        return None
    design = load(args.design)
    require_valid(design, args.design)
    return design


def trained_from_args(args, design):
    """The Trained weights the flags name (designer.training.evaluation)."""
    from designer.training.evaluation import EvaluationError, from_design, from_run

    try:
        if args.run:
            trained = from_run(args.run, args.which, design)
            if design is None:
                require_valid(trained.design, f"{args.run}'s design")
            return trained
        return from_design(design, args.weights, args.design)
    except EvaluationError as exc:
        raise CliError(str(exc)) from None
