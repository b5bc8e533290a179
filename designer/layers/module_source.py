"""The built-in blocks' classes as source text, and the constructor call for one use of a block.

The classes live in block_modules.py, a real module that is linted and tested; here it is only
parsed (importing it would import torch into the design model, which stays torch-free).
"""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("block_modules.py")


@dataclass(frozen=True)
class Argument:
    name: str
    annotation: str
    has_default: bool
    default: Any = None


@functools.cache
def _parsed() -> tuple[str, dict[str, ast.ClassDef]]:
    text = _FILE.read_text(encoding="utf-8")
    tree = ast.parse(text)
    return text, {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def class_names() -> tuple[str, ...]:
    return tuple(_parsed()[1])


def _uses(name: str) -> list[str]:
    """The other classes of the file that class `name` refers to, in order of first use."""
    classes = _parsed()[1]
    found: list[str] = []
    for node in ast.walk(classes[name]):
        if isinstance(node, ast.Name) and node.id in classes and node.id not in (name, *found):
            found.append(node.id)
    return found


@functools.cache
def class_sources(name: str) -> tuple[str, ...]:
    """Source of class `name` and of the classes it uses, those it uses first."""
    text, classes = _parsed()
    if name not in classes:
        raise KeyError(f"block_modules.py has no class {name}")
    order: list[str] = []

    def visit(cls: str) -> None:
        for dep in _uses(cls):
            if dep not in order:
                visit(dep)
        if cls not in order:
            order.append(cls)

    visit(name)
    return tuple(ast.get_source_segment(text, classes[c]) + "\n" for c in order)


@functools.cache
def signature(name: str) -> tuple[Argument, ...]:
    """The arguments of class `name`'s constructor after `self`."""
    classes = _parsed()[1]
    init = next(
        n for n in classes[name].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    )
    args = init.args.args[1:]
    defaults = [None] * (len(args) - len(init.args.defaults)) + list(init.args.defaults)
    return tuple(
        Argument(
            a.arg,
            ast.unparse(a.annotation) if a.annotation else "",
            d is not None,
            ast.literal_eval(d) if d is not None else None,
        )
        for a, d in zip(args, defaults)
    )


def _literal(value: Any, annotation: str) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if annotation == "float":
        return repr(float(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # double quotes, as the rest of the file writes strings
    if isinstance(value, (list, tuple)):  # a size [h, w] is written as torchvision does: (1, 7)
        return "(" + ", ".join(_literal(v, "") for v in value) + ")"
    raise TypeError(f"no literal for a constructor argument {value!r}")


def constructor_call(name: str, values: dict[str, Any]) -> str:
    """`Name(256, 128, stride=2)`: arguments without a default by position, the others by
    keyword and only when they differ from their default."""
    parts = []
    for arg in signature(name):
        value = values[arg.name]
        if not arg.has_default:
            parts.append(_literal(value, arg.annotation))
        elif value != arg.default:
            parts.append(f"{arg.name}={_literal(value, arg.annotation)}")
    return f"{name}({', '.join(parts)})"
