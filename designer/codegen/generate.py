"""Design -> one standalone PyTorch source file that reads like torchvision's model files:
a class per block type, submodules named after the nodes, a flat forward in topological order
with `# N x C x H x W` comments, a `build_model()` factory and a `__main__` that runs it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import networkx as nx

from designer import __version__
from designer.codegen.block_classes import PLACEHOLDER, Use, merge_uses
from designer.codegen.names import attr_name, class_name, doc_text
from designer.core.analysis import Analysis, analyze, analyze_graph, input_ports
from designer.core.design import Design, Graph
from designer.core.errors import Problem
from designer.core.params import freeze
from designer.core.registry import Shape, get_spec


class CodegenError(ValueError):
    """The design has problems; code is generated only for a valid design."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"the design has {len(problems)} problem(s):\n{lines}{more}")


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    input_shape: Shape
    module_names: dict[str, str] = field(default_factory=dict)  # top-level node id -> attribute


def _docstring(text: str, indent: str, width: int = 96) -> list[str]:
    lines = textwrap.wrap(text, width - len(indent) - 6)
    if len(lines) <= 1:
        return [f'{indent}"""{text}"""']
    return [f'{indent}"""{lines[0]}', *(indent + ln for ln in lines[1:]), f'{indent}"""']


def _dims(shape: Shape) -> str:
    return " x ".join(["N", *map(str, shape)])


@dataclass
class _BlockUse:
    """One distinct use of a block (type, params, input shapes) found in the design."""

    key: tuple
    group: str                 # block type, or "Block:<name>" for a custom block
    title: str
    doc: str
    graph: Graph
    analysis: Analysis
    in_shapes: list[Shape]
    ints: dict[str, int]
    floats: dict[str, float]
    children: list[tuple] = field(default_factory=list)


