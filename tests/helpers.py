"""Small design builders shared by tests."""

from __future__ import annotations

from designer.core.builder import GraphBuilder
from designer.core.design import Design


def chain(*layers, input_shape=(3, 8, 8), num_classes=10, task="classification", name="Test"):
    """Input -> layers... -> head. Each layer is (type, params) or a type name."""
    design = Design(name, input_shape=input_shape, num_classes=num_classes, task=task)
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    for layer in layers:
        type_name, params = (layer, {}) if isinstance(layer, str) else layer
        x = b.add(type_name, x, **params)
    b.add("ClassificationOutput" if task == "classification" else "RegressionOutput", x, name="output")
    return design
