"""The exported training script's own part: its command line, the named datasets it downloads
with torchvision, and the training loop, for one process or several (DistributedDataParallel).

Needs only PyTorch and torchvision (plus scikit-learn for --data digits, the 8x8 digits that ship
with scikit-learn). The design's model code and training settings are embedded below, with the
functions Network Designer itself trains with (data split, preprocessing, augmentation,
initialization, optimizer, learning-rate schedule), so the same settings and seed give the same
numbers as `netdesigner train`.

One process:
    python THIS.py --data digits --epochs 10 --out run
Several processes (DistributedDataParallel; gloo on CPU, nccl on GPU), e.g. 4 on one machine:
    torchrun --standalone --nproc-per-node=4 THIS.py --data digits --out run
Each process trains on its share of every batch, so the effective batch size stays as set;
rank 0 writes the outputs:
    OUT/last.pt, OUT/best.pt   state_dicts (torch.load(..., weights_only=True), into build_model())
    OUT/metrics.jsonl          one JSON object per epoch
    OUT/result.json            final test loss and accuracy

--data: digits, mnist, fashion_mnist, cifar10, cifar100 (torchvision downloads them into
--data-dir when online), or an image folder with one subfolder per class (PATH or folder:PATH;
unreadable images are skipped).

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from designer.data.augment import Augmentation
from designer.data.batches import batch_count, iterate_batches
from designer.data.data_dir import default_data_dir
from designer.data.digits import load_digits_data
from designer.data.errors import DataError
from designer.data.image_folder import load_image_folder
from designer.data.prepare import PreparedData, folder_image_size, prepare_raw
from designer.data.preprocess import Preprocessing
from designer.data.rawdata import RawData
from designer.training.recipe import (
    DATA_SEED_OFFSET,
    LrSchedule,
    compute_loss,
    is_better,
    predict_classes,
    start_model,
)

# --data name -> torchvision.datasets class
TORCHVISION_DATASETS = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
}
FOLDER_PREFIX = "folder:"
EVAL_BATCH = 512


# ---- data ---------------------------------------------------------------------------------------


def dataset_folder(source: str) -> Path | None:
    """The image folder --data names (PATH or folder:PATH), or None for a dataset name."""
    if source.startswith(FOLDER_PREFIX):
        return Path(source[len(FOLDER_PREFIX) :].strip()).expanduser()
    path = Path(source).expanduser()
    return path if path.is_dir() else None


def loadable(source: str) -> bool:
    """Whether --data names a dataset this script can load: a name it knows or a folder."""
    key = source.strip().lower().replace("-", "_")
    return key == "digits" or key in TORCHVISION_DATASETS or dataset_folder(source) is not None


def load_dataset(source: str, data_dir: Path, image_size: tuple[int, int] | None) -> RawData:
    """digits, a torchvision dataset (downloaded into data_dir when it is not there) or an image
    folder (resized to image_size; unreadable images are skipped and listed in .skipped)."""
    key = source.strip().lower().replace("-", "_")
    if key == "digits":
        return load_digits_data()
    if key in TORCHVISION_DATASETS:
        return load_torchvision_dataset(key, data_dir)
    folder = dataset_folder(source)
    if folder is None:
        known = ", ".join(["digits", *TORCHVISION_DATASETS])
        raise DataError(
            f"--data {source}: not a dataset this script knows ({known}) nor an "
            f"image folder; pass --data PATH, a folder with one subfolder of images "
            f"per class"
        )
    return load_image_folder(folder, image_size)


def load_torchvision_dataset(key: str, data_dir: Path) -> RawData:
    import torchvision

    dataset_class = getattr(torchvision.datasets, TORCHVISION_DATASETS[key])
    tensors = []
    for train in (True, False):
        try:
            dataset = dataset_class(str(data_dir), train=train, download=True)
        except Exception as exc:  # noqa: BLE001 - urllib, tarfile and torchvision: many kinds
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"{key} is not in {data_dir} and could not be downloaded ({reason}); "
                f"pass --data-dir with a folder that has it"
            ) from None
        images = torch.as_tensor(dataset.data)  # N x H x W (MNIST) or N x H x W x 3 (CIFAR)
        images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
        tensors += [images.contiguous(), torch.as_tensor(dataset.targets).long()]
    return RawData(key, list(dataset.classes), *tensors)


def load_data(args, s, input_shape, num_classes, rank, world) -> PreparedData:
    """The data of the run, split and preprocessed as Network Designer does it. Rank 0 loads
    first, so a download happens once."""
    if world > 1 and rank > 0:
        dist.barrier()
    try:
        raw = load_dataset(
            args.data, Path(args.data_dir).expanduser(), folder_image_size(input_shape)
        )
    finally:
        if world > 1 and rank == 0:
            dist.barrier()
    if raw.skipped and rank == 0:
        print(f"note: {len(raw.skipped)} unreadable image(s) skipped, e.g. {raw.skipped[0]}")
    return prepare_raw(
        raw,
        input_shape,
        num_classes=num_classes,
        preprocessing=Preprocessing.from_dict(s["preprocessing"]),
        val_fraction=s["val_fraction"],
        test_fraction=s["test_fraction"],
        seed=s["split_seed"],
    )


# ---- training -----------------------------------------------------------------------------------


def evaluate(model, x, y, loss_kind, device, rank, world):
    """Loss and accuracy of a split in eval mode: this process's share (every world-th sample),
    summed over the processes; (None, None) for an empty split."""
    model.eval()
    x, y = x[rank::world], y[rank::world]
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            xb, yb = (
                x[start : start + EVAL_BATCH].to(device),
                y[start : start + EVAL_BATCH].to(device),
            )
            output = model(xb)
            totals += torch.tensor(
                [
                    compute_loss(loss_kind, output, yb).item() * len(yb),
                    (predict_classes(loss_kind, output) == yb).sum().item(),
                    len(yb),
                ],
                dtype=torch.float64,
                device=device,
            )
    if world > 1:
        dist.all_reduce(totals)
    loss_sum, correct, count = totals.tolist()
    return (loss_sum / count, correct / count) if count else (None, None)


def diverged(loss, world):
    """True when the loss is NaN or infinite in any process (decided together: a process that
    stopped alone would leave the others waiting)."""
    bad = torch.tensor([0.0 if torch.isfinite(loss) else 1.0], device=loss.device)
    if world > 1:
        dist.all_reduce(bad)
    return bad.item() > 0


def train(model, core, frozen, optimizer, data, s, device, rank, world, out):
    """Train for s["epochs"] epochs as Network Designer's engine does; rank 0 writes
    OUT/metrics.jsonl, last.pt and best.pt. Returns the run's status."""
    loss_kind, augmentation = s["loss"], Augmentation.from_dict(s["augmentation"])
    data_rng = torch.Generator().manual_seed(s["seed"] + DATA_SEED_OFFSET)
    schedule = LrSchedule(s, batch_count(len(data.train_x), s["batch_size"], processes=world))
    best = {"val_loss": None, "val_accuracy": None}
    stopping = {"best_loss": math.inf, "bad_epochs": 0}
    step = 0
    for epoch in range(1, s["epochs"] + 1):
        tick = time.perf_counter()
        batches = iterate_batches(
            data.train_x,
            data.train_y,
            s["batch_size"],
            True,
            data_rng,
            augmentation,
            stats=data.stats,
            image_shape=data.image_shape,
            shard=(rank, world),
        )
        model.train()
        for module in frozen:
            module.eval()  # frozen BatchNorm keeps its statistics
        totals = torch.zeros(3, dtype=torch.float64, device=device)
        for xb, yb in batches:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            lr = schedule.lr(step)
            for group in optimizer.param_groups:
                group["lr"] = lr * group["lr_mult"]
            output = model(xb)
            loss = compute_loss(loss_kind, output, yb)
            if diverged(loss, world):
                if rank == 0:
                    print(
                        f"the loss is not finite at epoch {epoch}: the learning rate "
                        f"({s['lr']:g}) is probably too high; try a lower one, e.g. "
                        f"{s['lr'] / 10:g}"
                    )
                return "diverged"
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if s["grad_clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), s["grad_clip"])
            optimizer.step()
            step += 1
            with torch.no_grad():
                correct = (predict_classes(loss_kind, output) == yb).sum().item()
            totals += torch.tensor(
                [loss.item() * len(yb), correct, len(yb)], dtype=torch.float64, device=device
            )
        if world > 1:
            dist.all_reduce(totals)
        val_loss, val_accuracy = evaluate(
            core, data.val_x, data.val_y, loss_kind, device, rank, world
        )
        schedule.end_epoch(val_loss)
        record = {
            "epoch": epoch,
            "train_loss": totals[0].item() / totals[2].item(),
            "train_accuracy": totals[1].item() / totals[2].item(),
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "lr": schedule.lr(max(step - 1, 0)),
            "seconds": time.perf_counter() - tick,
        }
        is_best = is_better(val_loss, val_accuracy, best["val_loss"], best["val_accuracy"])
        if is_best:
            best = {"val_loss": val_loss, "val_accuracy": val_accuracy}
        if rank == 0:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            print(
                " ".join(
                    f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in record.items()
                ),
                flush=True,
            )
            torch.save(core.state_dict(), out / "last.pt")
            if is_best:
                torch.save(core.state_dict(), out / "best.pt")
        if val_loss is not None and val_loss < stopping["best_loss"]:
            stopping = {"best_loss": val_loss, "bad_epochs": 0}
        elif val_loss is not None:
            stopping["bad_epochs"] += 1
        patience = s["early_stopping_patience"]
        if patience and stopping["bad_epochs"] >= patience:
            if rank == 0:
                print(
                    f"stopped early: the validation loss has not improved for {patience} epoch(s)"
                )
            return "early_stopped"
    return "completed"


# ---- the command line ---------------------------------------------------------------------------


def parse_arguments(s, weights, argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=s["dataset"],
        help="digits, mnist, fashion_mnist, cifar10, cifar100 or an image folder",
    )
    parser.add_argument(
        "--data-dir",
        default=s["data_dir"] or str(default_data_dir()),
        help="where torchvision keeps (and downloads) the named datasets",
    )
    parser.add_argument("--epochs", type=int, default=s["epochs"])
    parser.add_argument(
        "--batch-size", type=int, default=s["batch_size"], help="across all processes"
    )
    parser.add_argument("--lr", type=float, default=s["lr"])
    parser.add_argument("--seed", type=int, default=s["seed"])
    parser.add_argument("--device", default=s["device"], help="auto, cpu, cuda, cuda:N or mps")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--weights",
        default=weights,
        help="start from these weights, a state_dict .pt file (default: the "
        "design's own weights, when it has them)",
    )
    start.add_argument(
        "--fresh", action="store_true", help="start from fresh weights even if the design has some"
    )
    parser.add_argument("--out", default="run", help="folder for weights and metrics")
    return parser.parse_args(argv)


