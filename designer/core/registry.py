"""The layer registry: every layer type is one LayerSpec, registered once under a unique name.

The inspector, validation, shape inference, summary, code generation and docs all derive from
the spec. Built-in layers live in `designer.layers` and register themselves when it is imported;
the registry loads that package on first use (a plugin import, so the core does not depend on it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from designer.core.errors import ShapeError
from designer.core.params import Param

if TYPE_CHECKING:
    from designer.core.design import Graph

Shape = tuple[int, ...]  # one sample's shape, without the batch dimension


def shape_str(shape: Shape | None) -> str:
    """'16 x 8 x 8' as labels and messages write a shape; '?' when it is unknown."""
    return "?" if shape is None else " x ".join(map(str, shape))


_REGISTRY: dict[str, LayerSpec] = {}
_BUILTIN_PACKAGE = "designer.layers"
_loaded = False


class LayerSpec:
    """One layer type. Subclasses set the class attributes and override what differs."""

    type: str = ""
    title: str = ""
    category: str = "Other"
    help: str = ""
    params: tuple[Param, ...] = ()
    composite = False  # a block with an inner graph (see `expand`)
    in_palette = True  # boundary nodes of block graphs are not offered to users
    support_source = ""  # helper class source the generated file needs (e.g. Shift)
    # forward() returns a new tensor that autograd does not keep for the backward pass, so an
    # in-place activation may overwrite it when nothing else reads it (torchvision's
    # conv -> bn -> ReLU(inplace=True)). Activations keep their output, views share their input.
    fresh_output = False
    # Structural role: "input", "output" (a head), "block_input", "block_output",
    # "custom_block" (a node standing for a user's BlockDef), or "" for ordinary layers.
    role = ""

    # -- roles -------------------------------------------------------------------------------
    @property
    def opens(self) -> bool:
        """A block with an inner graph a user can open: built-in composite or custom block."""
        return self.composite or self.role == "custom_block"

    @property
    def is_custom_block(self) -> bool:
        """A node standing for one of the design's own block definitions (params["block"])."""
        return self.role == "custom_block"

    @property
    def is_input(self) -> bool:
        """Where values enter a graph: the design's Input or a block's BlockInput."""
        return self.role in ("input", "block_input")

    @property
    def is_output(self) -> bool:
        """Where a graph ends (a head or a block's BlockOutput): nothing can follow it."""
        return self.role in ("output", "block_output")

    # -- params ------------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Params with defaults filled in for anything not set."""
        out = self.defaults()
        out.update(params)
        return out

    def param_problems(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """(param, message) for each value of the wrong type or out of range, and unknown names."""
        known = {p.name: p for p in self.params}
        found = []
        for name in params:
            if name not in known:
                found.append((name, f"is not a parameter of {self.type}"))
        for name, p in known.items():
            if name in params:
                msg = p.check(params[name])
                if msg:
                    found.append((name, f"{name} {msg}"))
        return found

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    # -- ports -------------------------------------------------------------------------------
    def input_ports(self, p: dict[str, Any]) -> tuple[str, ...]:
        """The input ports params give a layer of this type (override where they differ)."""
        return ("in",)

    def ports(self, p: dict[str, Any], blocks: dict[str, Any]) -> tuple[str, ...]:
        """A node's input ports, the one place every part asks: from its params, or for a
        custom block from its definition in `blocks` (none while that is missing)."""
        if self.is_custom_block:
            block = blocks.get(p.get("block"))
            return tuple(block.port_names()) if block is not None else ()
        return self.input_ports(p)

    # -- analysis ----------------------------------------------------------------------------
    def infer_shape(self, p: dict[str, Any], in_shapes: list[Shape]) -> Shape:
        """Output shape from input shapes; raise ShapeError with a message users can act on."""
        return in_shapes[0]

    def count_params(self, p: dict[str, Any], in_shapes: list[Shape]) -> tuple[int, int]:
        """(learned parameters, non-trainable statistics such as BatchNorm's running mean/var)."""
        return 0, 0

    def macs(self, p: dict[str, Any], in_shapes: list[Shape], out_shape: Shape) -> int:
        """Multiply-accumulates per sample, counted as PyTorch's FlopCounterMode does (/2)."""
        return 0

    # -- code --------------------------------------------------------------------------------
    def emit_module(self, p: dict[str, Any], in_shapes: list[Shape]) -> str | None:
        """Source of the submodule's constructor, or None for a layer without a module."""
        return None

    def emit_inplace_module(self, p: dict[str, Any], in_shapes: list[Shape]) -> str | None:
        """Source of a constructor that overwrites its input (`nn.ReLU(inplace=True)`), or None
        if the layer has no such form."""
        return None

    def support_classes(self) -> tuple[str, ...]:
        """Sources of the classes the generated file needs for this layer, dependencies first."""
        return (self.support_source,) if self.support_source else ()

    def emit_forward(
        self, p: dict[str, Any], module: str, args: list[str], in_shapes: list[Shape]
    ) -> str:
        """Source of the forward expression; `module` is e.g. 'self.conv1', args the inputs."""
        return f"{module}({args[0]})"

    # -- composite blocks --------------------------------------------------------------------
    def expand(self, p: dict[str, Any], in_shapes: list[Shape]) -> Graph:
        """The inner graph of a composite block (BlockInput nodes feed it, BlockOutput ends it)."""
        raise TypeError(f"{self.type} is not a composite block")

    def summary_text(self, p: dict[str, Any]) -> str:
        """Key params for the canvas label, e.g. '16, 3x3, s2'."""
        shown = []
        for prm in self.params[:3]:
            v = p.get(prm.name)
            if isinstance(v, bool) or v is None:
                continue
            shown.append(f"{prm.name}={v}")
        return ", ".join(shown)


def register_layer(cls: type[LayerSpec] | None = None) -> Callable:
    """Class decorator: register one instance of the spec under `cls.type`; refuse duplicates."""

    def deco(c: type[LayerSpec]) -> type[LayerSpec]:
        if not c.type:
            raise ValueError(f"{c.__name__} has no type name")
        if c.type in _REGISTRY:
            raise ValueError(f"layer type {c.type!r} is registered twice")
        _REGISTRY[c.type] = c()
        return c

    return deco(cls) if cls is not None else deco


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module(_BUILTIN_PACKAGE)


def get_spec(type_name: str) -> LayerSpec:
    _ensure_loaded()
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise KeyError(f"unknown layer type {type_name!r}") from None


def has_spec(type_name: str) -> bool:
    _ensure_loaded()
    return type_name in _REGISTRY


def list_specs(palette_only: bool = False) -> list[LayerSpec]:
    _ensure_loaded()
    return [s for s in _REGISTRY.values() if s.in_palette or not palette_only]


__all__ = [
    "LayerSpec",
    "Shape",
    "ShapeError",
    "get_spec",
    "has_spec",
    "list_specs",
    "register_layer",
    "shape_str",
]
