"""Settings dataclasses (augmentation, preprocessing, training): type-checked conversion to and
from plain JSON-ready dicts, with messages that name the setting. Each caller passes the error
class its users catch (DataError, ConfigError...).

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")

_DESCRIPTIONS = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    dict: "a mapping",
    list: "a list",
}


def check_setting_types(obj: Any, what: str, error: type[Exception] = ValueError) -> None:
    """Check every field of a settings dataclass against its annotation (`X | None` allowed).

    Called from ``__post_init__`` so hand-built objects and ones read from JSON get the same
    checks. Whole numbers are accepted (and stored as float) where a float is expected, because
    JSON writers drop the ".0"; booleans are never taken for numbers.
    """
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        expected = hints[f.name]
        union = isinstance(expected, types.UnionType)
        options = typing.get_args(expected) if union else (expected,)
        value = getattr(obj, f.name)
        if value is None and type(None) in options:
            continue
        kind = next(t for t in options if t is not type(None))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            object.__setattr__(obj, f.name, value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            wanted = _DESCRIPTIONS.get(kind, f"{kind.__name__} settings")
            if type(None) in options:
                wanted += " or null"
            raise error(f"{what} setting '{f.name}' must be {wanted}, got {value!r}")
        if kind is float and not math.isfinite(value):
            raise error(f"{what} setting '{f.name}' must be a finite number, got {value!r}")


def check_range(
    what: str, name: str, value: float, low: float, high: float, error: type[Exception] = ValueError
) -> None:
    if not low <= value <= high:
        raise error(f"{what} setting '{name}' must be between {low:g} and {high:g}, got {value!r}")


def settings_to_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def settings_from_dict(
    cls: type[T], data: Any, what: str, error: type[Exception] = ValueError
) -> T:
    """Build ``cls`` from a dict; missing keys keep their defaults, unknown keys are refused."""
    if not isinstance(data, Mapping):
        raise error(
            f"{what} settings must be a mapping of names to values, got {type(data).__name__}"
        )
    known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise error(f"unknown {what} setting '{key}'; known settings: {', '.join(known)}")
    return cls(**data)
