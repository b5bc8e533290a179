"""The visualize verb: filters, top-k activating patches, activation maps, Grad-CAM, saliency and
a confusion matrix of a design (with its weights) on a dataset, as PNG pictures. --node reaches
nodes inside blocks too: "res1/conv1" (names down the blocks), or a name used in one block."""

from __future__ import annotations

from designer.cli import CliError
from designer.cli.trained_args import add_arguments, check_usage, load_design, trained_from_args
from designer.data.source_names import NAMED_SOURCES

SPLITS = ("train", "val", "test")


def untrained_note(design) -> str:
    """What pictures of a freshly initialized network show, said plainly."""
    chance = f" (about 1 in {design.num_classes})" if design.task == "classification" else ""
    return (
        "note: this network is untrained (random initial weights): its filters are noise, its "
        "top patches and activations show no learned features, and a confusion matrix shows "
        f"chance accuracy{chance}. Pass --run RUN_DIR or --weights W for a trained one."
    )


def register(sub) -> None:
    p = sub.add_parser(
        "visualize",
        help="draw filters, top activating patches, activation maps, confusion matrix",
        description="Look inside a design: each output option writes one PNG. Without --node, "
        "filters and activations use the first convolution, top patches and Grad-CAM "
        "the last; --node BLOCK/LAYER names a layer inside a block. "
        "Use trained weights (--run RUN_DIR, --weights W, or the design's own): "
        "without any, the network is freshly initialized, and a note says what that "
        "means (noise filters, chance accuracy on the confusion matrix).",
    )
    p.add_argument(
        "design",
        metavar="DESIGN",
        nargs="?",
        help="the design (optional with --run: the run's design)",
    )
    add_arguments(p, "weights to use (default: the design's own, else freshly initialized)")
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help=f"dataset: {', '.join(NAMED_SOURCES)} or folder:PATH "
        "(default: the run's or the design's training dataset)",
    )
    p.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="which part of the data to use (default: test)",
    )
    p.add_argument(
        "--node",
        metavar="NAME",
        help="the layer to look at; inside a block: BLOCK/LAYER (e.g. res1/conv1)",
    )
    p.add_argument("--filters", metavar="OUT.png", help="the node's filters")
    p.add_argument(
        "--top-patches",
        metavar="OUT.png",
        help="per channel, the k image patches that activate it most",
    )
    p.add_argument("--k", type=int, metavar="K", help="patches per channel (default: 9)")
    p.add_argument(
        "--channels", type=int, metavar="N", help="show the first N channels (default: 16)"
    )
    p.add_argument("--activations", metavar="OUT.png", help="the node's output for one image")
    p.add_argument(
        "--image",
        metavar="IMG",
        help="image file for --activations, --gradcam and --saliency "
        "(default: the split's first image)",
    )
    p.add_argument(
        "--gradcam",
        metavar="OUT.png",
        help="Grad-CAM of a convolution for one image and class, over the image",
    )
    p.add_argument(
        "--saliency",
        metavar="OUT.png",
        help="the class score's gradient per input pixel, over the image",
    )
    p.add_argument(
        "--class",
        dest="class_index",
        type=int,
        metavar="K",
        help="the class --gradcam and --saliency explain (default: the predicted one)",
    )
    p.add_argument("--confusion", metavar="OUT.png", help="confusion matrix and per-class accuracy")
    p.set_defaults(func=cmd_visualize)


def _check_usage(args) -> None:
    check_usage(args)
    if not (
        args.filters
        or args.top_patches
        or args.activations
        or args.confusion
        or args.gradcam
        or args.saliency
    ):
        raise CliError(
            "say what to draw: --filters, --top-patches, --activations, --gradcam, "
            "--saliency or --confusion (each takes an OUT.png)",
            code=2,
        )
    heat = args.gradcam or args.saliency
    for flag, value, needs, given in (
        ("--k", args.k, "--top-patches", args.top_patches),
        ("--channels", args.channels, "--top-patches", args.top_patches),
        ("--image", args.image, "--activations, --gradcam or --saliency", args.activations or heat),
        ("--class", args.class_index, "--gradcam or --saliency", heat),
    ):
        if value is not None and not given:
            raise CliError(f"{flag} goes with {needs}", code=2)
    for flag, value in (("--k", args.k), ("--channels", args.channels)):
        if value is not None and value < 1:
            raise CliError(f"{flag} must be at least 1, got {value}", code=2)
    if args.class_index is not None and args.class_index < 0:
        raise CliError(f"--class must be 0 or more, got {args.class_index}", code=2)


def _data(args, design, trained=None):
    """The prepared dataset for the design (a run's: split and normalized as in the run), or
    CliError with the data package's message."""
    from designer.data import DataError, Preprocessing, prepare_data

    if trained is not None:
        from designer.training.evaluation import EvaluationError, split_data

        try:
            return split_data(trained, args.split, args.data)
        except EvaluationError as exc:
            raise CliError(str(exc)) from None

    training = design.metadata.get("training") or {}
    source = args.data or training.get("dataset")
    if not source:
        raise CliError("say which data to use with --data SOURCE (e.g. --data digits)", code=2)
    seed = training.get("split_seed", 0)  # the split training uses, whatever its run seed
    try:
        pre = training.get("preprocessing")
        preprocessing = Preprocessing.from_dict(pre) if isinstance(pre, dict) else None
        data = prepare_data(
            source,
            design.input_shape,
            preprocessing=preprocessing,
            num_classes=design.num_classes if design.task == "classification" else None,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else 0,
        )
    except DataError as exc:
        raise CliError(str(exc)) from None
    x, y = getattr(data, f"{args.split}_x"), getattr(data, f"{args.split}_y")
    if len(x) == 0:
        raise CliError(f"the {args.split} split of {data.name} is empty; choose another --split")
    return data, x, y


