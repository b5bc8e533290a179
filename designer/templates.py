"""The template catalog: ready designs of the course models and standard architectures.

Templates are Python modules in the top-level `templates/` folder (installed as the package
`designer_templates`); each defines `TEMPLATES`, a list of Template entries."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from designer.core.design import Design


@dataclass(frozen=True)
class Template:
    name: str                       # CLI name, e.g. "lenet5"
    title: str
    description: str
    build: Callable[[], Design]
    year: int | None = None
    paper: str = ""
    input_shape: tuple[int, ...] = ()
    # ImageNet top-1/top-5 where torchvision documents them.
    accuracy: dict[str, float] = field(default_factory=dict)
    # Default training settings: dataset, optimizer, lr, schedule, epochs, augmentation...
    training: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


class UnknownTemplate(KeyError):
    pass


_CATALOG: dict[str, Template] | None = None


def list_templates() -> list[Template]:
    global _CATALOG
    if _CATALOG is None:
        catalog: dict[str, Template] = {}
        package = importlib.import_module("designer_templates")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"designer_templates.{info.name}")
            for t in getattr(module, "TEMPLATES", []):
                if t.name in catalog:
                    raise ValueError(f"template {t.name!r} is defined twice")
                catalog[t.name] = t
        _CATALOG = catalog
    return list(_CATALOG.values())


def get_template(name: str) -> Template:
    for t in list_templates():
        if t.name == name:
            return t
    known = ", ".join(t.name for t in list_templates())
    raise UnknownTemplate(f"unknown template {name!r}; the templates are: {known}")


def new_from_template(name: str) -> Design:
    """A fresh design from the template, laid out, with the template's info in its metadata."""
    from designer.core.layout import apply_layout

    t = get_template(name)
    design = t.build()
    if all(n.position == (0.0, 0.0) for n in design.nodes.values()):
        apply_layout(design)
    design.metadata = {
        "template": t.name,
        "training": dict(t.training),
    }
    return design
