"""Typed layer parameters: defaults, ranges and help text, from which the inspector, validation
and documentation are derived. Values are plain JSON types so they round-trip through files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    help: str = ""

    kind = "any"

    def check(self, value: Any) -> str | None:
        """Return why `value` is not acceptable, or None."""
        return None

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Int(Param):
    min: int | None = None
    max: int | None = None
    kind = "int"

    def check(self, value):
        if not _is_int(value):
            return f"must be a whole number, got {value!r}"
        if self.min is not None and value < self.min:
            return f"must be at least {self.min}, got {value}"
        if self.max is not None and value > self.max:
            return f"must be at most {self.max}, got {value}"
        return None


@dataclass(frozen=True)
class OptionalInt(Int):
    kind = "int or none"

    def check(self, value):
        return None if value is None else super().check(value)


@dataclass(frozen=True)
class Float(Param):
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    kind = "float"

    def check(self, value):
        if not _is_number(value):
            return f"must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if self.min is not None:
            if self.min_exclusive and value <= self.min:
                return f"must be greater than {self.min}, got {value}"
            if not self.min_exclusive and value < self.min:
                return f"must be at least {self.min}, got {value}"
        if self.max is not None and value > self.max:
            return f"must be at most {self.max}, got {value}"
        return None


@dataclass(frozen=True)
class Bool(Param):
    kind = "bool"

    def check(self, value):
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


@dataclass(frozen=True)
class Choice(Param):
    options: tuple = ()
    kind = "choice"

    def check(self, value):
        if value not in self.options:
            return f"must be one of {', '.join(map(str, self.options))}; got {value!r}"
        return None

    def describe(self):
        return " | ".join(map(str, self.options))


@dataclass(frozen=True)
class Size(Param):
    """A 2-D size: one int for a square, or [height, width]."""

    min: int = 1
    kind = "int or [h, w]"

    def check(self, value):
        items = value if isinstance(value, (list, tuple)) else [value]
        if isinstance(value, (list, tuple)) and len(value) != 2:
            return f"must be one number or [height, width], got {value!r}"
        for v in items:
            if not _is_int(v):
                return f"must be whole numbers, got {value!r}"
            if v < self.min:
                return f"must be at least {self.min}, got {value!r}"
        return None


@dataclass(frozen=True)
class Padding(Size):
    """Convolution padding: a size, or 'same' / 'valid'."""

    min: int = 0
    kind = "int, [h, w], 'same' or 'valid'"

    def check(self, value):
        if value in ("same", "valid"):
            return None
        return super().check(value)


@dataclass(frozen=True)
class IntList(Param):
    """A list of positive ints (a target shape)."""

    kind = "list of ints"
    allow_minus_one: bool = True

    def check(self, value):
        if not isinstance(value, (list, tuple)) or not value:
            return f"must be a non-empty list of whole numbers, got {value!r}"
        for v in value:
            if not _is_int(v) or (v < 1 and not (v == -1 and self.allow_minus_one)):
                return f"must hold positive whole numbers (one may be -1), got {value!r}"
        if list(value).count(-1) > 1:
            return "may hold at most one -1"
        return None


@dataclass(frozen=True)
class Text(Param):
    kind = "text"

    def check(self, value):
        return None if isinstance(value, str) else f"must be text, got {value!r}"


def pair(v) -> tuple[int, int]:
    """Normalize an int-or-[h, w] value to (h, w)."""
    if isinstance(v, (list, tuple)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def freeze(value: Any) -> Any:
    """A hashable version of a JSON value, for caching analysis results."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value
