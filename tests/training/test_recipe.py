"""The training recipe shared by the engine and the exported script: schedules, initialization,
parameter groups, optimizers and losses, on real modules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from designer.training.config import TrainConfig
from designer.training.recipe import (
    LrSchedule,
    compute_loss,
    init_weights,
    is_better,
    make_optimizer,
    param_groups,
    predict_classes,
    start_model,
)


def schedule(steps_per_epoch=10, **changes):
    settings = TrainConfig.from_dict({"lr": 0.1, "epochs": 10, **changes}).to_dict()
    return LrSchedule(settings, steps_per_epoch)


def test_constant_step_and_exponential():
    assert {schedule().lr(s) for s in range(100)} == {0.1}
    step = schedule(schedule="step", step_size=3, gamma=0.5)
    assert [step.lr(e * 10) for e in (0, 2, 3, 5, 6, 9)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])
    assert step.lr(29) == step.lr(20)  # changes only at epoch boundaries
    exp = schedule(schedule="exponential", gamma=0.9)
    assert [exp.lr(e * 10 + 5) for e in range(4)] == pytest.approx([0.1 * 0.9**e for e in range(4)])


def test_cosine_with_warmup():
    s = schedule(schedule="cosine", min_lr=0.01, warmup_epochs=2)  # 20 warm-up steps of 100
    assert [s.lr(i) for i in (0, 9, 19)] == pytest.approx([0.1 / 20, 0.1 / 2, 0.1])
    assert s.lr(20) == pytest.approx(0.1)
    assert s.lr(60) == pytest.approx(0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert s.lr(100) == pytest.approx(0.01)


def test_linear_decay():
    s = schedule(schedule="linear", min_lr=0.02)
    assert [s.lr(i) for i in (0, 50, 100)] == pytest.approx([0.1, 0.06, 0.02])


def test_cyclic_is_smiths_triangle():
    s = schedule(schedule="cyclic", min_lr=0.02, cycle_epochs=2)  # half cycle: 20 steps
    assert [s.lr(i) for i in (0, 10, 20, 30, 40, 50)] == pytest.approx([0.02, 0.06, 0.1, 0.06, 0.02, 0.06])


def test_plateau_lowers_after_patience_and_round_trips():
    s = schedule(schedule="plateau", plateau_patience=1, plateau_factor=0.5)
    for loss in (1.0, 0.9, 0.95):  # improving, then one bad epoch: within patience
        s.end_epoch(loss)
    assert s.lr(0) == pytest.approx(0.1)
    s.end_epoch(0.95)  # the second bad epoch
    assert s.lr(0) == pytest.approx(0.05)
    copy = schedule(schedule="plateau", plateau_patience=1, plateau_factor=0.5)
    copy.load_state_dict(s.state_dict())
    assert copy.lr(0) == s.lr(0) and copy.state_dict() == s.state_dict()


def test_he_and_xavier_initialization():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(16, 64, 3), nn.Flatten(), nn.Linear(4096, 256))
    init_weights(model, "he")
    conv, linear = model[0], model[2]
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.05)
    assert linear.weight.std().item() == pytest.approx(math.sqrt(2 / 4096), rel=0.05)
    assert torch.all(linear.bias == 0)
    init_weights(model, "xavier")
    bound = math.sqrt(6 / (4096 + 256))
    assert linear.weight.abs().max().item() <= bound and linear.weight.std().item() == pytest.approx(
        bound / math.sqrt(3), rel=0.05)
    before = linear.weight.clone()
    init_weights(model, "pytorch")
    assert torch.equal(before, linear.weight)


def test_param_groups_freeze_and_multiply():
    model = nn.Sequential()
    model.add_module("a", nn.Linear(3, 3))
    model.add_module("b", nn.Linear(3, 3))
    model.add_module("c", nn.Linear(3, 3))
    groups, frozen = param_groups(model, {"a": {"trainable": False, "lr_mult": 1.0},
                                          "b": {"trainable": True, "lr_mult": 0.1},
                                          "c": {"trainable": True, "lr_mult": 0.0}})
    assert frozen == [model.a]
    assert not any(p.requires_grad for p in [*model.a.parameters(), *model.c.parameters()])
    assert [(g["lr_mult"], len(g["params"])) for g in groups] == [(0.1, 2)]
    with pytest.raises(ValueError, match="nothing to train"):
        make_optimizer([], TrainConfig().to_dict())


@pytest.mark.parametrize("name, cls, momentum", [
    ("sgd", torch.optim.SGD, 0.0), ("momentum", torch.optim.SGD, 0.9), ("nesterov", torch.optim.SGD, 0.9),
    ("rmsprop", torch.optim.RMSprop, 0.0), ("adam", torch.optim.Adam, None), ("adamw", torch.optim.AdamW, None)])
def test_optimizers_and_their_default_momentum(name, cls, momentum):
    params = [nn.Parameter(torch.zeros(2))]
    opt = make_optimizer([{"params": params, "lr_mult": 1.0}],
                         TrainConfig(optimizer=name, lr=0.3, weight_decay=1e-4).to_dict())
    group = opt.param_groups[0]
    assert isinstance(opt, cls) and group["lr"] == 0.3 and group["weight_decay"] == 1e-4
    if momentum is not None:
        assert group["momentum"] == momentum
    if cls is torch.optim.SGD:
        assert group["nesterov"] == (name == "nesterov")


def test_sgd_with_an_explicit_momentum():
    opt = make_optimizer([{"params": [nn.Parameter(torch.zeros(2))], "lr_mult": 1.0}],
                         TrainConfig(optimizer="sgd", momentum=0.95).to_dict())
    assert opt.param_groups[0]["momentum"] == 0.95


def test_losses_and_predictions():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    labels = torch.tensor([0, 2])
    assert compute_loss("cross_entropy", logits, labels) == pytest.approx(
        nn.functional.cross_entropy(logits, labels).item())
    one_hot = torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])
    assert compute_loss("binary_cross_entropy", logits, labels) == pytest.approx(
        nn.functional.binary_cross_entropy_with_logits(logits, one_hot).item())
    assert compute_loss("mse", logits, labels) == pytest.approx(nn.functional.mse_loss(logits, one_hot).item())
    assert predict_classes("cross_entropy", logits).tolist() == [0, 1]
    single = torch.tensor([[1.7], [-0.2]])
    assert predict_classes("mse", single).tolist() == [2, 0]
    assert predict_classes("binary_cross_entropy", single).tolist() == [1, 0]


def test_start_model_is_seeded_and_loaded_weights_replace_the_initialization():
    settings = TrainConfig(seed=5, init="xavier").to_dict()

    def build():
        return nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))

    nodes = {"0": {"trainable": True, "lr_mult": 0.5}}
    a, frozen, optimizer = start_model(build, settings, nodes, torch.device("cpu"))
    b, _, _ = start_model(build, settings, nodes, torch.device("cpu"))
    assert torch.equal(a[0].weight, b[0].weight) and torch.all(a[0].bias == 0)  # xavier: zero bias
    assert frozen == [] and [g["lr_mult"] for g in optimizer.param_groups] == [0.5]
    assert isinstance(optimizer, torch.optim.Adam)
    c, _, _ = start_model(build, settings, nodes, torch.device("cpu"),
                          lambda model: model.load_state_dict(a.state_dict()))
    assert torch.equal(c[0].weight, a[0].weight) and torch.equal(c[0].bias, a[0].bias)
    d, _, _ = start_model(build, {**settings, "seed": 6}, nodes, torch.device("cpu"))
    assert not torch.equal(d[0].weight, a[0].weight)


def test_the_best_epoch_has_the_highest_validation_accuracy_then_the_lowest_loss():
    assert is_better(0.9, 0.5, None, None)  # the first epoch
    assert is_better(0.9, 0.6, 0.5, 0.5) and not is_better(0.4, 0.4, 0.5, 0.5)
    assert is_better(0.4, 0.5, 0.5, 0.5) and not is_better(0.6, 0.5, 0.5, 0.5)
    assert is_better(None, None, 0.5, 0.5)  # without a validation split every epoch is the best
