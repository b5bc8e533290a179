"""Transfer-learning edits: freeze, learning-rate multipliers, a new head, a cut, another input,
a stage's depth.

Pure graph edits (no torch). Each takes the design first, so the editor can push one as
`commands.Snapshot(lambda d: replace_head(d, 2), "Replace head")`. Each checks everything before
it changes anything: an edit that would leave the design invalid raises TransferError and leaves
the design as it was. Edits that change weights return a TransferEdit naming the nodes whose
weights start fresh and how the input changed; `designer.interop.transfer_weights` carries every
other tensor over.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from designer.core.analysis import Analysis, analyze
from designer.core.builder import GraphBuilder
from designer.core.design import Design, Edge, Node
from designer.core.layout import ROW
from designer.core.registry import get_spec

Ref = str  # a node's name or id


class TransferError(ValueError):
    """An edit that cannot be made; the message names the node and what to do instead."""


@dataclass
class TransferEdit:
    fresh: set[str] = field(default_factory=set)  # node ids whose weights start new
    input_nodes: set[str] = field(default_factory=set)  # nodes fed by the input
    input_channels: tuple[int, int] | None = None  # (before, after) when the channels changed

    def merge(self, other: TransferEdit) -> TransferEdit:
        self.fresh |= other.fresh
        self.input_nodes |= other.input_nodes
        if other.input_channels is not None:
            before = self.input_channels[0] if self.input_channels else other.input_channels[0]
            self.input_channels = (before, other.input_channels[1])
        return self


# -- finding nodes -------------------------------------------------------------------------------
def find_node(design: Design, ref: Ref) -> Node:
    """The node with this name (or id); the error suggests close names."""
    node = design.find(ref)
    if node is not None:
        return node
    names = [n.name for n in design.nodes.values()]
    close = difflib.get_close_matches(ref, names, n=3)
    hint = (
        f"; did you mean {', '.join(close)}?" if close else f"; the nodes are: {', '.join(names)}"
    )
    raise TransferError(f"the design has no node {ref!r}{hint}")


def _role(node: Node) -> str:
    return get_spec(node.type).role


def _valid(design: Design, what: str) -> Analysis:
    res = analyze(design)
    if res.problems:
        raise TransferError(f"{what}: the design has problems to fix first: {res.problems[0]}")
    return res


def _learned(res: Analysis, nid: str) -> tuple[int, int] | None:
    info = res.info.get(nid)
    return None if info is None else (info.trainable_params, info.buffer_params)


def _checked(design: Design, what: str, edit: Callable[[Design], TransferEdit]) -> TransferEdit:
    """Run the edit on a copy; if the result is valid, run it on the design and return what it
    did (plus every node whose parameter shapes changed, as fresh)."""
    from designer.core.serialization import clone

    before = _valid(design, what)
    trial = clone(design)
    edit(trial)
    after = analyze(trial)
    if after.problems:
        raise TransferError(f"{what} would break the design: {after.problems[0]}")
    result = edit(design)
    after = analyze(design)
    for nid in design.nodes:
        if nid in before.info and _learned(before, nid) != _learned(after, nid):
            result.fresh.add(nid)
    return result


# -- freezing and learning rates ---------------------------------------------------------------
def set_trainable(design: Design, refs: Iterable[Ref], trainable: bool) -> list[str]:
    """Freeze (trainable=False) or unfreeze nodes; their parameters count as non-trainable."""
    return _set_trainable(design, [find_node(design, r).id for r in refs], trainable)


def _set_trainable(design: Design, ids: list[str], trainable: bool) -> list[str]:
    for nid in ids:
        if design.nodes[nid].trainable != trainable:
            design.set_node_attr(nid, "trainable", trainable)
    return ids


def freeze_until(design: Design, ref: Ref) -> list[str]:
    """Freeze the node and every node before it (all that feed it); the rest are unchanged."""
    node = find_node(design, ref)
    ids = nx.ancestors(design.nx_graph(), node.id) | {node.id}
    chosen = [nid for nid in design.nodes if nid in ids and _role(design.nodes[nid]) != "input"]
    return _set_trainable(design, chosen, False)


def unfreeze_all(design: Design) -> list[str]:
    return _set_trainable(
        design, [n for n, node in design.nodes.items() if not node.trainable], True
    )


def set_lr_mult(design: Design, refs: Iterable[Ref], mult: float) -> list[str]:
    """The learning rate of these nodes' parameters is the base rate times `mult` (0 = fixed)."""
    if (
        isinstance(mult, bool)
        or not isinstance(mult, (int, float))
        or not math.isfinite(mult)
        or mult < 0
    ):
        raise TransferError(
            f"a learning-rate multiplier must be a number of at least 0, got {mult!r}"
        )
    nodes = [find_node(design, r) for r in refs]
    for n in nodes:
        design.set_node_attr(n.id, "lr_mult", float(mult))
    return [n.id for n in nodes]


