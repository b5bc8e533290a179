"""The standalone training script (`netdesigner export --train-script OUT.py`), and the training
recipe it shares with the engine.

The recipe (loss, accuracy, initialization, parameter groups, optimizer, learning-rate schedule)
is written once, below, as plain functions that need only torch and math. The engine
(designer.training) calls them; render_train_script() copies their source into the script with
inspect.getsource, so a design trains the same way in the app and on a cluster.
Keep these functions standalone: no designer imports, no module-level names but torch, nn, F, math.
"""

from __future__ import annotations

import ast
import inspect
import math
import pprint
import textwrap

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("cross_entropy", "binary_cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "linear", "cosine", "cyclic", "plateau")
INITS = ("he", "xavier", "pytorch")


# ---- the recipe: embedded in the exported script ----------------------------------------------

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
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=s["rmsprop_alpha"], eps=s["eps"], momentum=momentum,
                                   weight_decay=wd)
    betas = (s["beta1"], s["beta2"])
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=betas, eps=s["eps"], weight_decay=wd)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=s["eps"], weight_decay=wd)


class LrSchedule:
    """The learning rate of every optimizer step.

    A linear warm-up over the first warmup_epochs, then: constant; step (times gamma every
    step_size epochs); exponential (times gamma after every epoch); linear or cosine (from lr
    down to min_lr over the remaining steps); cyclic (Smith's triangular policy: up from min_lr to lr and
    back, each way over cycle_epochs); plateau (times plateau_factor when the validation loss has
    not improved for plateau_patience epochs). Per step, so resuming needs only the step number
    and the plateau state.
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
        return {"plateau_scale": self.plateau_scale, "best_loss": self.best_loss, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.plateau_scale = float(state["plateau_scale"])
        self.best_loss = float(state["best_loss"])
        self.bad_epochs = int(state["bad_epochs"])


RECIPE = (loss_targets, compute_loss, predict_classes, init_weights, param_groups, make_optimizer, LrSchedule)


# ---- the script ---------------------------------------------------------------------------------

def model_source(source: str) -> tuple[list[str], str]:
    """The generated model code split into its import lines and the rest, without its module
    docstring and `__main__` block."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    imports: list[str] = []
    for i, node in enumerate(tree.body):
        span = range(node.lineno - 1, node.end_lineno)
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            drop.update(span)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.extend(lines[j] for j in span)
            drop.update(span)
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            drop.update(span)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return imports, "\n".join(kept).strip("\n") + "\n"


def render_train_script(code, settings: dict, node_settings: dict, num_classes: int | None,
                        design_name: str) -> str:
    """The standalone training script for a design.

    code: the design's GeneratedCode; settings: a training configuration as a plain dict (the
    engine's TrainConfig.to_dict(), with the loss resolved); node_settings: submodule attribute ->
    {"trainable", "lr_mult"} for the nodes that differ from the defaults; num_classes: the
    number of classes the data must have (None: not checked, e.g. for a regression head).
    """
    recipe = "\n\n".join(textwrap.dedent(inspect.getsource(obj)).strip("\n") for obj in RECIPE)
    safe_name = "".join(c for c in design_name if c.isprintable() and c not in '"\\') or code.class_name
    imports, model = model_source(code.source)
    header = _TEMPLATE.split("\n\n# ---- the model", 1)[0].splitlines()
    extra = [line for line in imports if line not in header]  # what the model needs beyond the script's imports
    text = _TEMPLATE
    for key, value in {
        "@NAME@": safe_name,
        "@IMPORTS@\n": "".join(line + "\n" for line in extra),
        "@MODEL@": model.strip("\n"),
        "@SETTINGS@": _literal(settings),
        "@NODES@": _literal(node_settings),
        "@INPUT_SHAPE@": repr(tuple(code.input_shape)),
        "@NUM_CLASSES@": repr(num_classes),
        "@RECIPE@": recipe,
    }.items():
        text = text.replace(key, value)
    return text


def _literal(value) -> str:
    """A readable Python literal of JSON-ready data (str, numbers, bools, None, lists, dicts)."""
    return pprint.pformat(value, indent=4, width=100, sort_dicts=False)