def pick_device(name, local_rank):
    """auto: CUDA, then Apple's MPS, then the CPU; "cuda" is each process's own GPU."""
    if name == "auto":
        name = (
            "cuda"
            if torch.cuda.is_available()
            else "mps"
            if torch.backends.mps.is_available()
            else "cpu"
        )
    return torch.device(f"cuda:{local_rank}" if name == "cuda" else name)


def read_weights(path):
    """A function that loads the state_dict in path into a model (strictly), or None."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise SystemExit(
            f"error: the weights file {path} does not exist; pass --fresh to start "
            f"from fresh weights"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the unpickler raises many kinds
        raise SystemExit(f"error: {path} cannot be read as a state_dict: {exc}") from None
    return lambda model: model.load_state_dict(state, strict=True)


def main(build_model, settings, node_settings, input_shape, num_classes, weights=None, argv=None):
    """Train build_model() with the settings: the exported script calls this with the model,
    settings and weights embedded in it; argv: the command line (None: sys.argv)."""
    args = parse_arguments(settings, weights, argv)
    s = {
        **settings,
        "dataset": args.data,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
    }
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if s["batch_size"] < world:
        raise SystemExit(
            f"error: a batch size of {s['batch_size']} cannot be shared by {world} processes"
        )
    device = pick_device(args.device, local_rank)
    if world > 1:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        data = load_data(args, s, input_shape, num_classes, rank, world)
    except DataError as exc:
        raise SystemExit(f"error: {exc}") from None
    load_weights = None if args.fresh else read_weights(args.weights)
    try:
        core, frozen, optimizer = start_model(build_model, s, node_settings, device, load_weights)
    except (RuntimeError, ValueError) as exc:  # weights that do not fit, nothing to train
        raise SystemExit(f"error: {str(exc).strip().splitlines()[0]}") from None
    if rank > 0:
        # Other dropout masks in every process; rank 0 keeps the stream of a one-process run.
        torch.manual_seed(s["seed"] + rank)
    model = core
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        model = DistributedDataParallel(core, device_ids=ids)
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
    started = time.perf_counter()
    status = train(model, core, frozen, optimizer, data, s, device, rank, world, out)
    test_loss, test_accuracy = (
        (None, None)
        if status == "diverged"
        else evaluate(core, data.test_x, data.test_y, s["loss"], device, rank, world)
    )
    if rank == 0:
        result = {
            "status": status,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "processes": world,
            "seconds": time.perf_counter() - started,
        }
        (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result))
    if world > 1:
        dist.barrier()  # no process tears the group down while another still uses it
        dist.destroy_process_group()
