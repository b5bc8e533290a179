"""Live checks: validation, analytic shape inference, parameter and MAC counts.

Runs on every edit, so it is analytic (no torch) and caches composite blocks by signature.
It never raises: everything wrong becomes a Problem naming the node, the param and what to do.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import networkx as nx

from designer.core.design import Design, Graph, Node
from designer.core.errors import Problem, ShapeError
from designer.core.nesting import block_cycle
from designer.core.params import freeze
from designer.core.registry import LayerSpec, Shape, get_spec, has_spec, shape_str


@dataclass
class NodeInfo:
    in_shapes: list[Shape]
    shape: Shape
    trainable_params: int  # learned parameters (of the layer, frozen or not)
    buffer_params: int  # statistics counted as non-trainable (BatchNorm running mean/var)
    macs: int


@dataclass
class Analysis:
    info: dict[str, NodeInfo] = field(default_factory=dict)  # only nodes whose shape is known
    problems: list[Problem] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # topological, when acyclic
    input_id: str | None = None
    output_id: str | None = None
    live: set[str] = field(default_factory=set)  # nodes that reach the output

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def shape(self, node_id: str) -> Shape | None:
        i = self.info.get(node_id)
        return i.shape if i else None

    def problems_of(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node_id == node_id]


def learns(spec: LayerSpec, info: NodeInfo | None) -> bool:
    """Does the layer have parameters to train (so that freezing it means something)? From the
    analysis when its shape is known, else from whether the layer type ever counts any."""
    if info is not None:
        return info.trainable_params > 0
    return spec.opens or type(spec).count_params is not LayerSpec.count_params


def analyze(design: Design) -> Analysis:
    """Check a whole design: structure, params, shapes, the head against the task."""
    cycle = block_cycle(design)
    if cycle:  # only a hand-edited file has one: the editor refuses such an edit
        res = Analysis()
        res.problems.append(
            Problem(
                f"block {cycle[0]} contains itself ({' -> '.join(cycle)}); "
                "replace one of those Block nodes"
            )
        )
        return res
    return analyze_graph(design, [design.input_shape], design.blocks, design=design)


def analyze_graph(
    graph: Graph, entry_shapes: list[Shape], blocks: dict, design: Design | None = None
) -> Analysis:
    res = Analysis()
    memo = _MEMO.setdefault(graph, {})
    for gone in [nid for nid in memo if nid not in graph.nodes]:
        del memo[gone]
    specs: dict[str, LayerSpec] = {}
    params: dict[str, dict] = {}
    ports: dict[str, tuple[str, ...]] = {}
    bad_params: set[str] = set()

    def problem(node: Node | None, message: str, param: str | None = None) -> None:
        res.problems.append(
            Problem(message, node.id if node else None, node.name if node else None, param)
        )

    for node in graph.nodes.values():
        if not has_spec(node.type):
            problem(node, f"unknown layer type {node.type!r}; delete or replace this node")
            continue
        spec = get_spec(node.type)
        specs[node.id] = spec
        entry = memo.get(node.id)
        key = repr(node.params)  # exact, unlike ==: True == 1, but a stride of True is wrong
        if (
            entry is None or entry.type != node.type or entry.params != key or spec.is_custom_block
        ):  # a block's ports come from its definition
            wrong = spec.param_problems(node.params)
            # Ports come from params (Add's num_inputs): use defaults in place of wrong values.
            p = spec.resolve({k: v for k, v in node.params.items() if k not in dict(wrong)})
            entry = _NodeMemo(node.type, key, wrong, p, spec.ports(p, blocks))
            memo[node.id] = entry
        wrong, p = entry.wrong, entry.p
        for name, msg in wrong:
            problem(node, msg, name)
            bad_params.add(node.id)
        params[node.id] = p
        ports[node.id] = entry.ports
        if spec.is_custom_block and p.get("block") not in blocks:
            problem(node, f"block definition {p.get('block')!r} is missing", "block")
            bad_params.add(node.id)

    # Edges: each input port takes one connection.
    feeds: dict[str, dict[str, str]] = {nid: {} for nid in graph.nodes}
    for e in graph.edges:
        if e.src not in graph.nodes or e.dst not in graph.nodes:
            problem(None, f"a connection refers to a missing node ({e.src} -> {e.dst})")
            continue
        dst = graph.nodes[e.dst]
        if e.dst in ports and e.dst_port not in ports[e.dst]:
            problem(
                dst,
                f"has no input {e.dst_port!r} but something is connected to it; "
                "remove that connection",
            )
        elif e.dst_port in feeds[e.dst]:
            problem(dst, f"input {e.dst_port!r} is connected twice; remove one connection")
        else:
            feeds[e.dst][e.dst_port] = e.src

    structure = _structure(graph)
    g = structure.graph
    if structure.order is None:
        for cycle in nx.simple_cycles(g):
            names = " -> ".join(graph.nodes[n].name for n in cycle + cycle[:1])
            first = graph.nodes[cycle[0]]
            problem(first, f"is part of a cycle ({names}); remove one of these connections")
            break
        return res
    res.order = list(structure.order)

    in_role, out_role = (
        ("input", "output") if design is not None else ("block_input", "block_output")
    )
    inputs = [n for n in res.order if n in specs and specs[n].role == in_role]
    outputs = [n for n in res.order if n in specs and specs[n].role == out_role]
    where = "the design" if design is not None else "the block"
    if not inputs:
        problem(None, f"{where} has no input layer; add an Input node")
    if not outputs:
        problem(None, f"{where} has no output; add a classification or regression head at the end")
    if design is not None and len(inputs) > 1:
        for nid in inputs[1:]:
            problem(graph.nodes[nid], "a design has one input; delete the extra Input node")
    if len(outputs) > 1:
        for nid in outputs[1:]:
            problem(graph.nodes[nid], f"{where} has more than one output; delete this one")
    res.input_id = inputs[0] if inputs else None
    res.output_id = outputs[0] if outputs else None
    if res.output_id is not None:
        res.live = structure.live(res.output_id)
        for nid in res.order:
            if nid not in res.live and specs.get(nid) is not None and specs[nid].role != in_role:
                problem(graph.nodes[nid], "is not connected to the output; connect it or delete it")

    misplaced = {"block_input", "block_output"} if design is not None else {"input", "output"}
    for nid in res.order:
        spec = specs.get(nid)
        if spec is None or nid in bad_params:
            continue
        node, p = graph.nodes[nid], params[nid]
        if spec.role in misplaced:
            inside = "inside a block" if design is not None else "in a design, not inside a block"
            problem(node, f"a {spec.title} belongs only {inside}; delete it")
            continue
        if spec.role == in_role:
            idx = p.get("index", 1) - 1 if spec.role == "block_input" else 0
            if idx >= len(entry_shapes):
                problem(node, "has no matching input of the block")
                continue
            shape = tuple(entry_shapes[idx])
            res.info[nid] = NodeInfo([], shape, 0, 0, 0)
            continue
        in_shapes: list[Shape] = []
        missing = False
        for port in ports[nid]:
            src = feeds[nid].get(port)
            if src is None:
                label = "its input" if len(ports[nid]) == 1 else f"input {port!r}"
                problem(node, f"{label} is not connected; connect a layer to it")
                missing = True
            elif src not in res.info:
                missing = True  # upstream already has a problem; don't pile on
            else:
                in_shapes.append(res.info[src].shape)
        if missing:
            continue
        entry = memo.get(nid)
        try:
            if (
                entry is not None
                and entry.in_shapes == in_shapes
                and entry.info is not None
                and not spec.is_custom_block
            ):  # unchanged layer, unchanged inputs
                info = NodeInfo(
                    list(in_shapes),
                    entry.info.shape,
                    entry.info.trainable_params,
                    entry.info.buffer_params,
                    entry.info.macs,
                )
            else:
                info = node_info(spec, p, in_shapes, blocks)
                if entry is not None:
                    entry.in_shapes, entry.info = list(in_shapes), info
        except ShapeError as exc:
            problem(node, str(exc), exc.param)
            continue
        except Exception as exc:  # noqa: BLE001 - a layer's bug must not hide the others' results
            problem(node, f"cannot be checked ({type(exc).__name__}: {exc}); please report this")
            continue
        res.info[nid] = info
        if design is not None and spec.role == "output":
            _check_head(design, node, info.shape, problem)
    return res


@dataclass
class _NodeMemo:
    """What a node's params alone decide, kept between analyses while they stay the same (an
    edit re-checks the edited node, not all 700)."""

    type: str
    params: str  # repr of the params it was made from
    wrong: list
    p: dict
    ports: tuple[str, ...]
    in_shapes: list | None = None
    info: NodeInfo | None = None


class _Structure:
    """The graph's connectivity (order, cycle, what reaches the output), kept while no node or
    edge is added or removed: a param edit does not change it."""

    def __init__(self, key, graph: nx.DiGraph):
        self.key = key
        self.graph = graph
        self.order = (
            list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else None
        )
        self._live: dict[str, set[str]] = {}

    def live(self, output_id: str) -> set[str]:
        if output_id not in self._live:
            self._live[output_id] = nx.ancestors(self.graph, output_id) | {output_id}
        return set(self._live[output_id])


_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph -> {id: memo}
_STRUCTURE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph -> _Structure


def _structure(graph: Graph) -> _Structure:
    key = (tuple(graph.nodes), tuple((e.src, e.dst) for e in graph.edges))
    known = _STRUCTURE.get(graph)
    if known is None or known.key != key:
        g = nx.DiGraph()
        g.add_nodes_from(graph.nodes)
        g.add_edges_from(
            (e.src, e.dst) for e in graph.edges if e.src in graph.nodes and e.dst in graph.nodes
        )
        known = _Structure(key, g)
        _STRUCTURE[graph] = known
    return known


HEAD_OF_TASK = {"classification": "ClassificationOutput", "regression": "RegressionOutput"}


def _check_head(design: Design, node: Node, shape: Shape, problem) -> None:
    """The head must suit the design's task and, for a classifier, its number of classes."""
    wanted = HEAD_OF_TASK.get(design.task)
    if wanted is not None and node.type != wanted:
        kind = get_spec(wanted).title.lower()
        problem(
            node,
            f"is a {get_spec(node.type).title.lower()} but the design's task is "
            f"{design.task}; replace it with a {kind} or change the task",
        )
        return
    if len(shape) != 1:
        problem(
            node,
            f"the head needs a flat (N features) input but gets {shape_str(shape)}; "
            "add Flatten or GlobalAvgPool and a Linear layer before it",
        )
    elif design.task == "classification" and shape[0] != design.num_classes:
        problem(
            node,
            f"gets {shape[0]} features but the design has {design.num_classes} classes; "
            f"set the last Linear layer's out_features to {design.num_classes} "
            "or change the number of classes",
        )


