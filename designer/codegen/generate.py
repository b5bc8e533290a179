"""Design -> one standalone PyTorch source file that reads like torchvision's model files: the
built-in blocks' own classes (designer/layers/block_modules.py), a class per custom block,
submodules named after the nodes, a flat forward in topological order with `# N x C x H x W`
comments, a `build_model()` factory and a `__main__` that runs it."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import networkx as nx

from designer import __version__
from designer.codegen.names import attr_name, class_name, doc_text, local_name
from designer.codegen.wrap import WIDTH, wrap_line
from designer.core.analysis import Analysis, analyze, analyze_graph
from designer.core.design import Design, Graph
from designer.core.errors import Problem
from designer.core.registry import Shape, get_spec


class CodegenError(ValueError):
    """The design has problems; code is generated only for a valid design."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)  # every one: each names its node
        super().__init__(f"the design has {len(problems)} problem(s):\n{lines}")


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    input_shape: Shape
    module_names: dict[str, str] = field(default_factory=dict)  # top-level node id -> attribute
    # custom block name -> its class's node id -> attribute (the same for every use of the block)
    block_module_names: dict[str, dict[str, str]] = field(default_factory=dict)


def _docstring(text: str, indent: str) -> list[str]:
    lines = textwrap.wrap(text, WIDTH - len(indent) - 6)
    if len(lines) <= 1:
        return [f'{indent}"""{text}"""']
    return [f'{indent}"""{lines[0]}', *(indent + ln for ln in lines[1:]), f'{indent}"""']


def _dims(shape: Shape) -> str:
    return " x ".join(["N", *map(str, shape)])


def _word_prefix(names: list[str]) -> str:
    """The leading words (split at '_') that all names share: branch2_conv1, branch2_bn1 ->
    branch2."""
    words = [n.split("_") for n in names]
    common = []
    for group in zip(*words):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    return "_".join(common).strip("_")


@dataclass
class _CustomUse:
    """One distinct use of a custom block (its definition at some input shapes)."""

    block: str
    graph: Graph
    analysis: Analysis
    in_shapes: list[Shape]
    doc: str
    children: list[tuple] = field(default_factory=list)


