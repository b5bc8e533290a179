"""The features verb: a node's outputs for every sample of a data split, with the labels, stored
as a .safetensors file (seed 000's features cached to disk, e.g. to train a classifier on
elsewhere). --node reaches nodes inside blocks too ("layer3_1/conv2")."""

from __future__ import annotations

import json

from designer.cli import CliError
from designer.cli.trained_args import add_arguments, check_usage, load_design, trained_from_args

WEIGHTS_HELP = "a weights file, e.g. RUN/best.safetensors (default: the design's own weights)"


def register(sub) -> None:
    p = sub.add_parser(
        "features",
        help="store a node's outputs for every sample of a data split (safetensors)",
        description="Run trained weights over a data split (split and preprocessed as in "
        "training; with --run exactly the run's) and store the outputs of one node "
        "for every sample, with the labels, in a .safetensors file: tensors "
        "'features' (N x the node's shape, float32) and 'labels' (N, int64); its "
        "metadata names the node, split, dataset, classes and weights.",
    )
    p.add_argument(
        "design",
        metavar="DESIGN",
        nargs="?",
        help="the design (optional with --run: the run's design)",
    )
    add_arguments(p, WEIGHTS_HELP)
    p.add_argument(
        "--node",
        metavar="NAME",
        required=True,
        help="the node whose outputs to store; inside a block: BLOCK/LAYER",
    )
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="the dataset (default: the one the weights were trained on)",
    )
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default="train",
        help="which part of the data (default: train)",
    )
    p.add_argument(
        "-o", "--output", metavar="F.safetensors", required=True, help="the file to write"
    )
    p.set_defaults(func=cmd_features)


def cmd_features(args) -> int:
    from designer.core.atomic import atomic_path
    from designer.training.evaluation import EvaluationError, split_data
    from designer.viz import VizError, load_model, node_outputs, pick_node

    check_usage(args)
    if not args.output.endswith(".safetensors"):
        raise CliError(
            f"-o {args.output}: the features are written as safetensors; name a "
            f"file ending in .safetensors",
            code=2,
        )
    trained = trained_from_args(args, load_design(args))
    design = trained.design
    try:
        model = load_model(design, args.design, trained.weights)
        place = pick_node(design, model.analysis, "features", args.node)
        data, x, y = split_data(trained, args.split, args.data)
        features = node_outputs(model, place.key, x)
    except (VizError, EvaluationError) as exc:
        raise CliError(str(exc)) from None
    from safetensors.torch import save_file

    metadata = {
        "node": place.label,
        "node_key": place.key,
        "split": args.split,
        "dataset": data.name,
        "classes": json.dumps(list(data.classes)),
        "weights": trained.weights_note,
        "design": design.name,
    }
    try:
        with atomic_path(args.output) as tmp:
            save_file(
                {"features": features.contiguous(), "labels": y.contiguous()},
                str(tmp),
                metadata=metadata,
            )
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    shape = "x".join(map(str, features.shape[1:]))
    print(f"using {trained.weights_note}")
    print(
        f"wrote the outputs of {place.label} ({shape} per sample) for the {len(features)} "
        f"samples of the {args.split} split of {data.name}, with their labels, to {args.output}"
    )
    return 0
