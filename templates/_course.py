"""Helpers the course templates share."""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import Design


def start(name: str, input_shape, num_classes: int = 10, description: str = ""):
    design = Design(
        name, description=description, input_shape=tuple(input_shape), num_classes=num_classes
    )
    b = GraphBuilder(design)
    return design, b, b.add("Input", name="input")
