"""One class per block type, parameterized like torchvision's.

Every use of a block is first written out as its own class. Uses whose code has the same shape
(the same tokens but for whole numbers) become one class: each number that differs between uses
becomes a constructor argument named after the block param (or input channels) it equals in every
use, or a product of two of them (`width * expansion`). GoogLeNet's nine Inception modules thus
read `Inception(192, 64, 96, 128, 16, 32, 32)`, as in torchvision. Uses whose numbers cannot all
be named keep classes of their own, so the code is always exact."""

from __future__ import annotations

import io
import itertools
import tokenize
from dataclasses import dataclass

PLACEHOLDER = "__BlockClass__"


@dataclass
class Use:
    """One use of a block: its class source (named PLACEHOLDER) and the values it was built from."""

    key: tuple
    source: str
    ints: dict[str, int]       # candidate argument -> value for this use (in_channels, params)
    floats: dict[str, float]


@dataclass
class BlockClass:
    name: str
    source: str
    calls: dict[tuple, str]    # use key -> constructor call, e.g. "Inception(192, 64, ...)"


def _strip_comments(source: str) -> str:
    return "\n".join(ln for ln in source.splitlines() if not ln.strip().startswith("#")) + "\n"


def _int_tokens(source: str) -> tuple[tuple, list[tuple[tuple[int, int], tuple[int, int], int]]]:
    """(shape of the code with whole numbers blanked, [(start, end, value)] of those numbers)."""
    shape, numbers = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NUMBER and tok.string.isdigit():
            shape.append("#")
            numbers.append((tok.start, tok.end, int(tok.string)))
        elif tok.type not in (tokenize.COMMENT, tokenize.NL):
            shape.append(tok.string)
    return tuple(shape), numbers


def _candidates(use: Use) -> list[tuple[str, tuple[str, ...], object]]:
    """(expression, arguments it uses, value for this use), simplest first."""
    out: list[tuple[str, tuple[str, ...], object]] = [(k, (k,), v) for k, v in use.ints.items()]
    for (a, va), (b, vb) in itertools.combinations(use.ints.items(), 2):
        out.append((f"{a} * {b}", (a, b), va * vb))
    for (a, va), (f, vf) in itertools.product(use.ints.items(), use.floats.items()):
        out.append((f"int({a} * {f})", (a, f), int(va * vf)))
    return out


def merge_uses(uses: list[Use], title: str, new_name) -> list[BlockClass]:
    """Classes for all uses of one block type; `new_name(title)` hands out unique class names."""
    groups: dict[tuple, list[tuple[Use, list]]] = {}
    for use in uses:
        shape, numbers = _int_tokens(_strip_comments(use.source))
        groups.setdefault(shape, []).append((use, numbers))
    classes = []
    for members in groups.values():
        vectors = [[n[2] for n in numbers] for _, numbers in members]
        varying = [i for i in range(len(vectors[0])) if len({v[i] for v in vectors}) > 1]
        exprs = _name_positions(members, varying) if varying else {}
        if exprs is None:  # some number follows no param: one class per distinct use
            distinct: dict[tuple, list[Use]] = {}
            for use, _ in members:
                distinct.setdefault(tuple(_int_tokens(_strip_comments(use.source))[1]), []).append(use)
            for same in distinct.values():
                classes.append(_plain(same, new_name(title)))
            continue
        if not varying:
            classes.append(_plain([u for u, _ in members], new_name(title)))
            continue
        classes.append(_parameterized(members, varying, exprs, new_name(title)))
    return classes


def _name_positions(members, varying) -> dict[int, tuple[str, tuple[str, ...]]] | None:
    exprs = {}
    per_use = [_candidates(use) for use, _ in members]
    for pos in varying:
        for i, (expr, args, _) in enumerate(per_use[0]):
            if all(cands[i][2] == numbers[pos][2] for cands, (_, numbers) in zip(per_use, members)):
                exprs[pos] = (expr, args)
                break
        else:
            return None
    return exprs


def _plain(uses: list[Use], name: str) -> BlockClass:
    return BlockClass(name, uses[0].source.replace(PLACEHOLDER, name, 1),
                      {u.key: f"{name}()" for u in uses})


def _parameterized(members, varying, exprs, name: str) -> BlockClass:
    first, numbers = members[0]
    source = _strip_comments(first.source)
    lines = source.splitlines(keepends=True)
    for pos in sorted(varying, key=lambda i: numbers[i][0], reverse=True):
        (row, col), (_, end), _ = numbers[pos]
        line = lines[row - 1]
        lines[row - 1] = line[:col] + exprs[pos][0] + line[end:]
    source = "".join(lines).replace(PLACEHOLDER, name, 1)
    used = {a for e in exprs.values() for a in e[1]}
    order = [k for k in list(first.ints) + list(first.floats) if k in used]
    args = [f"{a}: {'float' if a in first.floats else 'int'}" for a in order]
    header = f"    def __init__(self, {', '.join(args)}) -> None:"
    if len(header) > 100:  # one argument a line, as black writes it
        header = "    def __init__(\n        self,\n" + "".join(f"        {a},\n" for a in args) + "    ) -> None:"
    source = source.replace("    def __init__(self) -> None:", header, 1)
    calls = {}
    for use, _ in members:
        values = [repr(use.floats[a]) if a in use.floats else str(use.ints[a]) for a in order]
        calls[use.key] = f"{name}({', '.join(values)})"
    return BlockClass(name, source, calls)
