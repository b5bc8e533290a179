"""Keep generated lines within the project's 100 characters, breaking calls as black does: the
arguments on one indented line if they fit, else one argument a line with a trailing comma."""

from __future__ import annotations

WIDTH = 100
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _split_top_level(text: str) -> list[str]:
    """`a, f(b, c), [d]` -> ['a', 'f(b, c)', '[d]'] (generated code has no commas in strings)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _PAIRS:
            depth += 1
        elif ch in _PAIRS.values():
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return items + [last] if last else items


def _outer_bracket(line: str) -> int | None:
    """Index of the bracket that the line's last character closes, if the line ends with one."""
    if not line or line[-1] not in _PAIRS.values():
        return None
    depth = 0
    for i in range(len(line) - 1, -1, -1):
        ch = line[i]
        if ch in _PAIRS.values():
            depth += 1
        elif ch in _PAIRS:
            depth -= 1
            if depth == 0:
                return i
    return None


def wrap_line(line: str, width: int = WIDTH) -> list[str]:
    """The line as it is if it fits, else broken at its outermost trailing call or list."""
    if len(line) <= width:
        return [line]
    opening = _outer_bracket(line)
    if opening is None or opening == len(line) - 2:  # nothing to break, e.g. f()
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    inner_indent = indent + "    "
    head, inner, close = line[: opening + 1], line[opening + 1 : -1], line[-1]
    if len(inner_indent) + len(inner.strip()) <= width:
        return [head, inner_indent + inner.strip(), indent + close]
    lines = [head]
    for item in _split_top_level(inner):
        wrapped = wrap_line(inner_indent + item, width - 1)
        lines += wrapped[:-1] + [wrapped[-1] + ","]
    return lines + [indent + close]
