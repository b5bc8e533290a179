"""The issue's target: LeNet-5 with its template's default settings reaches >= 98.5% test accuracy
on digits (the one full-length training run in the suite; 15-16 s on one thread, see
tests/conftest.py)."""

from __future__ import annotations

import pytest

from designer.templates import new_from_template
from designer.training.config import config_for_design
from designer.training.engine import Trainer


@pytest.mark.slow
def test_lenet5_default_settings_reach_the_target_on_digits(tmp_path):
    design = new_from_template("lenet5")
    end = Trainer(design, config_for_design(design), tmp_path / "run").run_to_end()
    assert end.status == "completed" and end.epochs_run == design.metadata["training"]["epochs"]
    assert end.test_accuracy >= 0.985, f"test accuracy {end.test_accuracy:.2%}"