_TEMPLATE = r'''"""Train "@NAME@": a standalone script exported by Network Designer.

Needs only PyTorch and torchvision (plus scikit-learn for --data digits, the 8x8 digits that
ship with scikit-learn; it is imported only for that source). The model code and the training
settings chosen in Network Designer are embedded below.

One process:
    python THIS.py --data digits --epochs 10 --out run
Several processes (DistributedDataParallel; gloo on CPU, nccl on GPU), e.g. 4 on one machine:
    torchrun --standalone --nproc-per-node=4 THIS.py --data digits --out run
Each process trains on its share of every epoch (DistributedSampler) with batch size
batch_size / processes, so the effective batch size stays as set; rank 0 writes the outputs:
    OUT/last.pt, OUT/best.pt   state_dicts (torch.load(..., weights_only=True); load into build_model())
    OUT/metrics.jsonl          one JSON object per epoch
    OUT/result.json            final test loss and accuracy

--data: digits, mnist, fashion_mnist, cifar10, cifar100 (torchvision downloads them into
--data-dir when online) or the path of a folder with one subfolder of images per class.
"""

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler
@IMPORTS@

# ---- the model (generated by Network Designer) --------------------------------------------------

@MODEL@


# ---- the settings --------------------------------------------------------------------------------

INPUT_SHAPE = @INPUT_SHAPE@
NUM_CLASSES = @NUM_CLASSES@
SETTINGS = @SETTINGS@
# Nodes that are frozen or learn at a different rate: submodule -> {"trainable", "lr_mult"}.
NODE_SETTINGS = @NODES@


# ---- the training recipe (the same functions Network Designer trains with) -----------------------

@RECIPE@


# ---- data ----------------------------------------------------------------------------------------

def load_images(source, data_dir, image_size):
    """uint8 N x C x H x W images and int64 labels: (train_x, train_y, test_x, test_y, classes);
    test_x is None when the source has no test split of its own."""
    name = source.lower().replace("-", "_")
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise SystemExit("--data digits needs scikit-learn: pip install scikit-learn") from None
        bunch = load_digits()
        images = (torch.from_numpy(bunch.images).float() * (255 / 16)).round().to(torch.uint8)
        return images.unsqueeze(1), torch.from_numpy(bunch.target).long(), None, None, 10
    import torchvision

    if name in ("mnist", "fashion_mnist", "cifar10", "cifar100"):
        cls = {"mnist": torchvision.datasets.MNIST, "fashion_mnist": torchvision.datasets.FashionMNIST,
               "cifar10": torchvision.datasets.CIFAR10, "cifar100": torchvision.datasets.CIFAR100}[name]
        splits = []
        for train in (True, False):
            ds = cls(str(data_dir), train=train, download=True)
            x = torch.as_tensor(ds.data)
            x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
            splits += [x.contiguous(), torch.as_tensor(ds.targets).long()]
        return (*splits, len(ds.classes))
    folder = Path(source[len("folder:"):] if source.startswith("folder:") else source).expanduser()
    if not folder.is_dir():
        raise SystemExit(f"--data {source}: not a known dataset nor a folder of class subfolders")
    from torchvision.transforms import v2

    # ImageFolder's loader gives RGB; to_float() converts to the model's channels.
    to_tensor = v2.Compose([v2.PILToTensor(), v2.Resize(list(image_size), antialias=True)])
    ds = torchvision.datasets.ImageFolder(str(folder), transform=to_tensor)
    images, labels = zip(*ds)
    return torch.stack(images), torch.tensor(labels), None, None, len(ds.classes)


def to_float(images, shape, rescale):
    """uint8 images -> float C x H x W of the model's input: channels matched, resized, rescaled."""
    c, h, w = shape
    x = images.float()
    if x.shape[1] == 1 and c == 3:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] == 3 and c == 1:
        x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    if tuple(x.shape[-2:]) != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    return x * rescale


def image_shape():
    """C x H x W of the images: the input itself, or the square image a vector input unflattens to."""
    if len(INPUT_SHAPE) == 3:
        return INPUT_SHAPE
    n = INPUT_SHAPE[0]
    for c in (1, 3):
        side = math.isqrt(n // c)
        if c * side * side == n:
            return (c, side, side)
    raise SystemExit(f"a vector input of {n} features is not an image of c x side x side values")


def split(labels, val_fraction, test_fraction, seed):
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_val, n_test = round(len(labels) * val_fraction), round(len(labels) * test_fraction)
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]


def augmentation(s, shape):
    """Per-sample random transforms (torchvision v2) for the settings' augmentation knobs."""
    from torchvision.transforms import v2

    a = s["augmentation"]
    fill = {"constant": "constant", "nearest": "edge", "reflect": "reflect"}[a.get("fill_mode", "constant")]
    steps = []
    if a.get("horizontal_flip"):
        steps.append(v2.RandomHorizontalFlip())
    if a.get("vertical_flip"):
        steps.append(v2.RandomVerticalFlip())
    if a.get("crop_padding"):
        steps.append(v2.RandomCrop(list(shape[1:]), padding=a["crop_padding"], padding_mode=fill))
    rotation, shear, zoom = a.get("rotation_range", 0), a.get("shear_range", 0), a.get("zoom_range", 0)
    shift = (a.get("width_shift_range", 0), a.get("height_shift_range", 0))
    if rotation or shear or zoom or any(shift):
        steps.append(v2.RandomAffine(degrees=rotation, translate=shift if any(shift) else None,
                                     scale=(1 - zoom, 1 + zoom) if zoom else None,
                                     shear=shear or None))
    if a.get("brightness_range") or a.get("contrast_range"):
        steps.append(v2.ColorJitter(brightness=a.get("brightness_range", 0), contrast=a.get("contrast_range", 0)))
    if a.get("channel_shift_range"):
        r = a["channel_shift_range"]
        steps.append(lambda x: x + (torch.rand(x.shape[0], 1, 1) * 2 - 1) * r)
    return v2.Compose(steps) if steps else None


class Images(Dataset):
    """Rescaled images in memory; augmented per sample, then normalized."""

    def __init__(self, x, y, mean, std, transform=None):
        self.x, self.y, self.mean, self.std, self.transform = x, y, mean, std, transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x = self.x[i]
        if self.transform is not None:
            x = self.transform(x)
        x = (x - self.mean) / self.std
        return x.reshape(INPUT_SHAPE), self.y[i]


def prepare(args, s):
    shape = image_shape()
    pre = s["preprocessing"]
    train_x, train_y, test_x, test_y, classes = load_images(args.data, args.data_dir, shape[1:])
    if NUM_CLASSES is not None and classes != NUM_CLASSES:
        raise SystemExit(f"the data has {classes} classes but the model's head has {NUM_CLASSES}")
    own_test = test_x is not None
    tr, va, te = split(train_y, s["val_fraction"], 0.0 if own_test else s["test_fraction"], s["split_seed"])
    if not own_test:
        test_x, test_y = train_x[te], train_y[te]
    val_x, val_y = train_x[va], train_y[va]
    train_x, train_y = train_x[tr], train_y[tr]
    train_x, val_x, test_x = (to_float(x, shape, pre["rescale"]) for x in (train_x, val_x, test_x))
    # Statistics from the training split only (as Network Designer fits them).
    mean_image = train_x.mean(0)
    mean_pixel = mean_image.mean((1, 2), keepdim=True)
    mean = {"mean_image": mean_image, "mean_pixel": mean_pixel}.get(pre["center"], torch.zeros(shape[0], 1, 1))
    std = torch.ones(shape[0], 1, 1)
    if pre["standardize"]:
        around = mean_image if pre["center"] == "mean_image" else mean_pixel
        std = (train_x - around).pow(2).mean((0, 2, 3)).sqrt().clamp_min(1e-7).view(-1, 1, 1)
    if pre.get("mean") is not None:  # fixed statistics (e.g. ImageNet's) instead of fitted ones
        mean = torch.tensor(pre["mean"]).expand(shape[0]).reshape(-1, 1, 1)
        std = torch.tensor(pre["std"]).expand(shape[0]).reshape(-1, 1, 1)
    return (Images(train_x, train_y, mean, std, augmentation(s, shape)),
            Images(val_x, val_y, mean, std), Images(test_x, test_y, mean, std))


# ---- training ------------------------------------------------------------------------------------

def evaluate(model, dataset, loss_kind, device, rank, world):
    """Loss and accuracy over this process's share (every world-th sample), summed over processes."""
    model.eval()
    share = torch.utils.data.Subset(dataset, range(rank, len(dataset), world))
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    with torch.no_grad():
        for x, y in DataLoader(share, batch_size=512):
            x, y = x.to(device), y.to(device)
            out = model(x)
            totals += torch.tensor([compute_loss(loss_kind, out, y).item() * len(y),
                                    (predict_classes(loss_kind, out) == y).sum().item(), len(y)],
                                   dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(totals)
    loss_sum, correct, count = totals.tolist()
    return (loss_sum / count, correct / count) if count else (None, None)


def diverged(loss, world):
    """True when the loss is NaN or infinite in any process."""
    bad = torch.tensor([0.0 if torch.isfinite(loss) else 1.0], device=loss.device)
    if world > 1:
        dist.all_reduce(bad)
    return bad.item() > 0


def main():
    s = SETTINGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=s["dataset"], help="digits, mnist, fashion_mnist, cifar10, cifar100 or a folder")
    parser.add_argument("--data-dir", default=os.environ.get("NETDESIGNER_DATA", "data"),
                        help="where torchvision keeps (and downloads) the named datasets")
    parser.add_argument("--epochs", type=int, default=s["epochs"])
    parser.add_argument("--batch-size", type=int, default=s["batch_size"], help="across all processes")
    parser.add_argument("--lr", type=float, default=s["lr"])
    parser.add_argument("--seed", type=int, default=s["seed"])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--workers", type=int, default=0, help="data loader worker processes per process")
    parser.add_argument("--out", default="run", help="folder for weights and metrics")
    args = parser.parse_args()
    s = dict(s, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    device = torch.device(f"cuda:{local_rank}" if args.device == "cuda" else args.device)
    if world > 1:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    torch.manual_seed(s["seed"])

    train_set, val_set, test_set = prepare(args, s)
    model = build_model()
    init_weights(model, s["init"])
    model.to(device)
    groups, frozen = param_groups(model, NODE_SETTINGS)
    optimizer = make_optimizer(groups, s)
    core = model
    if world > 1:
        model = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)

    per_process = max(1, s["batch_size"] // world)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=s["seed"])
    loader = DataLoader(train_set, batch_size=per_process, sampler=sampler, num_workers=args.workers)
    schedule = LrSchedule(s, len(loader))
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
    best_val, bad_epochs, step, status, started = math.inf, 0, 0, "completed", time.perf_counter()
    for epoch in range(s["epochs"]):
        tick = time.perf_counter()
        sampler.set_epoch(epoch)
        model.train()
        for module in frozen:
            module.eval()
        totals = torch.zeros(3, dtype=torch.float64, device=device)
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            lr = schedule.lr(step)
            for group in optimizer.param_groups:
                group["lr"] = lr * group["lr_mult"]
            output = model(x)
            loss = compute_loss(s["loss"], output, y)
            if diverged(loss, world):  # decided together: a rank that stopped alone would hang the others
                status = "diverged"
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if s["grad_clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), s["grad_clip"])
            optimizer.step()
            step += 1
            with torch.no_grad():
                correct = (predict_classes(s["loss"], output) == y).sum().item()
                totals += torch.tensor([loss.item() * len(y), correct, len(y)], dtype=torch.float64, device=device)
        if status == "diverged":
            if rank == 0:
                print(f"the loss is not finite at epoch {epoch + 1}: the learning rate ({s['lr']:g}) "
                      f"is probably too high; try a lower one, e.g. {s['lr'] / 10:g}")
            break
        if world > 1:
            dist.all_reduce(totals)
        val_loss, val_accuracy = evaluate(core, val_set, s["loss"], device, rank, world)
        schedule.end_epoch(val_loss)
        record = {"epoch": epoch + 1, "train_loss": totals[0].item() / totals[2].item(),
                  "train_accuracy": totals[1].item() / totals[2].item(), "val_loss": val_loss,
                  "val_accuracy": val_accuracy, "lr": lr, "seconds": time.perf_counter() - tick}
        improved = val_loss is not None and val_loss < best_val
        if rank == 0:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            print(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()),
                  flush=True)
            torch.save(core.state_dict(), out / "last.pt")
            if improved or val_loss is None:
                torch.save(core.state_dict(), out / "best.pt")
        if improved:
            best_val, bad_epochs = val_loss, 0
        else:
            bad_epochs += 1
            if s["early_stopping_patience"] and bad_epochs >= s["early_stopping_patience"]:
                status = "early_stopped"
                break
    test_loss, test_accuracy = (None, None) if status == "diverged" else evaluate(
        core, test_set, s["loss"], device, rank, world)
    if rank == 0:
        result = {"status": status, "test_loss": test_loss, "test_accuracy": test_accuracy,
                  "processes": world, "seconds": time.perf_counter() - started}
        (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result))
    if world > 1:
        dist.barrier()  # no process tears the group down while another still uses it
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