class _FileWriter:
    def __init__(self, design: Design):
        self.design = design
        self.class_names: set[str] = set()
        self.uses: dict[tuple, _BlockUse] = {}
        self.calls: dict[tuple, str] = {}  # use key -> constructor call
        self.chunks: list[str] = []        # class sources, dependencies first
        self.support: list[str] = []

    # -- classes for composite nodes ------------------------------------------------------------
    def _key(self, node_type: str, p: dict, in_shapes: list[Shape]) -> tuple:
        if get_spec(node_type).role == "custom_block":
            return ("Block", p["block"], tuple(in_shapes))
        return (node_type, freeze(p), tuple(in_shapes))

    def discover(self, graph: Graph, res: Analysis) -> list[tuple]:
        """Record every block used in `graph` (recursively); return the keys used directly."""
        keys = []
        for nid in res.order:
            if nid not in res.live or nid not in res.info:
                continue
            node = graph.nodes[nid]
            spec = get_spec(node.type)
            if not (spec.composite or spec.role == "custom_block"):
                continue
            p = spec.resolve(node.params)
            in_shapes = res.info[nid].in_shapes
            key = self._key(node.type, p, in_shapes)
            keys.append(key)
            if key in self.uses:
                continue
            if spec.role == "custom_block":
                block = self.design.blocks[p["block"]]
                group, title, inner = f"Block:{block.name}", block.name, block
                doc = block.description or f"Custom block {block.name}."
                params = {}
            else:
                group, title, inner, doc = spec.type, spec.type, spec.expand(p, in_shapes), spec.help
                params = {prm.name: p[prm.name] for prm in spec.params}
            inner_res = analyze_graph(inner, in_shapes, self.design.blocks)
            ints = {}
            for i, shape in enumerate(in_shapes):
                word = "channels" if len(shape) == 3 else "features"
                ints[f"in_{word}" if len(in_shapes) == 1 else f"in{i + 1}_{word}"] = shape[0]
            ints.update({k: v for k, v in params.items() if isinstance(v, int) and not isinstance(v, bool)})
            floats = {k: float(v) for k, v in params.items() if isinstance(v, float)}
            use = _BlockUse(key, group, title, doc, inner, inner_res, list(in_shapes), ints, floats)
            self.uses[key] = use
            use.children = self.discover(inner, inner_res)
        return keys

    def write_block_classes(self) -> None:
        """All block classes, innermost first, merging uses of one type into one class."""
        level: dict[tuple, int] = {}

        def depth(key):
            if key not in level:
                level[key] = 1 + max((depth(c) for c in self.uses[key].children), default=-1)
            return level[key]

        groups: dict[tuple[int, str], list[_BlockUse]] = {}
        for key, use in self.uses.items():
            groups.setdefault((depth(key), use.group), []).append(use)
        for (_, _), uses in sorted(groups.items(), key=lambda kv: kv[0][0]):
            merged = merge_uses(
                [Use(u.key, self.graph_class(u.graph, u.analysis, PLACEHOLDER, u.doc,
                                             n_inputs=len(u.in_shapes))[0], u.ints, u.floats)
                 for u in uses],
                uses[0].title,
                lambda title: class_name(title, self.class_names, fallback="Block"),
            )
            for cls in merged:
                self.chunks.append(cls.source)
                self.calls.update(cls.calls)

    # -- one class from one graph ---------------------------------------------------------------
    def graph_class(self, graph: Graph, res: Analysis, name: str, doc: str,
                    n_inputs: int) -> tuple[str, dict[str, str]]:
        index = {nid: i for i, nid in enumerate(graph.nodes)}
        g = nx.DiGraph()
        g.add_nodes_from(n for n in graph.nodes if n in res.live)
        g.add_edges_from((e.src, e.dst) for e in graph.edges if e.src in res.live and e.dst in res.live)
        # Insertion order breaks ties, so each branch is written out before the next starts.
        order = list(nx.lexicographical_topological_sort(g, key=index.__getitem__))

        feeds = {nid: {} for nid in order}
        remaining = {nid: 0 for nid in order}
        for e in graph.edges:
            if e.dst in feeds and e.src in feeds:
                feeds[e.dst][e.dst_port] = e.src
                remaining[e.src] += 1

        taken: set[str] = set()
        attrs: dict[str, str] = {}
        init: list[str] = []
        params = ["x"] if n_inputs == 1 else [f"x{i + 1}" for i in range(n_inputs)]
        fwd: list[str] = []
        var: dict[str, str] = {}
        holder: dict[str, str] = {}   # variable -> node whose value it holds
        last_comment = None

        def free(v: str) -> bool:
            return v not in holder or remaining[holder[v]] == 0

        for nid in order:
            node = graph.nodes[nid]
            spec = get_spec(node.type)
            p = spec.resolve(node.params)
            info = res.info[nid]
            if spec.role in ("input", "block_input"):
                v = params[0] if n_inputs == 1 else f"x{p.get('index', 1)}"
                var[nid], holder[v] = v, nid
                if last_comment is None:
                    fwd.append(f"# {_dims(info.shape)}")
                    last_comment = info.shape
                continue
            ports = input_ports(node, spec, p, self.design.blocks)
            srcs = [feeds[nid][port] for port in ports]
            args = [var[s] for s in srcs]
            for s in srcs:
                remaining[s] -= 1
            if spec.composite or spec.role == "custom_block":
                module_src = self.calls[self._key(node.type, p, info.in_shapes)]
            else:
                module_src = spec.emit_module(p, info.in_shapes)
                if spec.support_source and spec.support_source not in self.support:
                    self.support.append(spec.support_source)
            attr = attr_name(node.name, taken, fallback=node.type)
            if module_src is not None:
                attrs[nid] = attr
                init.append(f"self.{attr} = {module_src}")
            expr = spec.emit_forward(p, f"self.{attr}", args, info.in_shapes)
            if spec.role in ("output", "block_output"):
                fwd.append(f"return {expr}")
                break
            reusable = [a for a in args if free(a)]
            if "x" in reusable:
                target = "x"
            elif reusable:
                target = reusable[0]
            elif free("out"):
                target = "out"
            else:
                target = attr
            fwd.append(f"{target} = {expr}")
            var[nid], holder[target] = target, nid
            if info.shape != last_comment:
                fwd.append(f"# {_dims(info.shape)}")
                last_comment = info.shape

        sig = ", ".join(f"{a}: Tensor" for a in params)
        body = [f"class {name}(nn.Module):", *_docstring(doc_text(doc) or name, "    "), "",
                "    def __init__(self) -> None:", "        super().__init__()"]
        body += [f"        {line}" for line in init]
        body += ["", f"    def forward(self, {sig}) -> Tensor:"]
        body += [f"        {line}" for line in fwd]
        return "\n".join(body) + "\n", attrs


def generate(design: Design, analysis: Analysis | None = None) -> GeneratedCode:
    """The standalone source of a valid design; raises CodegenError listing its problems."""
    res = analysis or analyze(design)
    if res.problems:
        raise CodegenError(res.problems)
    w = _FileWriter(design)
    cls = class_name(design.name, w.class_names)
    doc = doc_text(design.name) or cls
    if design.description:
        doc += ": " + doc_text(design.description)
    w.discover(design, res)
    w.write_block_classes()
    main_src, attrs = w.graph_class(design, res, cls, doc, n_inputs=1)
    shape = ", ".join(map(str, design.input_shape))
    header = (
        f'"""{doc_text(design.name) or cls}, generated by Network Designer {__version__}.\n\n'
        "Standalone: needs only PyTorch. `build_model()` returns the network; running this file\n"
        'builds it and prints the output shape for a random input."""\n\n'
        "import torch\nfrom torch import Tensor, nn\n"
    )
    parts = [header, *w.support, *w.chunks, main_src]
    footer = (
        f"def build_model() -> {cls}:\n    return {cls}()\n\n\n"
        'if __name__ == "__main__":\n'
        "    model = build_model().eval()\n"
        f"    x = torch.randn(2, {shape})\n"
        "    print(tuple(model(x).shape))\n"
    )
    source = "\n\n".join(p.strip("\n") + "\n" for p in parts + [footer])
    return GeneratedCode(source, cls, tuple(design.input_shape), attrs)