def _read_image(path: str, design, data):
    """One image file -> (network input, display image)."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    from designer.data import DataError, to_network_input
    from designer.viz.display import display_images

    channels = data.image_shape[0]
    try:
        with Image.open(path) as im:
            im = im.convert("RGB" if channels == 3 else "L")
            pixels = np.array(im, dtype=np.uint8)
    except FileNotFoundError:
        raise CliError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise CliError(f"{path}: cannot be read as an image ({exc})") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    images = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).contiguous()
    try:
        x = to_network_input(images, design.input_shape, data.stats)
    except DataError as exc:
        raise CliError(f"{path}: {exc}") from None
    return x[0], display_images(x, data.stats, data.image_shape)[0]


def cmd_visualize(args) -> int:
    _check_usage(args)
    from designer.viz import VizError

    try:
        return _visualize(args)
    except VizError as exc:
        raise CliError(str(exc)) from None


def _visualize(args) -> int:
    from designer.viz import (
        activation_maps,
        confusion_matrix,
        filter_tiles,
        load_model,
        pick_node,
        top_patches,
    )
    from designer.viz.attribution import grad_cam, saliency
    from designer.viz.display import as_picture, display_images
    from designer.viz.render import (
        render_activations,
        render_attribution,
        render_confusion,
        render_filters,
        render_top_patches,
        save_png,
    )

    design = load_design(args)
    trained = trained_from_args(args, design) if args.run else None
    if trained is not None:
        design = trained.design
    if args.confusion and design.task != "classification":
        raise CliError(
            f"{args.design or args.run} is a {design.task} design; a confusion matrix "
            "needs a classifier"
        )
    if (args.gradcam or args.saliency) and design.task != "classification":
        raise CliError(
            f"{args.design or args.run} is a {design.task} design; Grad-CAM and "
            "saliency explain a class score and need a classifier"
        )
    model = load_model(design, args.design, trained.weights if trained else args.weights)
    res = model.analysis
    # Choose every node before the slow part, so a wrong name fails at once.
    filters_node = pick_node(design, res, "filters", args.node) if args.filters else None
    patches_node = (
        pick_node(design, res, "top patches", args.node, default="last")
        if args.top_patches
        else None
    )
    maps_node = pick_node(design, res, "activations", args.node) if args.activations else None
    cam_node = (
        pick_node(design, res, "grad-cam", args.node, default="last") if args.gradcam else None
    )
    print(f"using {trained.weights_note if trained else model.weights_note}")
    if model.fresh:
        print(untrained_note(design))

    if filters_node is not None:
        tiles = filter_tiles(model, filters_node.key)
        save_png(render_filters(tiles), args.filters)
        n, per, kh, kw = tiles.weights.shape
        print(
            f"wrote {args.filters}: {n} filters of {filters_node.label} ({per} input "
            f"channel(s), {kh}x{kw}, shown as {tiles.mode})"
        )
    if not (patches_node or maps_node or args.confusion or args.gradcam or args.saliency):
        return 0

    data, x, y = _data(args, design, trained)
    where = f"the {args.split} split of {data.name}"
    shown = display_images(x, data.stats, data.image_shape)
    if patches_node is not None:
        k = args.k or 9
        channels = patches_node.shape[0]
        chosen = list(range(min(channels, args.channels or 16)))
        tp = top_patches(model, patches_node.key, x, shown, k=k, channels=chosen)
        save_png(render_top_patches(tp), args.top_patches)
        print(
            f"wrote {args.top_patches}: top {k} patches of {patches_node.label} for "
            f"{len(chosen)} of {channels} channels over {len(x)} images of {where} "
            f"({tp.field_text})"
        )
    if args.image:
        image, picture = _read_image(args.image, design, data)
        source = args.image
    else:
        image, picture, source = x[0], shown[0], f"image 0 of {where}"
    if maps_node is not None:
        maps = activation_maps(model, maps_node.key, image)
        save_png(render_activations(maps, as_picture(picture)), args.activations)
        print(
            f"wrote {args.activations}: {len(maps.maps)} activation map(s) of "
            f"{maps_node.label} for {source}"
        )
    for out, method in ((args.gradcam, "grad-cam"), (args.saliency, "saliency")):
        if not out:
            continue
        if method == "grad-cam":
            heat = grad_cam(model, cam_node.key, image, args.class_index)
        else:
            heat = saliency(model, image, args.class_index)
        save_png(render_attribution(heat, as_picture(picture)), out)
        names = data.classes
        label = names[heat.target] if heat.target < len(names) else str(heat.target)
        label = "" if label == str(heat.target) else f" ({label})"
        flat = " (the score is flat here: the map is empty)" if heat.peak == 0 else ""
        print(f"wrote {out}: {heat.title}{label} for {source}{flat}")
    if args.confusion:
        conf = confusion_matrix(model.module, x, y, data.classes)
        save_png(render_confusion(conf, args.split), args.confusion)
        print(f"wrote {args.confusion}: accuracy {conf.accuracy:.1%} on {len(x)} images of {where}")
        for name, acc, n in zip(conf.classes, conf.per_class_accuracy, conf.support):
            shown_acc = "-" if n == 0 else f"{acc:.1%}"
            print(f"  {name}: {shown_acc} of {n}")
    return 0
