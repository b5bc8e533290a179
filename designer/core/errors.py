"""Errors and problems the model reports to users: each says what is wrong, where, and what to
do."""

from __future__ import annotations

from dataclasses import dataclass


class ShapeError(ValueError):
    """A layer cannot accept its input shapes; the message is shown to the user as is."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class DesignFileError(Exception):
    """A design file cannot be read; the message names the file and what is wrong."""


class ConnectionRefused(ValueError):
    """A connection the model will not make (cycle, taken port, unknown port...)."""


@dataclass(frozen=True)
class Problem:
    """One validation finding, attached to a node (and param) where there is one."""

    message: str
    node_id: str | None = None
    node_name: str | None = None
    param: str | None = None
    severity: str = "error"  # "error" blocks compiling; "warning" does not

    def __str__(self) -> str:
        where = f"node {self.node_name}" if self.node_name is not None else "design"
        if self.param:
            where += f" ({self.param})"
        return f"{where}: {self.message}"
