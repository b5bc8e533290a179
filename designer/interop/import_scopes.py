"""Blocks for flat imports: an ONNX file or a torch.export program has no child modules to trace,
but each of its operations carries the module it ran in (onnx2torch keeps the ONNX node names,
`/layer1/layer1.0/conv1/Conv`; torch.export keeps an `nn_module_stack`). The flat design built
from it is grouped by those paths into custom blocks, innermost first, the way the fx importer
makes a block of each child module that is not a plain container nor a standard layer; blocks
whose graphs are equal are shared. A part that cannot be a block (it feeds the rest of the
network from two places) stays flat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from designer.core.design import Design
from designer.core.errors import ConnectionRefused
from designer.core.grouping import group_nodes
from designer.core.layout import apply_layout
from designer.core.names import unique_name


@dataclass(frozen=True)
class Where:
    """Where one flat node's operation ran: its module scopes that may become blocks (full
    paths, outermost first, each with a label to name the block by), the path of the innermost
    module it ran in, and the operation's own name."""

    scopes: tuple[tuple[str, str], ...]
    leaf: str
    op: str


# -- where the operations ran -------------------------------------------------------------------


def export_where(node) -> Where | None:
    """From a torch.export node's nn_module_stack: every module that is neither a torch.nn
    layer nor a container is a scope."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return None
    entries = [(str(path), str(cls)) for path, cls in stack.values() if path]
    scopes = tuple(
        (path, cls.rsplit(".", 1)[-1])
        for path, cls in entries
        if not cls.startswith(("torch.nn.", "torch.ao.nn."))
    )
    leaf = entries[-1][0] if entries else ""
    op = str(getattr(node.target, "__name__", node.target)).split(".")[0].strip("_")
    return Where(scopes, leaf, op)  # aten.add_.Tensor -> add


def onnx_where(target: str, containers: set[str]) -> Where:
    """From an onnx2torch module name (the ONNX node's, with dots as slashes): the scopes are
    the modules torch.onnx named, each relative to the last module that is no container, so a
    container's child repeats its name (`layer1/layer1.0`); `containers` collects those."""
    *tokens, op = target.split("/")
    paths: list[tuple[str, ...]] = []  # full path of each scope
    own: list[tuple[str, ...]] = []  # each scope's name as torch.onnx wrote it
    i = 0
    while i < len(tokens):
        prev = own[-1] if own else None
        if (
            prev is not None
            and tuple(tokens[i : i + len(prev)]) == prev
            and i + len(prev) < len(tokens)
        ):
            name = (*prev, tokens[i + len(prev)])  # a container's child: its name extended
            base = paths[-1][: len(paths[-1]) - len(prev)]
            containers.add(".".join(paths[-1]))
            i += len(prev) + 1
        else:
            name = (tokens[i],)
            base = paths[-1] if paths else ()
            i += 1
        own.append(name)
        paths.append((*base, *name))
    full = [".".join(p) for p in paths]
    # no class names: blocks are named after their first path and shared when equal
    return Where(tuple((p, "") for p in full), full[-1] if full else "", op)


# -- grouping -----------------------------------------------------------------------------------


def _signature(design: Design, name: str) -> str:
    block = design.blocks[name]
    names = {nid: n.name for nid, n in block.nodes.items()}
    nodes = sorted(
        (n.name, n.type, json.dumps(n.params, sort_keys=True)) for n in block.nodes.values()
    )
    edges = sorted((names[e.src], names[e.dst], e.dst_port) for e in block.edges)
    return json.dumps([nodes, edges])


def group_by_scope(
    design: Design, where: dict[str, Where], containers: frozenset[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """Group the top-level nodes of `design` into custom blocks by `where` (node id -> Where).
    Returns, for each block node made, its inner node names -> the ids they had (flat node ids,
    or the ids of the block nodes made before, for nested blocks), to carry weights along."""
    members: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for nid, w in where.items():
        for path, label in w.scopes:
            if path not in containers:
                members.setdefault(path, []).append(nid)
                labels.setdefault(path, label)
    # a scope that holds one operation is that layer (or a module mapped to one)
    scopes = [p for p, ids in members.items() if len(ids) > 1]

    owner: dict[str, str] = {}  # flat node id -> the block node that holds it now
    made: dict[str, str] = {}  # block node id -> its path
    instances: dict[str, dict[str, str]] = {}
    by_signature: dict[tuple[str, str], str] = {}
    for path in sorted(scopes, key=lambda p: -p.count(".")):
        ids: list[str] = []
        for nid in members[path]:
            top = nid
            while top in owner:
                top = owner[top]
            if top not in ids and top in design.nodes:
                ids.append(top)
        names = _local_names(design, ids, path, where, made)
        block_name = unique_name(labels[path] or path.replace(".", "_"), set(design.blocks))
        try:
            node_id = group_nodes(design, ids, block_name)
        except ConnectionRefused:
            continue  # not one value out: the part stays flat
        block = design.blocks[block_name]
        taken: set[str] = set()
        for nid in ids:
            block.nodes[nid].name = unique_name(names[nid], taken)
            taken.add(block.nodes[nid].name)
        instances[node_id] = {block.nodes[nid].name: nid for nid in ids}
        for nid in ids:
            owner[nid] = node_id
        made[node_id] = path
        others = {n.name for i, n in design.nodes.items() if i != node_id}
        design.nodes[node_id].name = unique_name(path.replace(".", "_"), others)
        apply_layout(block)
        key = (labels[path], _signature(design, block_name))
        if key in by_signature:  # the same block as an earlier one: share it
            design.nodes[node_id].params["block"] = by_signature[key]
            design.set_block(block_name, None)
        else:
            by_signature[key] = block_name
            block.description = f"Imported from {path}."
    apply_layout(design)
    return instances


def _rest(path: str, inner: str) -> str:
    return inner[len(path) + 1 :] if inner.startswith(path + ".") else ""


def _local_names(design, ids, path, where, made) -> dict[str, str]:
    """Names inside the block of `path`: the rest of each operation's module path (numbered
    where that module ran more than once), or the operation's name where it ran in the block's
    own code."""
    out = {}
    for nid in ids:
        if nid in made:  # a block made before, inside this one
            out[nid] = _rest(path, made[nid]).replace(".", "_") or "block"
            continue
        w = where[nid]
        name = _rest(path, w.leaf).replace(".", "_") or w.op.lower() or "op"
        if name[0].isdigit():  # a Sequential's layer: conv2d_0, batchnorm_1
            name = f"{design.nodes[nid].type.lower()}_{name}"
        out[nid] = name
    return out
