"""The evaluate and predict verbs: trained weights on a data split, or on image files."""

from __future__ import annotations

import json

from designer.cli import CliError
from designer.cli.trained_args import add_arguments, check_usage, load_design, trained_from_args

WEIGHTS_HELP = "a weights file, e.g. RUN/best.safetensors (default: the design's own weights)"


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="loss, accuracy, top-5 and per-class accuracy of trained weights on a data split",
        description="Evaluate trained weights on a data split, split and preprocessed as in "
        "training (with --run: exactly the run's; the figures match its result.json).",
    )
    p.add_argument(
        "design",
        metavar="DESIGN",
        nargs="?",
        help="the design (optional with --run: the run's design)",
    )
    add_arguments(p, WEIGHTS_HELP)
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default="test",
        help="which part of the data (default: test)",
    )
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="another dataset with the same classes (default: the one trained on)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.set_defaults(func=cmd_evaluate)

    q = sub.add_parser(
        "predict",
        help="the top classes of image files under trained weights",
        description="Classify image files (any size, grayscale or colour): each is converted to "
        "the design's input the way the training data was (size, channels and the "
        "run's normalization).",
    )
    q.add_argument(
        "inputs",
        metavar="[DESIGN] IMAGE",
        nargs="+",
        help="the design file (optional with --run), then one or more images",
    )
    add_arguments(q, WEIGHTS_HELP)
    q.add_argument(
        "--top", type=int, default=3, metavar="K", help="classes shown per image (default: 3)"
    )
    q.add_argument("--json", action="store_true", help="print one JSON object instead")
    q.set_defaults(func=cmd_predict, more_inputs="inputs")


def cmd_evaluate(args) -> int:
    from designer.training.evaluation import EvaluationError, evaluate_split

    check_usage(args)
    trained = trained_from_args(args, load_design(args))
    if trained.design.task != "classification":
        raise CliError(
            f"the design '{trained.design.name}' is a {trained.design.task} design; "
            f"evaluate reports classification figures"
        )
    try:
        result = evaluate_split(trained, args.split, args.data)
    except EvaluationError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(
            json.dumps(
                {"weights": str(trained.weights), "which": trained.which, **result.to_dict()},
                indent=2,
            )
        )
        return 0
    print(f"using {trained.weights_note}")
    print(f"the {result.split} split of {result.dataset}: {result.samples} samples")
    correct = int(result.confusion.trace())
    line = f"loss {result.loss:.4f}  accuracy {result.accuracy:.2%} ({correct}/{result.samples})"
    if result.top5 is not None:
        line += f"  top-5 {result.top5:.2%}"
    print(line)
    print("per-class accuracy:")
    width = max(len(c) for c in result.classes)
    for name, acc, n in zip(result.classes, result.per_class_accuracy, result.support):
        shown = "-" if acc is None else f"{acc:.1%}"
        print(f"  {name:<{width}}  {shown:>6} of {n}")
    return 0


def cmd_predict(args) -> int:
    from designer.training.evaluation import EvaluationError, predict_images

    paths = list(args.inputs)
    args.design = paths.pop(0) if paths[0].lower().endswith(".json") else None
    check_usage(args)
    if not paths:
        raise CliError("name one or more image files to classify", code=2)
    if args.top < 1:
        raise CliError(f"--top must be at least 1, got {args.top}", code=2)
    trained = trained_from_args(args, load_design(args))
    try:
        predictions = predict_images(trained, paths, top=args.top)
    except EvaluationError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(
            json.dumps(
                {
                    "weights": str(trained.weights),
                    "which": trained.which,
                    "predictions": [
                        {"image": p.path, "top": [{"class": c, "score": s} for c, s in p.top]}
                        for p in predictions
                    ],
                },
                indent=2,
            )
        )
        return 0
    print(f"using {trained.weights_note}")
    probabilities = trained.config.resolved_loss(trained.design.task) != "mse"
    for p in predictions:
        shown = [f"{c} ({s:.1%})" if probabilities else f"{c} (output {s:.3f})" for c, s in p.top]
        print(f"{p.path}: " + ", ".join(shown))
    return 0