# -- the head ------------------------------------------------------------------------------------
def output_node(design: Design) -> Node:
    for n in design.nodes.values():
        if _role(n) == "output":
            return n
    raise TransferError("the design has no head (classification or regression output)")


def classifier_node(design: Design) -> Node:
    """The layer that computes the class scores: the last Linear or Conv2d before the head,
    reached through parameter-free layers (dropout, activations, pooling, flatten)."""
    res = _valid(design, "finding the classifier")
    nid = output_node(design).id
    while True:
        feeds = design.in_edges(nid)
        if len(feeds) != 1:
            break
        src = design.nodes[feeds[0].src]
        if src.type in ("Linear", "Conv2d"):
            return src
        if (
            _role(src) == "input"
            or res.info[src.id].trainable_params
            or res.info[src.id].buffer_params
        ):
            break
        nid = src.id
    raise TransferError(
        "no Linear or Conv2d layer computes the class scores right before the "
        "head; cut the design (cut_at) to give it a new classifier instead"
    )


def _chain(design: Design, src: str, hidden: Iterable[int], dropout: float) -> tuple[str, set[str]]:
    b, added = GraphBuilder(design), set()
    for i, width in enumerate(hidden, start=1):
        for type_name, name, params in (
            ("Linear", f"fc_new{i}", {"out_features": int(width)}),
            ("ReLU", f"relu_new{i}", {}),
            ("Dropout", f"dropout_new{i}", {"p": dropout}),
        ):
            if type_name == "Dropout" and dropout <= 0:
                continue
            src = b.add(type_name, src, name=name, **params)
            added.add(src)
    return src, added


def _check_head_args(num_classes: int, hidden: Iterable[int], dropout: float) -> list[int]:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise TransferError(
            f"the number of classes must be a whole number of at least 1, got {num_classes!r}"
        )
    widths = list(hidden)
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise TransferError(
            f"hidden layer widths must be whole numbers of at least 1, got {widths!r}"
        )
    if not 0 <= dropout < 1:
        raise TransferError(f"dropout must be at least 0 and below 1, got {dropout!r}")
    return widths


def _set_head(design: Design, src: str, name: str = "output") -> str:
    """Make `src` feed a classification head (replacing a regression head if there is one)."""
    old = next((n for n in design.nodes.values() if _role(n) == "output"), None)
    if old is not None:
        for e in design.in_edges(old.id):
            design.remove_edge(e)
        design.remove_node(old.id)
    return GraphBuilder(design).add("ClassificationOutput", src, name=name)


def replace_head(
    design: Design, num_classes: int, hidden: Iterable[int] = (), dropout: float = 0.5
) -> TransferEdit:
    """A new classifier for `num_classes` classes, keeping every other weight. With `hidden`
    widths, Linear-ReLU-Dropout layers come first (seed 000: Dense 256 - Dropout 0.5)."""
    widths = _check_head_args(num_classes, hidden, dropout)
    head = output_node(design)
    if head.type != "ClassificationOutput":  # a feature extractor: a classifier goes on top
        feeds = design.in_edges(head.id)
        if len(feeds) != 1:
            raise TransferError(f"connect the head ({head.name}) before giving it a classifier")
        return cut_at(design, feeds[0].src, num_classes, widths, dropout)
    clf = classifier_node(design)
    if widths and clf.type != "Linear":
        raise TransferError(
            f"{clf.name} is a convolution; hidden layers go before a Linear "
            "classifier only (cut the design to add a Linear head)"
        )

    def edit(d: Design) -> TransferEdit:
        node = d.nodes[clf.id]
        key = "out_features" if node.type == "Linear" else "out_channels"
        d.set_node_attr(node.id, "params", {**node.params, key: num_classes})
        d.set_node_attr(node.id, "trainable", True)
        fresh = {node.id}
        if widths:
            feed = d.in_edges(node.id)[0]
            d.remove_edge(feed)
            last, added = _chain(d, feed.src, widths, dropout)
            d.add_edge(Edge(last, node.id, feed.dst_port))
            fresh |= added
        d.set_setting("task", "classification")
        d.set_setting("num_classes", num_classes)
        return TransferEdit(fresh=fresh)

    return _checked(design, f"replacing the head of {design.name}", edit)


