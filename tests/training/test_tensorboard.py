"""TensorBoard event files, read back with TensorBoard's own reader, against metrics.jsonl."""

from __future__ import annotations

import pytest

from designer.cli import main
from designer.core.serialization import save_design
from designer.training.config import ConfigError, TrainConfig
from designer.training.engine import Trainer
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_config, tiny_design


def test_train_writes_tensorboard_events_that_match_metrics_jsonl(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    save_design(tiny_design(), tmp_path / "tiny.json")
    code = main(
        [
            "train",
            str(tmp_path / "tiny.json"),
            "--run-dir",
            str(tmp_path / "lenet"),
            "--epochs",
            "2",
            "--batch-size",
            "256",
            "--device",
            "cpu",
            "--tensorboard",
            str(tmp_path / "tb"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    metrics = RunDir(tmp_path / "lenet").read_metrics()
    events = EventAccumulator(str(tmp_path / "tb" / "lenet"), size_guidance={"scalars": 0})
    events.Reload()
    tags = events.Tags()

    steps = [m for m in metrics if m["kind"] == "step"]
    logged = events.Scalars("step/loss")
    assert [e.step for e in logged] == [m["step"] for m in steps]
    assert [e.value for e in logged] == pytest.approx([m["loss"] for m in steps], rel=1e-6)
    epochs = [m for m in metrics if m["kind"] == "epoch"]
    for name in ("train_loss", "val_loss", "val_accuracy", "lr"):
        logged = events.Scalars(f"epoch/{name}")
        assert [(e.step, pytest.approx(e.value, rel=1e-6)) for e in logged] == [
            (m["epoch"], m[name]) for m in epochs
        ], name
    assert tags["graph"] is True
    assert tags["images"] == ["filters/conv2d"]  # the first convolution, as the model names it
    images = events.Images("filters/conv2d")
    assert [i.step for i in images] == [1, 2] and images[0].width > 0


def test_the_tensorboard_setting_is_checked():
    with pytest.raises(ConfigError, match="'tensorboard' is empty"):
        TrainConfig(tensorboard=" ")
    assert TrainConfig.from_dict({"tensorboard": "tb"}).tensorboard == "tb"


def test_runs_without_the_setting_write_no_events(tmp_path):
    Trainer(tiny_design(), tiny_config(epochs=1), tmp_path / "run").run_to_end()
    assert not list(tmp_path.rglob("events.out.tfevents*"))
