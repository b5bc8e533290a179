"""The template catalog: ready designs of the course models and standard architectures.

Templates are Python modules in the top-level `templates/` folder (installed as the package
`designer_templates`); each defines `TEMPLATES`, a list of Template entries.

Template options are the keyword arguments of a template's build function, with their defaults:
`resnet50` with `layers=(3, 4, 23, 3)` is ResNet-101, `thesis_fcn` with `variant="batchnorm"` is
the thesis' batch-norm network. Non-default option values are kept in the design's metadata so
the design says how it was made."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from designer.core.design import Design


@dataclass(frozen=True)
class Template:
    name: str  # CLI name, e.g. "lenet5"
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


class TemplateOptionError(ValueError):
    """An unknown option or a value a template cannot use; the message names both."""


def option_defaults(t: Template) -> dict[str, Any]:
    """name -> default of every option of the template (empty for templates without options)."""
    params = inspect.signature(t.build).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _parse_value(default: Any, text: str) -> Any:
    text = text.strip()
    if isinstance(default, bool):
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, tuple):
        parts = [s for s in text.replace("x", ",").split(",") if s.strip()]
        return tuple(int(s) for s in parts)
    return text


def parse_option(t: Template, text: str) -> tuple[str, Any]:
    """'KEY=VALUE' -> (key, value typed like the option's default)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    defaults = option_defaults(t)
    if not sep:
        raise TemplateOptionError(f"option {text!r} must be written KEY=VALUE")
    if key not in defaults:
        raise TemplateOptionError(_unknown(t, key, defaults))
    try:
        return key, _parse_value(defaults[key], value)
    except ValueError as exc:
        reason = str(exc) if "must be" in str(exc) else f"must look like {_show(defaults[key])}"
        raise TemplateOptionError(f"option {key} of {t.name}: {value!r} {reason}") from None


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unknown(t: Template, key: str, defaults: dict) -> str:
    if not defaults:
        return f"template {t.name} has no options (got {key!r})"
    known = ", ".join(f"{k}={_show(v)}" for k, v in defaults.items())
    return f"template {t.name} has no option {key!r}; its options are: {known}"


def describe_options(t: Template) -> str:
    """'layers=3,4,6,3 num_classes=1000' for listings."""
    return " ".join(f"{k}={_show(v)}" for k, v in option_defaults(t).items())


def new_from_template(name: str, **options: Any) -> Design:
    """A fresh, laid-out design from a template with the given options.

    The metadata records the template, its non-default options and the training settings (the
    template's defaults updated by what the build put in design.metadata["training"], e.g. the
    CIFAR-100 dataset when a thesis network is built for 100 classes)."""
    from designer.core.layout import apply_layout

    t = get_template(name)
    defaults = option_defaults(t)
    for key in options:
        if key not in defaults:
            raise TemplateOptionError(_unknown(t, key, defaults))
    try:
        design = t.build(**options)
    except ValueError as exc:
        raise TemplateOptionError(f"template {name}: {exc}") from None
    if all(n.position == (0.0, 0.0) for n in design.nodes.values()):
        apply_layout(design)
    training = {**t.training, **design.metadata.get("training", {})}
    design.metadata = {"template": t.name, "training": training}
    changed = {
        k: list(v) if isinstance(v, tuple) else v for k, v in options.items() if v != defaults[k]
    }
    if changed:
        design.metadata["template_options"] = changed
    return design


def template_info(t: Template) -> dict[str, Any]:
    """Everything a listing shows about a template, as JSON-ready values; parameters and MACs
    are counted on the design the template builds (designer.core.summary)."""
    from designer.core.summary import summarize
    from designer_templates._imagenet import link_for

    s = summarize(t.build())
    link = link_for(t)
    return {
        "name": t.name,
        "title": t.title,
        "description": t.description,
        "year": t.year,
        "paper": t.paper,
        "input_shape": list(t.input_shape),
        "params": s.total_params,
        "trainable_params": s.trainable_params,
        "non_trainable_params": s.non_trainable_params,
        "macs": s.macs,
        "accuracy": dict(t.accuracy),
        "training": dict(t.training),
        "tags": list(t.tags),
        "options": {
            k: list(v) if isinstance(v, tuple) else v for k, v in option_defaults(t).items()
        },
        "torchvision": link.model if link is not None else None,
    }