class _FileWriter:
    def __init__(self, design: Design):
        self.design = design
        self.class_names: set[str] = set()
        self.support: list[str] = []  # block and helper classes, dependencies first
        self.custom: dict[tuple, _CustomUse] = {}
        self.calls: dict[tuple, str] = {}  # custom block use -> constructor call
        self.chunks: list[str] = []  # custom block classes, innermost first
        self.block_attrs: dict[str, dict[str, str]] = {}  # custom block -> node id -> attribute

    # -- what the file needs ----------------------------------------------------------------------
    def discover(self, graph: Graph, res: Analysis) -> list[tuple]:
        """Record the support classes and custom blocks `graph` uses (recursively); return the
        keys of the custom blocks it uses directly."""
        keys = []
        for nid in res.order:
            if nid not in res.live or nid not in res.info:
                continue
            spec = get_spec(graph.nodes[nid].type)
            if not spec.is_custom_block:
                for chunk in spec.support_classes():
                    if chunk not in self.support:
                        self.support.append(chunk)
                continue
            name = spec.resolve(graph.nodes[nid].params)["block"]
            in_shapes = res.info[nid].in_shapes
            key = (name, tuple(in_shapes))
            keys.append(key)
            if key in self.custom:
                continue
            block = self.design.blocks[name]
            inner = analyze_graph(block, in_shapes, self.design.blocks)
            use = _CustomUse(
                name,
                block,
                inner,
                list(in_shapes),
                block.description or f"Custom block {block.name}.",
            )
            self.custom[key] = use
            use.children = self.discover(block, inner)
        return keys

    def reserve_support_names(self) -> None:
        for chunk in self.support:
            self.class_names.update(re.findall(r"^class (\w+)", chunk, flags=re.MULTILINE))

    def write_custom_classes(self) -> None:
        """A class per custom block, innermost first. Uses of one block at different input
        shapes share a class when their code is the same; otherwise each has its own."""
        level: dict[tuple, int] = {}

        def depth(key):
            if key not in level:
                level[key] = 1 + max((depth(c) for c in self.custom[key].children), default=-1)
            return level[key]

        by_block: dict[tuple[int, str], list[tuple]] = {}
        for key in sorted(self.custom, key=depth):
            by_block.setdefault((depth(key), self.custom[key].block), []).append(key)
        for keys in by_block.values():
            first = self.custom[keys[0]]
            plain: dict[str, list[tuple]] = {}  # source without shape comments -> its uses
            for key in keys:
                use = self.custom[key]
                source, attrs = self.graph_class(
                    use.graph, use.analysis, "{name}", use.doc, len(use.in_shapes), comments=False
                )
                plain.setdefault(source, []).append(key)
                self.block_attrs.setdefault(use.block, attrs)
            for source, same in plain.items():
                name = class_name(first.block, self.class_names, fallback="Block")
                if len(same) == 1:  # one input shape: the shape comments hold
                    use = self.custom[same[0]]
                    source, _ = self.graph_class(
                        use.graph, use.analysis, "{name}", use.doc, len(use.in_shapes)
                    )
                self.chunks.append(source.replace("{name}", name))
                self.calls.update({key: f"{name}()" for key in same})

    # -- one class from one graph ---------------------------------------------------------------
    def graph_class(
        self, graph: Graph, res: Analysis, name: str, doc: str, n_inputs: int, comments: bool = True
    ) -> tuple[str, dict[str, str]]:
        index = {nid: i for i, nid in enumerate(graph.nodes)}
        g = nx.DiGraph()
        g.add_nodes_from(n for n in graph.nodes if n in res.live)
        g.add_edges_from(
            (e.src, e.dst) for e in graph.edges if e.src in res.live and e.dst in res.live
        )
        # Insertion order breaks ties, so each branch is written out before the next starts.
        order = list(nx.lexicographical_topological_sort(g, key=index.__getitem__))

        feeds: dict[str, dict[str, str]] = {nid: {} for nid in order}
        consumers: dict[str, list[str]] = {nid: [] for nid in order}
        for e in graph.edges:
            if e.dst in feeds and e.src in feeds:
                feeds[e.dst][e.dst_port] = e.src
                consumers[e.src].append(e.dst)
        remaining = {nid: len(c) for nid, c in consumers.items()}
        specs = {nid: get_spec(graph.nodes[nid].type) for nid in order}
        resolved = {nid: specs[nid].resolve(graph.nodes[nid].params) for nid in order}
        ports = {nid: specs[nid].ports(resolved[nid], self.design.blocks) for nid in order}

        taken: set[str] = set()
        labels = {
            nid: attr_name(graph.nodes[nid].name, taken, fallback=graph.nodes[nid].type)
            for nid in order
            if not specs[nid].is_input
        }

        def chain(nid: str) -> list[str]:
            """nid and the single-input nodes that follow it, each its predecessor's only reader:
            the values one variable holds in turn."""
            out = [nid]
            while len(consumers[out[-1]]) == 1:
                nxt = consumers[out[-1]][0]
                if len(ports[nxt]) != 1 or specs[nxt].is_output:
                    break
                out.append(nxt)
            return out

        params = ["x"] if n_inputs == 1 else [f"x{i + 1}" for i in range(n_inputs)]
        attrs: dict[str, str] = {}
        init: list[str] = []
        fwd: list[str] = []
        var: dict[str, str] = {}
        holder: dict[str, str] = {}  # variable -> node whose value it holds
        last_comment = None

        def free(v: str) -> bool:
            return v not in holder or remaining[holder[v]] == 0

        def new_variable(nid: str) -> str:
            nodes = chain(nid)
            base = _word_prefix([labels[n] for n in nodes])
            if not base:
                base = "out" if free("out") else labels[nodes[-1]]
            in_use = {v for v in holder if not free(v)} | set(params)
            return local_name(base, in_use)

        for nid in order:
            spec, p, info = specs[nid], resolved[nid], res.info[nid]
            if spec.is_input:
                v = params[0] if n_inputs == 1 else f"x{p.get('index', 1)}"
                var[nid], holder[v] = v, nid
                if comments and last_comment is None:
                    fwd.append(f"# {_dims(info.shape)}")
                    last_comment = info.shape
                continue
            srcs = [feeds[nid][port] for port in ports[nid]]
            args = [var[s] for s in srcs]
            for s in srcs:
                remaining[s] -= 1
            if spec.is_custom_block:
                module_src = self.calls[(p["block"], tuple(info.in_shapes))]
            else:
                module_src = None
                if (
                    len(srcs) == 1 and len(consumers[srcs[0]]) == 1 and specs[srcs[0]].fresh_output
                ):  # nothing else reads the input
                    module_src = spec.emit_inplace_module(p, info.in_shapes)
                module_src = module_src or spec.emit_module(p, info.in_shapes)
            attr = labels[nid]
            if module_src is not None:
                attrs[nid] = attr
                init.append(f"self.{attr} = {module_src}")
            if spec.is_custom_block:
                expr = f"self.{attr}({', '.join(args)})"
            else:
                expr = spec.emit_forward(p, f"self.{attr}", args, info.in_shapes)
            if spec.is_output:
                fwd.append(f"return {expr}")
                break
            if len(srcs) == 1 and len(consumers[srcs[0]]) == 1:
                target = args[0]  # the input's only reader: the variable moves on
            elif len(srcs) > 1 and free("x"):
                target = "x"  # branches merged: back to the main line
            else:
                target = new_variable(nid)
            fwd.append(f"{target} = {expr}")
            var[nid], holder[target] = target, nid
            if comments and info.shape != last_comment:
                fwd.append(f"# {_dims(info.shape)}")
                last_comment = info.shape

        sig = ", ".join(f"{a}: Tensor" for a in params)
        body = [
            f"class {name}(nn.Module):",
            *_docstring(doc_text(doc) or name, "    "),
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
        ]
        body += [ln for line in init for ln in wrap_line(f"        {line}")]
        body += ["", f"    def forward(self, {sig}) -> Tensor:"]
        body += [ln for line in fwd for ln in wrap_line(f"        {line}")]
        return "\n".join(body) + "\n", attrs


def generate(design: Design, analysis: Analysis | None = None) -> GeneratedCode:
    """The standalone source of a valid design; raises CodegenError listing its problems."""
    res = analysis or analyze(design)
    if res.problems:
        raise CodegenError(res.problems)
    w = _FileWriter(design)
    w.discover(design, res)
    w.reserve_support_names()
    cls = class_name(design.name, w.class_names)
    w.write_custom_classes()
    title = doc_text(design.name) or cls
    doc = title + (": " + doc_text(design.description) if design.description else "")
    main_src, attrs = w.graph_class(design, res, cls, doc, n_inputs=1)
    shape = ", ".join(map(str, design.input_shape))
    summary = textwrap.wrap(f"{title}, generated by Network Designer {__version__}.", WIDTH - 3)
    header = "\n".join(
        [
            '"""' + "\n".join(summary),
            "",
            (
                "Standalone: needs only PyTorch. `build_model()` returns the network; running this "
                "file"
            ),
            'builds it and prints the output shape for a random input."""',
            "",
            "import torch",
            "from torch import Tensor, nn",
        ]
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
    return GeneratedCode(source, cls, tuple(design.input_shape), attrs, w.block_attrs)
