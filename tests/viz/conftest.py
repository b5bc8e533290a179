"""Shared setup of the visualization tests: every test starts from the same random state."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