_CACHE: dict[tuple, NodeInfo] = {}
_CACHE_LIMIT = 20000


def node_info(spec: LayerSpec, p: dict, in_shapes: list[Shape], blocks: dict) -> NodeInfo:
    """Shape, parameter and MAC counts of one node (composites via their inner graph)."""
    if spec.is_custom_block:  # analyze() has made sure that no block contains itself
        block = blocks[p["block"]]
        return _inner_info(block, in_shapes, blocks, f"block {block.name}")
    key = (spec.type, freeze(p), tuple(in_shapes))
    cached = _CACHE.get(key)
    if cached is not None:
        return NodeInfo(
            list(in_shapes),
            cached.shape,
            cached.trainable_params,
            cached.buffer_params,
            cached.macs,
        )
    if spec.composite:
        info = _inner_info(spec.expand(p, in_shapes), in_shapes, blocks, spec.title or spec.type)
    else:
        shape = tuple(spec.infer_shape(p, in_shapes))
        if any(d < 1 for d in shape):
            raise ShapeError(
                f"output would be {shape_str(shape)}: the input "
                f"{shape_str(in_shapes[0])} is too small for this layer"
            )
        trainable, buffers = spec.count_params(p, in_shapes)
        info = NodeInfo(list(in_shapes), shape, trainable, buffers, spec.macs(p, in_shapes, shape))
    if len(_CACHE) > _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = info
    return info


def _inner_info(graph: Graph, in_shapes: list[Shape], blocks: dict, label: str) -> NodeInfo:
    inner = analyze_graph(graph, in_shapes, blocks)
    if inner.problems:
        raise ShapeError(f"inside {label}: {inner.problems[0]}")
    out = inner.info[inner.output_id]
    live = [inner.info[n] for n in inner.live if n in inner.info]
    return NodeInfo(
        list(in_shapes),
        out.shape,
        sum(i.trainable_params for i in live),
        sum(i.buffer_params for i in live),
        sum(i.macs for i in live),
    )


def validate(design: Design) -> list[Problem]:
    """All problems of a design; never raises."""
    try:
        return analyze(design).problems
    except Exception as exc:  # noqa: BLE001 - a bug must not take the editor down; reported
        return [Problem(f"internal error while checking the design: {exc!r}")]