def cut_at(
    design: Design,
    ref: Ref,
    num_classes: int | None = None,
    hidden: Iterable[int] = (),
    dropout: float = 0.5,
) -> TransferEdit:
    """Keep the node and everything before it. Without `num_classes` the design becomes a
    feature extractor: its output is the node's output, flattened (seed 000's FC7 features).
    With `num_classes` a new classifier goes on top (seed 000: VGG16 without its top)."""
    node = find_node(design, ref)
    if _role(node) in ("input", "output"):
        raise TransferError(
            f"cut at a layer, not at the {'input' if _role(node) == 'input' else 'head'}"
        )
    widths = [] if num_classes is None else _check_head_args(num_classes, hidden, dropout)
    res = _valid(design, f"cutting at {node.name}")
    shape = res.info[node.id].shape

    def edit(d: Design) -> TransferEdit:
        keep = nx.ancestors(d.nx_graph(), node.id) | {node.id}
        for e in [e for e in d.edges if e.src not in keep or e.dst not in keep]:
            d.remove_edge(e)
        for nid in [nid for nid in d.nodes if nid not in keep]:
            d.remove_node(nid)
        b, fresh = GraphBuilder(d), set()
        x = node.id
        if len(shape) != 1:
            x = b.add("Flatten", x, name="flatten_features")
            fresh.add(x)
        if num_classes is None:
            fresh.add(b.add("RegressionOutput", x, name="features"))
            d.set_setting("task", "regression")
        else:
            x, added = _chain(d, x, widths, dropout)
            x = b.add("Linear", x, name="classifier_new", out_features=num_classes)
            fresh |= added | {x, _set_head(d, x)}
            d.set_setting("task", "classification")
            d.set_setting("num_classes", num_classes)
        return TransferEdit(fresh=fresh)

    return _checked(design, f"cutting at {node.name}", edit)


# -- the input -----------------------------------------------------------------------------------
def adapt_input(
    design: Design, channels: int | None = None, size: int | tuple[int, int] | None = None
) -> TransferEdit:
    """Another input: 1 channel for grayscale images on a 3-channel network (the first layers'
    weights are summed over the colour channels, which equals feeding the gray image three
    times) or back, and another height and width where every kept layer keeps its weights."""
    if len(design.input_shape) != 3:
        raise TransferError("only an image input (C x H x W) can be adapted")
    c, h, w = design.input_shape
    new_c = c if channels is None else channels
    if new_c != c and {c, new_c} != {1, 3}:
        raise TransferError(
            f"the input can go from 3 channels to 1 (grayscale) or back, not from {c} to {new_c}"
        )
    if size is None:
        new_hw = (h, w)
    else:
        new_hw = (size, size) if isinstance(size, int) else tuple(size)
        if len(new_hw) != 2 or not all(isinstance(v, int) and v >= 1 for v in new_hw):
            raise TransferError(f"the input size must be positive whole numbers, got {size!r}")
    new_shape = (new_c, *new_hw)
    before = _valid(design, "adapting the input")
    consumers = {e.dst for e in design.out_edges(before.input_id)}

    trial_design = _with_input(design, new_shape)
    after = analyze(trial_design)
    if after.problems:
        raise TransferError(f"at input {'x'.join(map(str, new_shape))}: {after.problems[0]}")
    changed = [
        nid
        for nid in design.nodes
        if nid not in consumers or new_c == c
        if _learned(before, nid) != _learned(after, nid)
    ]
    if changed:
        names = ", ".join(design.nodes[n].name for n in changed)
        raise TransferError(
            f"at input {'x'.join(map(str, new_shape))} the weights of {names} would need another "
            f"shape; cut the design before {design.nodes[changed[0]].name} or choose another size"
        )
    design.set_setting("input_shape", new_shape)
    return TransferEdit(input_nodes=consumers, input_channels=(c, new_c) if new_c != c else None)


def _with_input(design: Design, shape) -> Design:
    from designer.core.serialization import clone

    trial = clone(design)
    trial.input_shape = tuple(shape)
    return trial


