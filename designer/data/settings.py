"""Type-checked conversion between the settings dataclasses and plain JSON-ready dicts."""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from designer.data.errors import DataError

T = TypeVar("T")

_DESCRIPTIONS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def check_setting_types(obj: Any, what: str) -> None:
    """Check every field of a settings dataclass against its annotation.

    Called from ``__post_init__`` so hand-built objects and ones read from JSON get the same
    checks. Whole numbers are accepted (and stored as float) where a float is expected, because
    JSON writers drop the ".0"; booleans are never taken for numbers.
    """
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        expected = hints[f.name]
        value = getattr(obj, f.name)
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(obj, f.name, float(value))
            ok = True
        if not ok:
            raise DataError(
                f"{what} setting '{f.name}' must be {_DESCRIPTIONS[expected]}, got {value!r}"
            )
        if expected is float and not math.isfinite(getattr(obj, f.name)):
            raise DataError(f"{what} setting '{f.name}' must be a finite number, got {value!r}")


def check_range(what: str, name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise DataError(f"{what} setting '{name}' must be between {low:g} and {high:g}, got {value!r}")


def settings_to_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def settings_from_dict(cls: type[T], data: Any, what: str) -> T:
    """Build ``cls`` from a dict; missing keys keep their defaults, unknown keys are refused."""
    if not isinstance(data, Mapping):
        raise DataError(f"{what} settings must be a mapping of names to values, got {type(data).__name__}")
    known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise DataError(f"unknown {what} setting '{key}'; known settings: {', '.join(known)}")
    return cls(**data)
