"""Which custom blocks use which. A block may not contain itself, directly or through others:
it could not be analysed or built. The editor refuses such an edit; a hand-edited file that
holds one is reported by the analysis."""

from __future__ import annotations

from collections.abc import Iterable

from designer.core.design import Design


def _uses(design: Design, name: str) -> set[str]:
    """The blocks that block `name`'s own Block nodes stand for."""
    block = design.blocks.get(name)
    if block is None:
        return set()
    return {n.params.get("block") for n in block.nodes.values() if n.type == "Block"}


def block_cycle(design: Design) -> list[str] | None:
    """Custom blocks that contain themselves, as a chain from a block back to it (A, B, A)."""
    uses = {name: _uses(design, name) for name in design.blocks}

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return trail[trail.index(name) :] + [name]
        for inner in uses.get(name, ()):
            found = visit(inner, trail + [name])
            if found:
                return found
        return None

    for name in uses:
        found = visit(name, [])
        if found:
            return found
    return None


def nests_itself(design: Design, path: Iterable[str], block: str) -> bool:
    """Would a node of `block` in the block at breadcrumb `path` make a block contain itself?"""
    inside = set(path)
    seen, todo = set(), [block]
    while todo:
        name = todo.pop()
        if name in inside:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(_uses(design, name))
    return False
