"""The design file: readable, diff-friendly JSON with `format` and `version`, migrated forward on
load. Loading either returns a whole design or raises one DesignFileError naming the file and
what is wrong; saving is atomic (temp file, then rename), so a crash never leaves half a file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from designer.core.atomic import atomic_write_text
from designer.core.design import BlockDef, Design, Edge, Graph, Node
from designer.core.errors import DesignFileError
from designer.core.registry import has_spec

FORMAT = "netdesigner-design"
VERSION = 1

# version N -> function turning a version-N dict into a version N+1 dict.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class _Bad(Exception):
    """A problem at a place inside the file; becomes DesignFileError with the file name."""


# -- writing ------------------------------------------------------------------------------------
def _graph_to_dict(graph: Graph) -> dict[str, Any]:
    nodes = []
    for n in graph.nodes.values():
        nodes.append(
            {
                "id": n.id,
                "type": n.type,
                "name": n.name,
                "params": {k: n.params[k] for k in sorted(n.params)},
                "position": [round(float(n.position[0]), 1), round(float(n.position[1]), 1)],
                "trainable": n.trainable,
                "lr_mult": n.lr_mult,
            }
        )
    edges = [{"from": e.src, "to": e.dst, "port": e.dst_port} for e in graph.edges]
    return {"nodes": nodes, "edges": edges}


def design_to_dict(design: Design) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": design.name,
        "description": design.description,
        "input_shape": list(design.input_shape),
        "task": design.task,
        "num_classes": design.num_classes,
    }
    data.update(_graph_to_dict(design))
    data["blocks"] = {
        name: {"description": b.description, **_graph_to_dict(b)}
        for name, b in sorted(design.blocks.items())
    }
    if design.metadata:
        data["metadata"] = design.metadata
    return data


def dumps(design: Design) -> str:
    return json.dumps(design_to_dict(design), indent=2, ensure_ascii=False) + "\n"


def save_design(design: Design, path: str | Path) -> None:
    atomic_write_text(path, dumps(design))


# -- reading ------------------------------------------------------------------------------------
def _need(obj: dict, key: str, types: type | tuple, where: str, default: Any = ...) -> Any:
    if key not in obj:
        if default is not ...:
            return default
        raise _Bad(f"{where}: the field '{key}' is missing")
    value = obj[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise _Bad(f"{where}: '{key}' has the wrong type ({value!r})")
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        names = names.replace("dict", "object").replace("list", "array").replace("str", "text")
        raise _Bad(f"{where}: '{key}' must be {names}, got {type(value).__name__} ({value!r:.60})")
    return value


def _read_graph(obj: dict, graph: Graph, where: str) -> None:
    nodes = _need(obj, "nodes", list, where)
    for i, raw in enumerate(nodes):
        at = f"{where}nodes[{i}]"
        if not isinstance(raw, dict):
            raise _Bad(f"{at}: must be an object")
        nid = _need(raw, "id", str, at)
        name = _need(raw, "name", str, at, default=nid)
        at = f"{at} ({name})"
        type_name = _need(raw, "type", str, at)
        if not has_spec(type_name):
            raise _Bad(f"{at}: unknown layer type '{type_name}'")
        params = _need(raw, "params", dict, at, default={})
        pos = _need(raw, "position", list, at, default=[0.0, 0.0])
        if len(pos) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos
        ):
            raise _Bad(f"{at}: 'position' must be [x, y] numbers")
        trainable = _need(raw, "trainable", bool, at, default=True)
        lr_mult = _need(raw, "lr_mult", (int, float), at, default=1.0)
        if nid in graph.nodes:
            raise _Bad(f"{at}: the id '{nid}' is used twice")
        graph.nodes[nid] = Node(
            nid,
            type_name,
            name,
            dict(params),
            (float(pos[0]), float(pos[1])),
            trainable,
            float(lr_mult),
        )
    for i, raw in enumerate(_need(obj, "edges", list, where)):
        at = f"{where}edges[{i}]"
        if not isinstance(raw, dict):
            raise _Bad(f"{at}: must be an object")
        src, dst = _need(raw, "from", str, at), _need(raw, "to", str, at)
        port = _need(raw, "port", str, at, default="in")
        for end in (src, dst):
            if end not in graph.nodes:
                raise _Bad(f"{at}: refers to node '{end}', which does not exist")
        graph.add_edge(Edge(src, dst, port), checked=False)  # analysis reports what is wrong


def design_from_dict(data: Any) -> Design:
    """Build a design from file data; raises _Bad with the place of the first problem."""
    if not isinstance(data, dict):
        raise _Bad("the file must hold a JSON object")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise _Bad(
            f"this is not a Network Designer design (format is {fmt!r}, expected '{FORMAT}')"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise _Bad(f"'version' must be a whole number, got {version!r}")
    if version > VERSION:
        raise _Bad(
            f"it was written by a newer Network Designer (file version {version}; this "
            f"version reads up to {VERSION}); update Network Designer to open it"
        )
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    shape = _need(data, "input_shape", list, "design")
    if (
        not shape
        or len(shape) not in (1, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise _Bad(
            f"design: 'input_shape' must be [C, H, W] or [N] positive numbers, got {shape!r}"
        )
    task = _need(data, "task", str, "design", default="classification")
    if task not in Design.TASKS:
        raise _Bad(f"design: 'task' must be one of {', '.join(Design.TASKS)}, got {task!r}")
    num_classes = _need(data, "num_classes", int, "design", default=10)
    if num_classes < 1:
        raise _Bad(f"design: 'num_classes' must be at least 1, got {num_classes}")
    design = Design(
        _need(data, "name", str, "design", default="Untitled"),
        description=_need(data, "description", str, "design", default=""),
        input_shape=tuple(shape),
        task=task,
        num_classes=num_classes,
    )
    _read_graph(data, design, "")
    for name, raw in _need(data, "blocks", dict, "design", default={}).items():
        at = f"blocks['{name}']."
        if not isinstance(raw, dict):
            raise _Bad(f"blocks['{name}']: must be an object")
        block = BlockDef(name, _need(raw, "description", str, at, default=""), design.blocks)
        _read_graph(raw, block, at)
        design.blocks[name] = block
    design.metadata = _need(data, "metadata", dict, "design", default={})
    return design


def loads(text: str, source: str = "<text>") -> Design:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        body = text.strip()
        cut = body[:1] in "{[" and body[-1:] not in "}]"  # opened but never closed
        hint = " (the file looks truncated)" if cut or exc.pos >= len(text.rstrip()) else ""
        raise DesignFileError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}"
        ) from None
    try:
        return design_from_dict(data)
    except _Bad as exc:
        raise DesignFileError(f"{source}: {exc}") from None
    except RecursionError:
        raise DesignFileError(f"{source}: the file is nested too deeply to be a design") from None


def load_design(path: str | Path) -> Design:
    """Read a design file; every failure is one DesignFileError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DesignFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DesignFileError(f"{path}: is a folder, not a design file") from None
    except OSError as exc:
        raise DesignFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesignFileError(f"{path}: not a text file (bad UTF-8 at byte {exc.start})") from None
    return loads(text, str(path))


def clone(design: Design) -> Design:
    """A deep copy through the file format (what the file holds is what is copied)."""
    return design_from_dict(json.loads(dumps(design)))
