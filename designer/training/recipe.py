"""The training recipe: losses, initialization, parameter groups, optimizers and the
learning-rate schedule, the same for the engine (designer.training.engine) and the exported
training script.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
The functions take the settings as a plain dict (TrainConfig.to_dict(), with the loss
resolved), which is what the script embeds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("cross_entropy", "binary_cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "linear", "cosine", "cyclic", "plateau")
INITS = ("he", "xavier", "pytorch")
# The data generator (order and augmentation of every epoch, see designer.data.batches) is
# seeded with seed + DATA_SEED_OFFSET, so its stream differs from the model's (dropout).
DATA_SEED_OFFSET = 0x5EED


def loss_targets(output, labels):
    """Float targets for BCE/MSE: one-hot when the head gives one output per class, the label
    itself (as a number) for a single output."""
    if output.shape[1] == 1:
        return labels.to(output.dtype).unsqueeze(1)
    return F.one_hot(labels, output.shape[1]).to(output.dtype)


def compute_loss(kind, output, labels):
    """The mean loss of a batch: cross-entropy on logits, BCE on logits, or MSE."""
    if kind == "cross_entropy":
        return F.cross_entropy(output, labels)
    if kind == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(output, loss_targets(output, labels))
    return F.mse_loss(output, loss_targets(output, labels))


def predict_classes(kind, output):
    """Predicted class per sample: the top score, or for a single output its sign (BCE) or its
    rounded value (MSE)."""
    if output.shape[1] == 1:
        if kind == "binary_cross_entropy":
            return (output[:, 0] > 0).long()
        return output[:, 0].round().long()
    return output.argmax(dim=1)


def init_weights(model, scheme):
    """He (Kaiming normal, for ReLU networks) or Xavier (Glorot uniform) weights and zero biases
    for every convolution and linear layer; "pytorch" keeps PyTorch's own initialization."""
    if scheme == "pytorch":
        return
    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, kinds):
                if scheme == "he":
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                else:
                    nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)


def param_groups(model, node_settings):
    """Optimizer parameter groups honouring each node's trainable flag and lr multiplier.

    node_settings: submodule attribute -> {"trainable": bool, "lr_mult": float}. Parameters of
    frozen nodes (or a multiplier of 0) get requires_grad=False and join no group; the others are
    grouped by multiplier, each group carrying its "lr_mult". Returns (groups, frozen modules).
    """
    mult_of = {}
    frozen = []
    for attr, node in node_settings.items():
        module = getattr(model, attr, None)
        if module is None:
            continue
        if not node["trainable"]:
            frozen.append(module)
        for p in module.parameters():
            if not node["trainable"] or node["lr_mult"] == 0:
                p.requires_grad_(False)
            else:
                mult_of[id(p)] = float(node["lr_mult"])
    groups = {}
    for p in model.parameters():
        if p.requires_grad:
            mult = mult_of.get(id(p), 1.0)
            groups.setdefault(mult, {"params": [], "lr_mult": mult})["params"].append(p)
    return list(groups.values()), frozen


def make_optimizer(groups, s):
    """The optimizer named by s["optimizer"], with the settings' learning rate and parameters."""
    name, lr, wd = s["optimizer"], s["lr"], s["weight_decay"]
    if not groups:
        raise ValueError("nothing to train: every layer with parameters is frozen")
    momentum = s["momentum"]
    if momentum is None:  # each optimizer's usual default
        momentum = 0.9 if name in ("momentum", "nesterov") else 0.0
    if name in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=name == "nesterov",
                               weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=s["rmsprop_alpha"], eps=s["eps"],
                                   momentum=momentum, weight_decay=wd)
    betas = (s["beta1"], s["beta2"])
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=betas, eps=s["eps"], weight_decay=wd)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=s["eps"], weight_decay=wd)


def start_model(build_model, s, node_settings, device, load_weights=None):
    """The model a run starts from and its optimizer: (model, frozen modules, optimizer).

    The global RNG is seeded with s["seed"] first, so the same seed gives the same initial
    weights (and after them the same dropout masks). load_weights(model), when given, replaces
    the initialization (fine-tuning, or the design's own weights). node_settings: as for
    param_groups.
    """
    torch.manual_seed(s["seed"])
    model = build_model()
    if load_weights is None:
        init_weights(model, s["init"])
    else:
        load_weights(model)
    model.to(device)
    groups, frozen = param_groups(model, node_settings)
    return model, frozen, make_optimizer(groups, s)


def is_better(val_loss, val_accuracy, best_loss, best_accuracy):
    """Whether an epoch's validation result beats the best so far (the weights kept as best):
    higher accuracy wins, then lower loss. Without a validation split (val_loss None) or a best
    so far (best_loss None), every epoch is the best so far."""
    if val_loss is None or best_loss is None:
        return True
    if val_accuracy is not None and best_accuracy is not None and val_accuracy != best_accuracy:
        return val_accuracy > best_accuracy
    return val_loss < best_loss


class LrSchedule:
    """The learning rate of every optimizer step.

    A linear warm-up over the first warmup_epochs, then: constant; step (times gamma every
    step_size epochs); exponential (times gamma after every epoch); linear or cosine (from lr
    down to min_lr over the remaining steps); cyclic (Smith's triangular policy: up from min_lr
    to lr and back, each way over cycle_epochs); plateau (times plateau_factor when the
    validation loss has not improved for plateau_patience epochs). Per step, so resuming needs
    only the step number and the plateau state.
    """

    def __init__(self, s, steps_per_epoch):
        self.s = s
        self.spe = max(1, int(steps_per_epoch))
        self.total = self.spe * s["epochs"]
        self.warmup = round(s["warmup_epochs"] * self.spe)
        self.plateau_scale = 1.0
        self.best_loss = math.inf
        self.bad_epochs = 0

    def lr(self, step):
        s = self.s
        base, kind = s["lr"], s["schedule"]
        epoch = step // self.spe
        if kind == "step":
            rate = base * s["gamma"] ** (epoch // s["step_size"])
        elif kind == "exponential":
            rate = base * s["gamma"] ** epoch
        elif kind in ("linear", "cosine"):
            span = max(1, self.total - self.warmup)
            t = min(max(step - self.warmup, 0), span) / span
            shape = 1 - t if kind == "linear" else 0.5 * (1 + math.cos(math.pi * t))
            rate = s["min_lr"] + (base - s["min_lr"]) * shape
        elif kind == "cyclic":
            half = max(1, round(s["cycle_epochs"] * self.spe))
            x = abs(step / half - 2 * math.floor(1 + step / (2 * half)) + 1)
            rate = s["min_lr"] + (base - s["min_lr"]) * max(0.0, 1 - x)
        elif kind == "plateau":
            rate = base * self.plateau_scale
        else:
            rate = base
        if step < self.warmup:
            rate *= (step + 1) / self.warmup
        return rate

    def end_epoch(self, val_loss):
        """Plateau bookkeeping after an epoch (a relative improvement of 1e-4 counts)."""
        if self.s["schedule"] != "plateau" or val_loss is None:
            return
        if val_loss < self.best_loss * (1 - 1e-4):
            self.best_loss, self.bad_epochs = val_loss, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.s["plateau_patience"]:
                self.plateau_scale *= self.s["plateau_factor"]
                self.bad_epochs = 0

    def state_dict(self):
        return {"plateau_scale": self.plateau_scale, "best_loss": self.best_loss,
                "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.plateau_scale = float(state["plateau_scale"])
        self.best_loss = float(state["best_loss"])
        self.bad_epochs = int(state["bad_epochs"])
