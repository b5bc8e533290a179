"""PyTorch module -> an editable design with the module's weights, traced with torch.fx.

Each module is traced with standard layers (torch.nn's) as leaves and, as leaves too, its child
modules that are not plain containers: `layer1.0`, `features.3`, an Inception module. Every
such child becomes one node on the canvas named after it: one of our composite blocks when it is
exactly one (designer.interop.import_blocks proves it), otherwise a custom block traced from the
child's own code, shared by the children whose imported graphs are the same. A child that cannot
be traced on its own (its forward takes a list) is traced as part of its parent instead.

Every traced operation maps through designer.interop.import_map. What does not map is collected
into an ImportReport (what, why, where in the original, how many) and nothing is returned: an
import is whole or refused. The weights come along in the design's own names (the compiled
module's state_dict keys), so the exported code, loaded with them, computes what the original
does.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from typing import Any

from designer.core.builder import GraphBuilder
from designer.core.design import BlockDef, Design, Edge, Graph
from designer.core.layout import apply_layout
from designer.interop.import_blocks import is_candidate, match_composite
from designer.interop.import_map import (
    Alias,
    Call,
    Layer,
    Split,
    Unmapped,
    function_mappers,
    module_mappers,
    multi_input_mappers,
    shape_readers,
    target_name,
)

_MAX_INPUTS = 16  # of a merge layer (Concat's num_inputs); longer ones become a chain
_SKIP = object()  # a traced value that is no tensor (x.size(0)): only shapes use it


@dataclass
class _Parts:
    """A split tensor (x.chunk(2, dim=1)): the design node split and each part's channels."""

    src: str
    bounds: list[tuple[int, int]]


@dataclass
class ImportReport:
    """What could not be imported: (what, why) -> the qualified names where it occurs."""

    model: str
    found: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, what: str, why: str, where: str) -> None:
        self.found.setdefault((what, why), []).append(where or "(top level)")

    def __bool__(self) -> bool:
        return bool(self.found)

    def lines(self) -> list[str]:
        kinds = len(self.found)
        first = (
            f"cannot import {self.model}: {kinds} kind{'s' if kinds != 1 else ''} of "
            "operation or module without a layer type; nothing was written"
        )
        out = [first]
        for (what, why), places in self.found.items():
            shown = ", ".join(places[:5]) + (
                f" and {len(places) - 5} more" if len(places) > 5 else ""
            )
            out.append(f"  {what} ({len(places)}x): {why}; at {shown}")
        return out

    def first_line(self) -> str:
        (what, why), places = next(iter(self.found.items()))
        more = f" (and {len(self.found) - 1} more kinds)" if len(self.found) > 1 else ""
        return f"{what} at {places[0]} ({len(places)}x): {why}{more}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


class ImportRefused(Exception):
    """The module cannot be imported whole; `report` says what does not map, and where."""

    def __init__(self, report: ImportReport):
        super().__init__(str(report))
        self.report = report


@dataclass
class ImportResult:
    design: Design
    # the design's weights: its compiled module's state_dict keys -> the original's tensors
    # (shared with it, not copies)
    tensors: dict


