"""The first convolution's filters at every epoch (filters.safetensors): written before training
and after each epoch, the last one equal to last.safetensors, and the same after a resume as
without one."""

from __future__ import annotations

import torch
from safetensors.torch import load_file

from designer.training import filter_history
from designer.training.control import TrainingControl
from designer.training.engine import Trainer
from designer.training.events import EpochEvent
from tests.helpers import chain
from tests.training.conftest import tiny_config, tiny_design


def test_every_epoch_is_stored_and_the_last_is_the_last_weights(tmp_path):
    end = Trainer(tiny_design(), tiny_config(epochs=3), tmp_path / "run").run_to_end()
    assert end.status == "completed"
    history = filter_history.read(tmp_path / "run")
    assert history.epochs == [0, 1, 2, 3]
    last = load_file(tmp_path / "run" / "last.safetensors")
    assert torch.equal(history.weights[3], last[f"{history.module}.weight"])
    assert history.weights[0].shape == (4, 1, 3, 3)
    assert not torch.equal(history.weights[0], history.weights[1])  # the filters learned


def test_a_resumed_run_has_the_same_history(tmp_path):
    design, config = tiny_design(), tiny_config(epochs=3)
    Trainer(design, config, tmp_path / "whole").run_to_end()
    control = TrainingControl()

    def stop(event):
        if isinstance(event, EpochEvent) and event.epoch == 2:
            control.cancel()

    first = Trainer(design, config, tmp_path / "split", control=control).run_to_end(stop)
    assert first.status == "cancelled"
    assert filter_history.read(tmp_path / "split").epochs == [0, 1, 2]
    Trainer(design, None, tmp_path / "split", resume=True).run_to_end()
    whole = filter_history.read(tmp_path / "whole")
    split = filter_history.read(tmp_path / "split")
    assert split.epochs == whole.epochs == [0, 1, 2, 3]
    assert all(torch.equal(whole.weights[e], split.weights[e]) for e in whole.epochs)


def test_no_file_without_a_convolution(tmp_path):
    design = chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    Trainer(design, tiny_config(epochs=1), tmp_path / "run").run_to_end()
    assert not (tmp_path / "run" / filter_history.FILE).exists()
    assert filter_history.read(tmp_path / "run") is None
