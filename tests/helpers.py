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
    b.add(
        "ClassificationOutput" if task == "classification" else "RegressionOutput", x, name="output"
    )
    return design


def train_digits_lenet(run_dir, epochs: int = 5):
    """LeNet-5 (the template, 28 x 28) trained on the bundled digits by the engine for a few
    epochs (about 95% test accuracy, a few seconds); returns (design, run_dir)."""
    from designer.templates import new_from_template
    from designer.training.config import config_for_design
    from designer.training.engine import Trainer

    design = new_from_template("lenet5")
    config = config_for_design(design, {"device": "cpu", "epochs": epochs})
    end = Trainer(design, config, run_dir).run_to_end()
    assert end.status == "completed", end.message
    return design, run_dir
