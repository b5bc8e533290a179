"""Cached features: with everything before a layer frozen and no augmentation, the engine runs the
frozen part once per sample and trains the rest on its stored outputs, with the same numbers as
without the cache; it says so in the log, and only where that is valid."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from designer.core.builder import GraphBuilder
from designer.core.design import Design
from designer.training.control import TrainingControl
from designer.training.engine import Trainer
from designer.training.events import LogEvent, StepEvent
from designer.training.feature_cache import CACHE_DIR
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_config

# 1437 training digits: batches of 359 leave a last batch of one sample, whose kernels differ.
ODD_BATCH = 359


def frozen_stem_design() -> Design:
    """conv1 and bn frozen, then ReLU and max pooling (parameter-free, left trainable), then a
    trained conv2, dropout and the classifier: the cut is after the pooling."""
    design = Design("Frozen stem", input_shape=(1, 8, 8), num_classes=10)
    b = GraphBuilder(design)
    x = b.add("Input", name="input")
    x = b.add("Conv2d", x, name="conv1", out_channels=4, kernel_size=3, padding=1)
    x = b.add("BatchNorm", x, name="bn")
    x = b.add("ReLU", x, name="relu1")
    x = b.add("MaxPool2d", x, name="pool", kernel_size=2)
    x = b.add("Conv2d", x, name="conv2", out_channels=6, kernel_size=3, padding=1)
    x = b.add("ReLU", x, name="relu2")
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Dropout", x, name="dropout", p=0.3)
    x = b.add("Linear", x, name="fc", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    for name in ("conv1", "bn"):
        design.find(name).trainable = False
    return design


def skip_design(skip_from: str) -> Design:
    """Frozen conv_a and conv_b, a trained conv_c, and a skip connection into the Add after
    conv_c: from conv_a (inside the frozen part), or from the input through a trained 1x1
    convolution (around the whole frozen part)."""
    design = Design("Skip", input_shape=(1, 8, 8), num_classes=10)
    b = GraphBuilder(design)
    inp = b.add("Input", name="input")
    a = b.add("Conv2d", inp, name="conv_a", out_channels=4, kernel_size=3, padding=1)
    x = b.add("Conv2d", a, name="conv_b", out_channels=4, kernel_size=3, padding=1)
    x = b.add("Conv2d", x, name="conv_c", out_channels=4, kernel_size=3, padding=1)
    skip = (
        a
        if skip_from == "conv_a"
        else b.add("Conv2d", inp, name="conv_s", out_channels=4, kernel_size=1)
    )
    x = b.add("Add", [x, skip], name="add")
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Linear", x, name="fc", out_features=10)
    b.add("ClassificationOutput", x, name="output")
    for name in ("conv_a", "conv_b"):
        design.find(name).trainable = False
    return design


def no_augmentation(**changes):
    return tiny_config(augmentation={}, **changes)


def train(design, config, path, **kwargs):
    trainer = Trainer(design, config, path, **kwargs)
    events = list(trainer.events())
    assert events[-1].status == "completed", events[-1].message
    logs = [e.message for e in events if isinstance(e, LogEvent)]
    return trainer, logs


def weights(trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.net.model.state_dict().items()}


def test_cached_training_gives_the_same_weights_as_uncached(tmp_path):
    """Bit-identical after one epoch: batch order, dropout masks after the cut, the last batch of
    one sample (computed through the frozen part as it comes) and the validation loss."""
    design = frozen_stem_design()
    config = no_augmentation(epochs=1, batch_size=ODD_BATCH)
    cached, logs = train(design, config, tmp_path / "cached")
    plain, plain_logs = train(design, config.with_changes(cache_features="off"), tmp_path / "plain")

    assert cached.cache is not None and cached.cache.cut.name == "pool"
    assert any("training on cached features" in m and "up to pool" in m for m in logs), logs
    assert not any("cached" in m for m in plain_logs) and plain.cache is None
    a, b = weights(cached), weights(plain)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(
        a["fc.weight"],
        Trainer(design, config, tmp_path / "fresh").net.model.state_dict()["fc.weight"],
    )  # the head did train
    epochs = [RunDir(p).read_metrics()[-1] for p in (tmp_path / "cached", tmp_path / "plain")]
    assert epochs[0]["kind"] == "epoch" and epochs[0]["val_loss"] == epochs[1]["val_loss"]

    stored = list((tmp_path / "cached" / CACHE_DIR).glob("*.safetensors"))
    assert len(stored) == 1
    features = load_file(stored[0])
    assert features["train"].shape == (1437, 4, 4, 4) and features["val"].shape == (180, 4, 4, 4)


def test_a_resumed_cached_run_reads_the_stored_features_and_equals_an_uninterrupted_one(tmp_path):
    design = frozen_stem_design()
    config = no_augmentation(epochs=2, batch_size=128)
    whole, _ = train(design, config, tmp_path / "whole")

    control = TrainingControl()

    def stop(event):
        if isinstance(event, StepEvent) and event.epoch == 2 and event.batch == 3:
            control.cancel()

    first = Trainer(design, config, tmp_path / "split", control=control).run_to_end(stop)
    assert first.status == "cancelled"
    resumed, logs = train(design, None, tmp_path / "split", resume=True)
    assert any("cached features" in m and "read from" in m for m in logs), logs
    a, b = weights(whole), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    strip = [
        {k: v for k, v in r.items() if k != "seconds" and k != "samples_per_second"}
        for r in RunDir(tmp_path / "whole").read_metrics()
    ]
    again = [
        {k: v for k, v in r.items() if k != "seconds" and k != "samples_per_second"}
        for r in RunDir(tmp_path / "split").read_metrics()
    ]
    assert strip == again


def test_augmentation_turns_the_cache_off_and_says_why(tmp_path):
    trainer, logs = train(frozen_stem_design(), tiny_config(epochs=1), tmp_path / "run")
    assert trainer.cache is None
    assert any("not cached" in m and "augmentation" in m for m in logs), logs
    assert not (tmp_path / "run" / CACHE_DIR).exists()


def test_the_cut_is_the_last_layer_every_path_passes_through(tmp_path):
    """A skip connection from conv_a past the frozen conv_b: the features are conv_a's."""
    trainer, logs = train(skip_design("conv_a"), no_augmentation(epochs=1), tmp_path / "run")
    assert trainer.cache is not None and trainer.cache.cut.name == "conv_a"
    assert any("up to conv_a" in m for m in logs), logs


def test_a_connection_around_the_frozen_layers_turns_the_cache_off(tmp_path):
    trainer, logs = train(skip_design("input"), no_augmentation(epochs=1), tmp_path / "run")
    assert trainer.cache is None
    assert any(
        "not cached" in m and "a connection goes around them" in m and "conv_a" in m for m in logs
    ), logs


@pytest.mark.parametrize("conv2_frozen", [False, True])
def test_no_cache_without_a_frozen_start(tmp_path, conv2_frozen):
    """Nothing frozen: nothing said. Only conv2 frozen, after a trained conv1: no cut, and the
    log says why."""
    design = frozen_stem_design()
    for node in design.nodes.values():
        node.trainable = not (conv2_frozen and node.name == "conv2")
    trainer, logs = train(design, no_augmentation(epochs=1), tmp_path / "run")
    assert trainer.cache is None
    assert any("not cached" in m for m in logs) == conv2_frozen, logs