# -- stages (deeper or shallower variants) ---------------------------------------------------------
def stages(design: Design) -> list[list[str]]:
    """The design's stages in order. Stages are made of repeatable blocks (block specs with
    `repeatable = True`: residual, inverted residual, dense blocks). Each DenseBlock node is one
    stage (its num_layers is the depth); otherwise a stage is a run of same-type blocks chained
    one into the next, where every block after the first keeps its input's shape."""
    res = _valid(design, "finding the stages")
    found: list[list[str]] = []
    prev = None
    for nid in res.order:
        node = design.nodes[nid]
        if not getattr(get_spec(node.type), "repeatable", False):
            continue
        info = res.info[nid]
        feeds = design.in_edges(nid)
        keeps = len(info.in_shapes) == 1 and info.in_shapes[0] == info.shape
        if (
            node.type != "DenseBlock"
            and prev is not None
            and keeps
            and design.nodes[prev].type == node.type
            and len(feeds) == 1
            and feeds[0].src == prev
            and len(design.out_edges(prev)) == 1
        ):
            found[-1].append(nid)
        else:
            found.append([nid])
        prev = nid
    return found


def stage_depth(design: Design, stage: int) -> int:
    ids = _stage(design, stage)
    node = design.nodes[ids[0]]
    return node.params.get("num_layers", 6) if node.type == "DenseBlock" else len(ids)


def _stage(design: Design, stage: int) -> list[str]:
    found = stages(design)
    if not 1 <= stage <= len(found):
        raise TransferError(f"the design has {len(found)} stage(s); there is no stage {stage}")
    return found[stage - 1]


