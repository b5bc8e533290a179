"""The engine on real data (digits) with tiny real models: events, run directory, exact resume,
divergence, early stopping, frozen nodes, learning-rate multipliers, pause and cancel."""

from __future__ import annotations

import json
import math
import threading

import pytest
import torch
from safetensors.torch import load_file

from designer.codegen import compile_design
from designer.interop.weights import load_weights
from designer.training.control import TrainingControl
from designer.training.engine import Trainer
from designer.training.events import EndEvent, EpochEvent, StartEvent, StateEvent, StepEvent
from designer.training.metrics import EMA_COEFFICIENT
from designer.training.model import TrainingError
from designer.training.rundir import RunDir
from tests.helpers import chain
from tests.training.conftest import tiny_config, tiny_design

TIME_FIELDS = ("seconds", "samples_per_second")


def without_times(records):
    return [{k: v for k, v in r.items() if k not in TIME_FIELDS} for r in records]


def run(design, config, path, **kw):
    events = list(Trainer(design, config, path, **kw).events())
    return events, events[-1]


def test_a_run_writes_its_directory_and_events(design, tmp_path):
    config = tiny_config(epochs=2)
    events, end = run(design, config, tmp_path / "run")
    assert isinstance(events[0], StartEvent) and isinstance(end, EndEvent)
    assert end.status == "completed" and end.epochs_run == 2
    start = events[0]
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert len(steps) == 2 * start.steps_per_epoch == 2 * math.ceil(start.train_samples / 128)
    assert [e.epoch for e in events if isinstance(e, EpochEvent)] == [1, 2]

    rd = RunDir(tmp_path / "run")
    assert json.loads(rd.file("config.json").read_text()) == config.to_dict()
    records = rd.read_metrics()
    epochs = [r for r in records if r["kind"] == "epoch"]
    for key in (
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "seconds",
        "val_top5",
    ):
        assert all(key in r for r in epochs), key
    assert [r["loss"] for r in records if r["kind"] == "step"] == [e.loss for e in steps]
    result = rd.read_json("result.json")
    assert result["status"] == "completed" and result["epochs_run"] == 2
    assert result["test_accuracy"] == end.test_accuracy and 0.5 < end.test_accuracy <= 1
    assert result["best_val_accuracy"] == max(r["val_accuracy"] for r in epochs)
    confusion = torch.tensor(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == start.test_samples
    assert confusion.diag().sum() / start.test_samples == pytest.approx(end.test_accuracy)
    # The weights files load (strictly) into the design's compiled code.
    for name in ("best.safetensors", "last.safetensors"):
        load_weights(compile_design(design), rd.file(name))


def test_loss_average_is_the_bias_corrected_ema_of_the_step_losses(design, tmp_path):
    events, _ = run(design, tiny_config(epochs=1), tmp_path / "run")
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert len(steps) == events[0].steps_per_epoch > 1
    ema = 0.0
    for t, step in enumerate(steps, start=1):
        ema = EMA_COEFFICIENT * ema + (1 - EMA_COEFFICIENT) * step.loss
        assert step.loss_ema == pytest.approx(ema / (1 - EMA_COEFFICIENT**t))


def test_step_learning_rates_follow_the_cosine_schedule(design, tmp_path):
    events, _ = run(
        design, tiny_config(epochs=2, schedule="cosine", lr=0.01, min_lr=0.001), tmp_path / "run"
    )
    steps = [e for e in events if isinstance(e, StepEvent)]
    total = len(steps)
    assert total == 2 * events[0].steps_per_epoch > 2
    assert steps[0].lr == pytest.approx(0.01) and steps[-1].lr < 0.0015  # it does fall
    for e in steps:
        t = (e.step - 1) / total
        assert e.lr == pytest.approx(0.001 + 0.009 * 0.5 * (1 + math.cos(math.pi * t)))


def _cancel_at(control, predicate):
    def watch(event):
        if predicate(event):
            control.cancel()

    return watch


@pytest.mark.parametrize("where", ["after_epoch", "mid_epoch"])
def test_resumed_run_equals_uninterrupted_run(tmp_path, where):
    """Interrupted (after epoch 1, or in the middle of epoch 2), then resumed: the same metrics,
    results and weights as a run that never stopped. Dropout and augmentation make any lost
    random state show."""
    design = tiny_design(dropout=True, batchnorm=True)
    config = tiny_config(epochs=3, schedule="cosine")
    _, whole_end = run(design, config, tmp_path / "whole")

    control = TrainingControl()
    if where == "after_epoch":
        stop = _cancel_at(control, lambda e: isinstance(e, EpochEvent) and e.epoch == 1)
    else:
        stop = _cancel_at(
            control, lambda e: isinstance(e, StepEvent) and e.epoch == 2 and e.batch == 4
        )
    first = Trainer(design, config, tmp_path / "split", control=control).run_to_end(stop)
    assert first.status == "cancelled"
    assert RunDir(tmp_path / "split").read_json("result.json")["status"] == "cancelled"

    resumed = Trainer(design, None, tmp_path / "split", resume=True)
    events = list(resumed.events())
    start, end = events[0], events[-1]
    assert (start.start_epoch, start.start_batch) == ((1, 0) if where == "after_epoch" else (1, 4))
    assert end.status == "completed" and end.epochs_run == 3

    whole, split = RunDir(tmp_path / "whole"), RunDir(tmp_path / "split")
    assert without_times(split.read_metrics()) == without_times(whole.read_metrics())
    assert (end.test_loss, end.test_accuracy, end.confusion, end.test) == (
        whole_end.test_loss,
        whole_end.test_accuracy,
        whole_end.confusion,
        whole_end.test,
    )
    a, b = load_file(whole.file("last.safetensors")), load_file(split.file("last.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_finished_runs_changed_settings_and_changed_designs(design, tmp_path):
    config = tiny_config(epochs=1)
    run(design, config, tmp_path / "done")
    with pytest.raises(TrainingError, match="has finished"):
        Trainer(design, None, tmp_path / "done", resume=True)

    control = TrainingControl()
    Trainer(design, config, tmp_path / "stopped", control=control).run_to_end(
        _cancel_at(control, lambda e: isinstance(e, StepEvent))
    )
    with pytest.raises(TrainingError, match="started with lr=0.01"):
        Trainer(design, config.with_changes(lr=0.5), tmp_path / "stopped", resume=True)
    other = tiny_design(dropout=False)
    with pytest.raises(TrainingError, match="design differs"):
        Trainer(other, None, tmp_path / "stopped", resume=True)
    with pytest.raises(TrainingError, match="no training run to resume"):
        Trainer(design, None, tmp_path / "nothing", resume=True)


def test_a_new_run_never_overwrites_an_existing_one(design, tmp_path):
    run(design, tiny_config(epochs=1), tmp_path / "run")
    before = (tmp_path / "run" / "metrics.jsonl").read_bytes()
    with pytest.raises(TrainingError, match="holds a training run already"):
        Trainer(design, tiny_config(epochs=1), tmp_path / "run")
    assert (tmp_path / "run" / "metrics.jsonl").read_bytes() == before


def test_divergence_stops_at_once_and_keeps_the_last_good_weights(tmp_path):
    # Plain SGD on MSE at a learning rate past the stable limit: the loss grows geometrically
    # and overflows after two good epochs.
    design = chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    config = tiny_config(
        optimizer="sgd", lr=2.0, loss="mse", epochs=30, augmentation={}, init="xavier"
    )
    events, end = run(design, config, tmp_path / "run")
    assert end.status == "diverged" and "lower" in end.message and "learning rate" in end.message
    assert end.epochs_run >= 1 and end.test_accuracy is None
    last_step = [e for e in events if isinstance(e, StepEvent)][-1]
    assert math.isfinite(last_step.loss)  # the bad step is not reported as a step
    rd = RunDir(tmp_path / "run")
    assert rd.read_json("result.json")["status"] == "diverged"
    state = rd.load_checkpoint()
    assert state["epoch"] == end.epochs_run
    weights = load_file(rd.file("last.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values())
    assert all(torch.equal(weights[k], state["model"][k]) for k in weights)


def test_early_stopping_on_validation_loss(design, tmp_path):
    # A learning rate too small to move float32 weights: the validation loss never improves.
    config = tiny_config(
        optimizer="sgd", lr=1e-12, epochs=20, early_stopping_patience=2, augmentation={}
    )
    _, end = run(tiny_design(dropout=False), config, tmp_path / "run")
    assert end.status == "early_stopped" and end.epochs_run == 3
    assert "2 epoch" in end.message


def test_frozen_nodes_and_zero_multipliers_do_not_change(tmp_path):
    design = tiny_design(dropout=False, batchnorm=True)
    conv = next(n for n in design.nodes.values() if n.type == "Conv2d")
    bn = next(n for n in design.nodes.values() if n.type == "BatchNorm")
    linear = next(n for n in design.nodes.values() if n.type == "Linear")
    conv.trainable = False
    bn.trainable = False
    trainer = Trainer(design, tiny_config(epochs=1), tmp_path / "run")
    model = trainer.net.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.run_to_end()
    after = model.state_dict()
    names = trainer.net.code.module_names
    frozen = [k for k in before if k.split(".")[0] in (names[conv.id], names[bn.id])]
    assert any("running_mean" in k for k in frozen) and any(k.endswith("weight") for k in frozen)
    for key in frozen:  # frozen BatchNorm keeps its running statistics too
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(
        before[names[linear.id] + ".weight"], after[names[linear.id] + ".weight"]
    )


def test_learning_rate_multipliers_become_parameter_groups(tmp_path):
    design = tiny_design(dropout=False)
    linear = next(n for n in design.nodes.values() if n.type == "Linear")
    linear.lr_mult = 0.25
    trainer = Trainer(design, tiny_config(epochs=1, schedule="constant", lr=0.01), tmp_path / "run")
    groups = trainer.net.optimizer.param_groups
    assert sorted(g["lr_mult"] for g in groups) == [0.25, 1.0]
    linear_params = {
        id(p)
        for p in getattr(trainer.net.model, trainer.net.code.module_names[linear.id]).parameters()
    }
    slow = next(g for g in groups if g["lr_mult"] == 0.25)
    assert {id(p) for p in slow["params"]} == linear_params
    trainer.run_to_end()
    assert [g["lr"] for g in sorted(groups, key=lambda g: g["lr_mult"])] == pytest.approx(
        [0.0025, 0.01]
    )


def test_class_count_mismatch_is_an_error_before_training(tmp_path):
    design = tiny_design(num_classes=5)
    with pytest.raises(TrainingError) as info:
        Trainer(design, tiny_config(), tmp_path / "run")
    assert "10 classes" in str(info.value) and "5" in str(info.value)
    assert not (tmp_path / "run").exists()


def test_regression_head_with_one_output_trains_with_mse(tmp_path):
    design = chain(
        "Flatten",
        ("Linear", {"out_features": 16}),
        "ReLU",
        ("Linear", {"out_features": 1}),
        input_shape=(1, 8, 8),
        task="regression",
        num_classes=1,
    )
    _, end = run(design, tiny_config(epochs=2, lr=0.01), tmp_path / "run")
    assert end.status == "completed" and end.test_loss < 8.0  # the labels' variance is about 8.3
    assert len(end.confusion) == 10


def test_pause_and_resume_do_not_change_the_results(design, tmp_path):
    config = tiny_config(epochs=2)
    _, plain = run(design, config, tmp_path / "plain")
    control = TrainingControl()
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, StepEvent) and event.step == 3:
            control.pause()
            threading.Timer(0.2, control.resume).start()

    end = Trainer(design, config, tmp_path / "paused", control=control).run_to_end(on_event)
    third = next(i for i, e in enumerate(seen) if isinstance(e, StepEvent) and e.step == 3)
    after = seen[third + 1 : third + 4]
    assert [getattr(e, "state", None) for e in after[:2]] == ["paused", "running"]
    assert isinstance(after[2], StepEvent) and after[2].step == 4
    assert sum(isinstance(e, StateEvent) for e in seen) == 2
    assert (end.test_loss, end.test_accuracy) == (plain.test_loss, plain.test_accuracy)


def test_setting_problems_are_reported_before_anything_is_written(design, tmp_path):
    with pytest.raises(TrainingError, match="unknown data source 'nowhere'"):
        Trainer(design, tiny_config(dataset="nowhere"), tmp_path / "run")
    with pytest.raises(TrainingError, match="no such file"):
        Trainer(design, tiny_config(), tmp_path / "run", weights=tmp_path / "missing.safetensors")
    assert not (tmp_path / "run").exists()


def test_starting_from_weights(design, tmp_path):
    from designer.interop.weights import save_weights

    source = compile_design(design)
    with torch.no_grad():
        for p in source.parameters():
            p.fill_(0.01)
    save_weights(source, tmp_path / "w.safetensors")
    trainer = Trainer(
        design, tiny_config(epochs=1), tmp_path / "run", weights=tmp_path / "w.safetensors"
    )
    assert all(torch.all(p == 0.01) for p in trainer.net.model.parameters())
    events = list(trainer.events())
    assert any(e.kind == "log" and "w.safetensors" in e.message for e in events)


def test_fixed_normalization_statistics(tmp_path):
    config = tiny_config(epochs=1, preprocessing={"mean": [0.25], "std": [0.5]}, augmentation={})
    trainer = Trainer(tiny_design(), config, tmp_path / "run")
    plain = Trainer(tiny_design(), tiny_config(epochs=1, augmentation={}), tmp_path / "plain")
    assert torch.allclose(trainer.data.train_x, (plain.data.train_x - 0.25) / 0.5)
    saved = RunDir(tmp_path / "run").read_json("data.json")["stats"]
    assert saved["mean"] == [[[0.25]]] and saved["std"] == [[[0.5]]]
    with pytest.raises(TrainingError, match="have 3 values but the images have 1 channel"):
        Trainer(
            tiny_design(),
            tiny_config(preprocessing={"mean": [0.1, 0.2, 0.3], "std": [1, 1, 1]}),
            tmp_path / "x",
        )


def test_a_one_class_dataset_is_refused_without_advising_one_output(tmp_path):
    import numpy as np

    from designer.training.model import TrainingError
    from tests.data.conftest import write_png

    for i in range(6):
        write_png(tmp_path / "data" / "cats" / f"{i}.png", np.full((8, 8), 40 * i, np.uint8))
    config = tiny_config(dataset=f"folder:{tmp_path / 'data'}", epochs=1, augmentation={})
    with pytest.raises(TrainingError) as caught:
        Trainer(tiny_design(), config, tmp_path / "run")
    message = str(caught.value)
    assert "only 1 class" in message and "output size to 1" not in message