def _propagate(gm, examples: list) -> None:
    """Run `gm` on the examples, recording each node's tensor shape (meta["tensor_meta"]) and,
    for tiny tensors (an ONNX Slice's bounds computed from shapes, the constants of an ONNX
    GELU), their values (meta["value"]) for the mappers."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    class Propagate(ShapeProp):
        def run_node(self, n):
            result = super().run_node(n)
            if isinstance(result, torch.Tensor) and result.numel() <= 8:
                n.meta["value"] = result.tolist()
            return result

    Propagate(gm).propagate(*examples)


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _shape_of(value) -> tuple[int, ...] | None:
    from torch.fx import Node
    from torch.fx.passes.shape_prop import TensorMetadata

    if isinstance(value, Node) and isinstance(value.meta.get("tensor_meta"), TensorMetadata):
        return tuple(value.meta["tensor_meta"].shape)
    return None


def _is_standard(m) -> bool:
    module = type(m).__module__
    return module.startswith(("torch.nn", "torch.ao.nn"))


def _is_plain(m) -> bool:
    """A container that only runs its children in order: nn.Sequential, ModuleList, ModuleDict,
    or a subclass that keeps their forward (RegNet's AnyStage) and is none of our blocks."""
    from torch import nn

    plain = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
    if type(m) in plain:
        return True
    base = next((p for p in plain if isinstance(m, p)), None)
    return base is not None and type(m).forward is base.forward and not is_candidate(m)


def _block_children(module, inline: set[int], mapped: set[type]) -> set[int]:
    """ids of the submodules traced as leaves that become blocks: every child reached through
    plain containers that is neither a standard layer nor a mapped module (nor traced inline)."""
    found: set[int] = set()

    def visit(m):
        for child in m.children():
            if _is_plain(child) or id(child) in inline:
                visit(child)
            elif not _is_standard(child) and type(child) not in mapped:
                found.add(id(child))

    visit(module)
    return found


def _tracer(leaves: set[int], mapped: set[type]):
    from torch import fx

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return id(m) in leaves or type(m) in mapped or super().is_leaf_module(m, qualname)

    return Tracer()


class _TraceFailed(Exception):
    pass


class _Importer:
    def __init__(self, root, model_name: str):
        self.root = root
        self.report = ImportReport(model_name)
        self.modules = module_mappers()
        self.functions = function_mappers()
        self.multi = multi_input_mappers()
        self.shape_readers = shape_readers()
        self.mapped = set(self.modules) | set(self.multi) | self.shape_readers
        self.design: Design | None = None
        self.signatures: dict[str, str] = {}  # imported block graph -> its block name
        # graph key ("" = the design, else a block name) -> node id -> where its weights are:
        # ("module", path) | ("composite", path, key map) | ("block", path), paths relative
        self.sources: dict[str, dict[str, tuple]] = {}
        self.origins: dict[str, Any] = {}  # design node id -> the traced node that made it
        self.grouped: dict | None = None  # the weights after group_by_scope, in its names

    # -- tracing -------------------------------------------------------------------------------
    def trace(self, module, examples: list):
        """The traced GraphModule (shapes propagated) and the ids of its block leaves."""
        import torch
        from torch import fx

        inline: set[int] = set()
        while True:
            leaves = _block_children(module, inline, self.mapped)
            tracer = _tracer(leaves, self.mapped)
            try:
                graph = tracer.trace(module)
                gm = fx.GraphModule(tracer.root, graph)
                with torch.no_grad():
                    _propagate(gm, examples)
            except Exception as exc:  # noqa: BLE001 - user code can raise anything while traced
                text = str(exc).strip().splitlines()
                raise _TraceFailed(text[0] if text else type(exc).__name__) from None
            graph.eliminate_dead_code()
            # A block is called with tensors; a child given a list (DenseNet's layers) or
            # constants is traced as part of its parent instead.
            odd = {
                id(gm.get_submodule(n.target))
                for n in graph.nodes
                if n.op == "call_module"
                and id(gm.get_submodule(n.target)) in leaves
                and (n.kwargs or not all(_shape_of(a) is not None for a in n.args))
            }
            if not odd:
                return gm, leaves
            inline |= odd

    # -- one traced module -> one graph ----------------------------------------------------------
    def build(self, gm, leaves: set[int], graph: Graph, path: str, key: str) -> None:
        b = GraphBuilder(graph)
        env: dict[Any, Any] = {}
        sources: dict[str, tuple] = {}
        self.sources[key] = sources
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        calls: dict[str, int] = {}
        for n in gm.graph.nodes:
            if n.op == "call_module":
                calls[n.target] = calls.get(n.target, 0) + 1
        data = self._data_nodes(gm)
        for node in gm.graph.nodes:
            where = _join(path, node.target if node.op == "call_module" else node.name)
            if node.op not in ("placeholder", "output") and node not in data:
                env[node] = _SKIP  # constants, weights and shapes: the mapped ops read them
                continue
            try:
                self._node(node, gm, leaves, b, env, sources, placeholders, calls, path, key)
            except Unmapped as exc:
                self.report.add(self._what(node, gm), str(exc), where)
                env[node] = _stand_in(b, node, env)
        if key == "":
            for node in gm.graph.nodes:
                if isinstance(env.get(node), str):
                    self.origins.setdefault(env[node], node)
        self._fuse_global_pooling(graph)
        apply_layout(graph)

    def _data_nodes(self, gm) -> set:
        """The nodes whose values depend on the input's data (not only on its shape)."""
        data = set()
        for node in gm.graph.nodes:
            if node.op == "placeholder":
                data.add(node)
                continue
            reads_shape = (
                (node.op == "call_method" and node.target in ("size", "dim"))
                or (
                    node.op == "call_function"
                    and getattr(node.target, "__name__", "")
                    in ("getattr", "sym_size", "sym_size.int", "_shape_as_tensor")
                    and node.args[1:2] != ("data",)
                )
                or (
                    node.op == "call_module"
                    and type(gm.get_submodule(node.target)) in self.shape_readers
                )
            )
            if not reads_shape and any(a in data for a in node.all_input_nodes):
                data.add(node)
        return data

    def _what(self, node, gm) -> str:
        if node.op == "call_module":
            cls = type(gm.get_submodule(node.target))
            return f"module {cls.__module__}.{cls.__qualname__}"
        if node.op in ("call_function", "call_method"):
            return target_name(node.target)
        if node.op == "get_attr":
            return "a tensor attribute used in forward"
        return "the network's output"

    def _node(self, node, gm, leaves, b, env, sources, placeholders, calls, path, key) -> None:
        def src(value):
            return env[value]

        inputs_ok = all(env.get(a, True) is not None for a in node.all_input_nodes)
        if not inputs_ok:
            env[node] = None  # reported where it failed; do not report what follows from it
            return
        if node.op == "placeholder":
            if key == "":
                env[node] = b.add("Input", name="input")
            else:
                i = placeholders.index(node) + 1
                name = "input" if len(placeholders) == 1 else f"input{i}"
                env[node] = b.add("BlockInput", name=name, index=i)
            return
        if node.op == "output":
            value = node.args[0]
            if isinstance(value, (tuple, list)) and len(value) == 1:  # torch.export's outputs
                value = value[0]
            shape = _shape_of(value)
            if shape is None:
                raise Unmapped("returns several values or no tensor (a design has one output)")
            if key == "":
                if len(shape) != 2:
                    raise Unmapped(
                        f"the output is N x {' x '.join(map(str, shape[1:]))}; "
                        "a classifier's head takes N x classes"
                    )
                self.design.num_classes = shape[1]
                b.add("ClassificationOutput", src(value), name="output")
            else:
                b.add("BlockOutput", src(value), name="output")
            return
        if node.op == "get_attr":
            env[node] = _SKIP  # a weight: the layer that reads it takes it along
            return
        if not node.users:  # dead code, or a guard torch.export runs first
            if str(getattr(node.target, "__name__", node.target)).split(".")[0].endswith("_"):
                raise Unmapped("works in place and its result is not used")
            env[node] = _SKIP
            return
        if node.op == "call_module":
            self._module(node, gm, leaves, b, env, sources, calls, path)
            return
        target = node.target
        if target is operator.getitem and isinstance(env.get(node.args[0]), _Parts):
            parts = env[node.args[0]]
            start, stop = parts.bounds[node.args[1]]
            env[node] = b.add("ChannelSlice", parts.src, name=node.name, start=start, stop=stop)
            return
        mapper = self.functions.get(target) if _hashable(target) else None
        if mapper is None:
            if node.meta.get("tensor_meta") is None:
                env[node] = _SKIP  # a size or other number; the mapped ops read shapes
                return
            raise Unmapped("no layer type computes it")
        result = mapper(Call(node, _shape_of))
        if isinstance(result, Split):
            if env[result.input] is _SKIP:
                raise Unmapped("splits a parameter or a constant")
            env[node] = _Parts(env[result.input], result.bounds)
            return
        nid = self._place(result, node, b, env, name=_program_name(node, result))
        if nid is not None and result.weights:
            sources[nid] = _weights_source(result)

    def _place(self, result, node, b, env, name: str, first_input=None) -> str | None:
        if isinstance(result, Alias):
            value = result.input if result.input is not None else first_input
            env[node] = env[value]
            return None
        srcs = [env[v] for v in result.inputs]
        if any(s is _SKIP or isinstance(s, _Parts) for s in srcs):
            raise Unmapped(
                "one of its inputs is a number, a parameter or a constant, not a layer's output"
            )
        while result.type == "Concat" and len(srcs) > _MAX_INPUTS:  # DenseNet's, flat (ONNX)
            srcs = [b.add("Concat", srcs[:_MAX_INPUTS], name=name), *srcs[_MAX_INPUTS:]]
        nid = b.add(result.type, srcs, name=name, **result.params)
        env[node] = nid
        return nid

    def _module(self, node, gm, leaves, b, env, sources, calls, path) -> None:
        m = gm.get_submodule(node.target)
        name = node.target.replace(".", "_").replace("/", "_")
        args = list(node.args)
        shape = _shape_of(args[0]) if args else None
        if shape is None or node.kwargs or any(_shape_of(a) is None for a in args):
            raise Unmapped("is called with something other than tensors")
        has_weights = any(True for _ in m.parameters()) or any(True for _ in m.buffers())
        if calls[node.target] > 1 and has_weights:
            raise Unmapped(
                "is called more than once, sharing its weights (each layer of a design has its own)"
            )
        if id(m) in leaves:
            self._block(node, m, b, env, sources, path, name)
            return
        multi = self.multi.get(type(m))
        if multi is not None:
            result = multi(m, args, _shape_of, node)
            nid = self._place(result, node, b, env, name=name)
            if nid is not None:
                sources[nid] = _weights_source(result) or ("module", node.target)
            return
        mapper = self.modules.get(type(m))
        if mapper is None:
            raise Unmapped("no layer type computes it")
        if len(args) != 1:
            raise Unmapped("takes more than one input")
        result = mapper(m, shape)
        if isinstance(result, Layer):
            result.inputs = [args[0]]
        nid = self._place(result, node, b, env, name=name, first_input=args[0])
        if nid is not None:
            sources[nid] = ("module", node.target)

    def _block(self, node, m, b, env, sources, path, name) -> None:
        args = list(node.args)
        shapes = [_shape_of(a) for a in args]
        srcs = [env[a] for a in args]
        composite = match_composite(m, shapes[0]) if len(args) == 1 else None
        if composite is not None:
            nid = b.add(composite.type, srcs, name=name, **composite.params)
            sources[nid] = ("composite", node.target, composite.key_map)
        else:
            block = self.custom_block(m, _join(path, node.target), shapes)
            if block is None:  # reported; go on, to report all that does not map
                env[node] = _stand_in(b, node, env)
                return
            nid = b.add("Block", srcs, name=name, block=block)
            sources[nid] = ("block", node.target)
        env[node] = nid

    def custom_block(self, m, qualname: str, shapes: list) -> str | None:
        """The name of the custom block `m` imports as (an existing one when equal)."""
        import torch

        examples = [torch.randn(s) for s in shapes]
        try:
            gm, leaves = self.trace(m, examples)
        except _TraceFailed as exc:
            cls = type(m)
            self.report.add(
                f"module {cls.__module__}.{cls.__qualname__}", f"cannot be traced ({exc})", qualname
            )
            return None
        before = len(self.report.found), sum(map(len, self.report.found.values()))
        draft = BlockDef("draft", f"{type(m).__name__}, imported from {qualname}.")
        key = f"\0{qualname}"
        self.build(gm, leaves, draft, qualname, key)
        sources = self.sources.pop(key)
        if (len(self.report.found), sum(map(len, self.report.found.values()))) != before:
            return None
        sig = _signature(type(m).__name__, draft, sources)
        if sig in self.signatures:
            return self.signatures[sig]
        name = type(m).__name__.lstrip("_") or "Block"
        base, i = name, 2
        while name in self.design.blocks:
            name, i = f"{base}{i}", i + 1
        draft.name = name
        self.design.set_block(name, draft)
        self.sources[name] = sources
        self.signatures[sig] = name
        return name

    # -- pooling then flatten is global average pooling ---------------------------------------
    @staticmethod
    def _fuse_global_pooling(graph: Graph) -> None:
        for flat in list(graph.nodes.values()):
            if flat.type != "Flatten":
                continue
            ins = graph.in_edges(flat.id)
            pool = graph.nodes[ins[0].src] if len(ins) == 1 else None
            if (
                pool is None
                or pool.type != "AdaptiveAvgPool2d"
                or pool.params.get("output_size") not in (1, [1, 1])
                or len(graph.out_edges(pool.id)) != 1
            ):
                continue
            outs = graph.out_edges(flat.id)
            for e in [*ins, *outs]:
                graph.remove_edge(e)
            graph.remove_node(flat.id)
            pool.type, pool.params = "GlobalAvgPool", {}
            for e in outs:
                graph.add_edge(Edge(pool.id, e.dst, e.dst_port))

    def result(self) -> ImportResult:
        """The design and its weights, or ImportRefused. A mapped layer that does not accept
        the shape it gets here (a Linear on an image) is refused like an unmapped one."""
        from designer.core.analysis import analyze

        if not self.report:
            for p in analyze(self.design).problems:
                if p.severity != "error":
                    continue
                self.report.add(
                    f"layer {p.node_name}", f"does not fit here: {p.message}", p.node_name or ""
                )
        if self.report:
            raise ImportRefused(self.report)
        self.design.metadata["imported_from"] = self.report.model
        return ImportResult(self.design, self.tensors())

    # -- blocks from the module paths of a flat import -------------------------------------------
    def group(self, where: dict, containers=frozenset()) -> None:
        """Group the flat design into blocks by where each operation ran (node id -> Where, see
        import_scopes); the weights follow. Left flat when the grouped design would not
        validate."""
        from designer.codegen import generate
        from designer.core.analysis import analyze
        from designer.core.serialization import clone
        from designer.interop.import_scopes import group_by_scope

        if self.report or not analyze(self.design).ok:
            return  # refused: result() reports what does not map or fit
        flat, flat_code, flat_tensors = clone(self.design), generate(self.design), self.tensors()
        node_of = {attr: nid for nid, attr in flat_code.module_names.items()}
        node_tensors: dict[str, dict] = {}
        for k, v in flat_tensors.items():
            attr, leaf = k.split(".", 1)  # a flat design's attributes are plain names
            node_tensors.setdefault(node_of[attr], {})[leaf] = v
        instances = group_by_scope(self.design, where, frozenset(containers))
        if not instances or analyze(self.design).problems:
            self.design = flat
            return
        code = generate(self.design)
        out: dict = {}

        def collect(graph, attrs: dict, prefix: str, origin) -> None:
            for nid, node in graph.nodes.items():
                attr = attrs.get(nid)
                if attr is None:
                    continue
                orig = origin(nid)
                if orig in instances:
                    name = node.params["block"]
                    inner, mapping = self.design.blocks[name], instances[orig]
                    collect(
                        inner,
                        code.block_module_names.get(name, {}),
                        f"{prefix}{attr}.",
                        lambda n, inner=inner, mapping=mapping: mapping[inner.nodes[n].name],
                    )
                    continue
                for leaf, t in node_tensors.get(orig, {}).items():
                    out[f"{prefix}{attr}.{leaf}"] = t

        collect(self.design, code.module_names, "", lambda n: n)
        self.grouped = out

    # -- weights ----------------------------------------------------------------------------------
    def tensors(self) -> dict:
        from designer.codegen import generate

        if self.grouped is not None:
            return self.grouped
        code = generate(self.design)
        out: dict = {}

        def walk(key: str, attrs: dict[str, str], prefix: str, source_path: str) -> None:
            for nid, where in self.sources[key].items():
                attr = attrs.get(nid)
                if attr is None:
                    continue
                if where[0] == "tensors":
                    for k, v in where[1].items():
                        out[f"{prefix}{attr}.{k}"] = (
                            v
                            if not isinstance(v, str)
                            else _fetch(self.root, _join(source_path, v))
                        )
                    continue
                sub = self.root.get_submodule(_join(source_path, where[1]))
                if where[0] == "module":
                    for k, v in sub.state_dict().items():
                        out[f"{prefix}{attr}.{k}"] = v
                elif where[0] == "composite":
                    state = sub.state_dict()
                    for ours, theirs in where[2].items():
                        out[f"{prefix}{attr}.{ours}"] = state[theirs]
                else:
                    graph = self.design if key == "" else self.design.blocks[key]
                    name = graph.nodes[nid].params["block"]
                    walk(
                        name,
                        code.block_module_names.get(name, {}),
                        f"{prefix}{attr}.",
                        _join(source_path, where[1]),
                    )

        walk("", code.module_names, "", "")
        return {k: v.detach() for k, v in out.items()}  # shared with the module, not copied


def _weights_source(result) -> tuple | None:
    """Where a mapped layer's tensors come from when the mapper names them (a tensor attribute's
    path, or a tensor made from one): ("tensors", {state_dict leaf: path or tensor})."""
    weights = getattr(result, "weights", None)
    if not weights:
        return None
    return ("tensors", {k: getattr(v, "target", v) for k, v in weights.items()})


def _stand_in(b: GraphBuilder, node, env) -> str | None:
    """A node that takes the place of one that does not map, so what follows is still mapped
    and every unmapped operation is reported, not only the first; the import is refused anyway."""
    srcs = [env[a] for a in node.all_input_nodes if isinstance(env.get(a), str)]
    return b.add("Block", srcs[:16], name="unmapped", block="") if srcs else None


def _program_name(node, result) -> str:
    """A node's name: fx's (add, cat_1), or in a torch.export program, whose graph keeps the
    module each op ran in, that module's (layer1_0_conv1; layer1_0_add for its functional ops)."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return node.name
    path = str(list(stack.values())[-1][0]).replace(".", "_")
    if not path:
        return node.name
    return path if isinstance(result, Layer) and result.weights else f"{path}_{node.name}"


def _fetch(root, target: str):
    owner, _, leaf = target.rpartition(".")
    return getattr(root.get_submodule(owner), leaf)


def _hashable(target) -> bool:
    try:
        hash(target)
    except TypeError:
        return False
    return True


def _signature(cls_name: str, graph: Graph, sources: dict) -> str:
    """Two children import as the same block when class, layers, params, wiring and the
    relative names their weights come from are all equal."""
    names = {nid: n.name for nid, n in graph.nodes.items()}
    nodes = [
        (n.type, n.name, n.params, [list(map(str, s[:2])) for s in [sources.get(nid, ())]])
        for nid, n in graph.nodes.items()
    ]
    edges = sorted((names[e.src], names[e.dst], e.dst_port) for e in graph.edges)
    return json.dumps([cls_name, nodes, edges], sort_keys=True, default=str)


def _from_onnx(module) -> bool:
    """An fx GraphModule converted by onnx2torch from an ONNX file."""
    return any(type(m).__module__.startswith("onnx2torch") for m in module.children())


def _group_onnx(imp: _Importer) -> None:
    from designer.interop.import_scopes import onnx_where

    containers: set[str] = set()
    where = {
        nid: onnx_where(n.target, containers)
        for nid, n in imp.origins.items()
        if n.op == "call_module"
    }
    imp.group(where, containers)


def import_module(module, input_shape: tuple[int, ...], name: str | None = None) -> ImportResult:
    """Import `module` (traced in eval mode at one sample of `input_shape`, C x H x W) as a
    design with its weights; raises ImportRefused with the report if anything does not map."""
    import torch

    model_name = name or type(module).__name__
    was_training = module.training
    module.eval()
    try:
        imp = _Importer(module, model_name)
        imp.design = Design(
            model_name, description=f"Imported from {model_name}.", input_shape=tuple(input_shape)
        )
        example = torch.randn(1, *input_shape, generator=torch.Generator().manual_seed(0))
        try:
            gm, leaves = imp.trace(module, [example])
        except _TraceFailed as exc:
            imp.report.add(
                f"module {type(module).__module__}.{type(module).__qualname__}",
                f"cannot be traced with torch.fx ({exc})",
                "",
            )
            raise ImportRefused(imp.report) from None
        imp.build(gm, leaves, imp.design, "", "")
        if _from_onnx(module):
            _group_onnx(imp)
        return imp.result()
    finally:
        module.train(was_training)


def import_program(program, input_shape: tuple[int, ...], name: str = "program") -> ImportResult:
    """Import a torch.export program (its ATen graph, flat: a program keeps no child modules to
    make blocks of) with its weights; raises ImportRefused with the report."""
    import torch

    from designer.interop.import_map import aten_mappers
    from designer.interop.import_scopes import export_where

    gm = program.module()
    imp = _Importer(gm, name)
    imp.functions = {**imp.functions, **aten_mappers()}
    imp.design = Design(name, description=f"Imported from {name}.", input_shape=tuple(input_shape))
    example = torch.randn(1, *input_shape, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            _propagate(gm, [example])
    except Exception as exc:  # noqa: BLE001 - the program's own checks raise anything
        text = str(exc).strip().splitlines()
        imp.report.add(
            "the program",
            f"does not run on a 1 x {' x '.join(map(str, input_shape))}"
            f" input ({text[0] if text else type(exc).__name__})",
            "",
        )
        raise ImportRefused(imp.report) from None
    imp.build(gm, set(), imp.design, "", "")
    imp.group({nid: w for nid, n in imp.origins.items() if (w := export_where(n)) is not None})
    return imp.result()


def import_model(model, input_shape: tuple[int, ...], name: str | None = None) -> ImportResult:
    """An nn.Module (or an fx GraphModule from onnx2torch) or a torch.export program."""
    from torch.export import ExportedProgram

    if isinstance(model, ExportedProgram):
        return import_program(model, input_shape, name or "program")
    return import_module(model, input_shape, name)