def set_stage_depth(design: Design, stage: int, depth: int) -> TransferEdit:
    """Give stage `stage` (1 = first) `depth` blocks (a DenseBlock: `depth` layers). Blocks are
    added as copies of the stage's last block with stride 1, or removed from its end."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise TransferError(f"a stage needs at least 1 block, got {depth!r}")
    ids = _stage(design, stage)

    def edit(d: Design) -> TransferEdit:
        first = d.nodes[ids[0]]
        if first.type == "DenseBlock":
            d.set_node_attr(first.id, "params", {**first.params, "num_layers": depth})
            return TransferEdit()
        if depth < len(ids):
            return _shorten(d, ids, depth)
        return _lengthen(d, ids, depth)

    return _checked(design, f"setting stage {stage} to {depth} blocks", edit)


def _shift(d: Design, ids: Iterable[str], dy: float) -> None:
    for nid in ids:
        x, y = d.nodes[nid].position
        d.set_node_attr(nid, "position", (x, y + dy))


def _shorten(d: Design, ids: list[str], depth: int) -> TransferEdit:
    last_kept, dropped = ids[depth - 1], ids[depth:]
    outs = d.out_edges(ids[-1])
    below = nx.descendants(d.nx_graph(), ids[-1])
    for nid in dropped:
        for e in d.in_edges(nid) + d.out_edges(nid):
            if e in d.edges:
                d.remove_edge(e)
        d.remove_node(nid)
    for e in outs:
        d.add_edge(Edge(last_kept, e.dst, e.dst_port))
    _shift(d, below, -ROW * len(dropped))
    return TransferEdit()


def _lengthen(d: Design, ids: list[str], depth: int) -> TransferEdit:
    last = d.nodes[ids[-1]]
    outs = d.out_edges(last.id)
    below = nx.descendants(d.nx_graph(), last.id)
    m = re.fullmatch(r"(.*?)(\d+)", last.name)
    stem, start = (m.group(1), int(m.group(2)) + 1) if m else (f"{last.name}_", 2)
    for e in outs:
        d.remove_edge(e)
    src, fresh = last.id, set()
    for i in range(depth - len(ids)):
        params = dict(last.params)
        if "stride" in params:
            params["stride"] = 1
        x, y = last.position
        node = Node(
            d.new_id(),
            last.type,
            d.unique_name(f"{stem}{start + i}"),
            params,
            (x, y + ROW * (i + 1)),
            last.trainable,
            last.lr_mult,
        )
        d.add_node(node)
        d.add_edge(Edge(src, node.id, "in"))
        src = node.id
        fresh.add(node.id)
    for e in outs:
        d.add_edge(Edge(src, e.dst, e.dst_port))
    _shift(d, below, ROW * len(fresh))
    return TransferEdit(fresh=fresh)


# -- training settings that travel with the network ----------------------------------------------
# Datasets whose images are not mirror-symmetric: a horizontally flipped digit is another digit
# (or none), so flips are turned off when a design moves to one of them.
NO_FLIP_SOURCES = ("digits", "mnist", "fashion_mnist")
TRAINING_KEY = "training"


def adapt_training_settings(design: Design, dataset: str | None = None) -> list[str]:
    """The design's own training settings (metadata "training", from its template) follow its
    input and data after a transfer: fixed mean/std get one value per input channel (averaged
    for grayscale, as the first layer's weights are summed), ``dataset`` becomes the data source,
    and flips are turned off for digit datasets. Returns what changed, for the user."""
    settings = dict(design.metadata.get(TRAINING_KEY) or {})
    changes: list[str] = []
    channels = design.input_shape[0] if len(design.input_shape) == 3 else None
    pre = dict(settings.get("preprocessing") or {})
    for key in ("mean", "std"):
        values = pre.get(key)
        if isinstance(values, list) and values and channels and len(values) not in (1, channels):
            pre[key] = [sum(values) / len(values)] if channels == 1 else [values[0]] * channels
            changes.append(f"the fixed {key} now has {len(pre[key])} value(s), one per channel")
    if pre:
        settings["preprocessing"] = pre
    if dataset is not None:
        if settings.get("dataset") != dataset:
            changes.append(f"training data: {dataset}")
        settings["dataset"] = dataset
        key = dataset.lower().replace("-", "_")
        aug = dict(settings.get("augmentation") or {})
        if key in NO_FLIP_SOURCES and aug.get("horizontal_flip"):
            aug["horizontal_flip"] = False
            changes.append(f"horizontal flips off ({dataset} images are not mirror-symmetric)")
            settings["augmentation"] = aug
    if settings or TRAINING_KEY in design.metadata:
        design.set_setting("metadata", {**design.metadata, TRAINING_KEY: settings})
    return changes


def transfer_advice(samples_per_class: int, similar: bool) -> str:
    """Seed 000's table: how much of a pretrained network to retrain, from how much data there
    is (per class) and how close it is to the data the network was trained on."""
    much = samples_per_class >= 1000
    if similar and not much:
        return (
            "Little data, similar to ImageNet: keep the pretrained layers frozen and train "
            "only a new classifier on their features (a linear classifier on the top "
            "layer's features)."
        )
    if similar and much:
        return (
            "Much data, similar to ImageNet: fine-tune a few of the top layers (or all of "
            "them with a small learning rate) after training the new head."
        )
    if not much:
        return (
            "Little data, different from ImageNet: you are in trouble. Train a linear "
            "classifier on features from an earlier layer (cut the network lower), where "
            "features are more generic."
        )
    return (
        "Much data, different from ImageNet: fine-tune many layers, or all of them, after "
        "a first stage that trains only the new head."
    )


@dataclass
class AdaptPlan:
    """ "Adapt to dataset": everything the wizard proposes, applied as one edit.

    channels/size: the network's new input (None: keep; the data is then converted, e.g. gray
    images repeated over 3 channels and resized, by the data pipeline). freeze_until: freeze this
    node and everything before it (None: nothing). head_lr_mult: the new layers' learning-rate
    multiplier (seed 000: new layers may learn faster than the pretrained ones)."""

    dataset: str
    num_classes: int
    hidden: tuple[int, ...] = ()
    dropout: float = 0.5
    channels: int | None = None
    size: tuple[int, int] | None = None
    freeze_until: str | None = None
    head_lr_mult: float = 1.0

    def edit(self, design: Design) -> TransferEdit:
        result = TransferEdit()
        if self.channels is not None or self.size is not None:
            result.merge(adapt_input(design, self.channels, self.size))
        result.merge(replace_head(design, self.num_classes, self.hidden, self.dropout))
        if self.freeze_until is not None:
            freeze_until(design, self.freeze_until)
            _set_trainable(design, sorted(result.fresh & set(design.nodes)), True)
        if self.head_lr_mult != 1.0:
            set_lr_mult(design, sorted(result.fresh & set(design.nodes)), self.head_lr_mult)
        return result

    def describe(self) -> str:
        parts = [f"Adapt to {self.dataset}: {self.num_classes} classes"]
        if self.channels is not None or self.size is not None:
            parts.append("new input")
        if self.freeze_until:
            parts.append(f"frozen up to {self.freeze_until}")
        return ", ".join(parts)
