"""Training engine throughput vs a bare hand-written PyTorch loop, measured in the same run.

Same model (the lenet5 template, compiled from its generated code, same initial weights), same
data (digits, prepared once), same batch size and optimizer (Adam, constant learning rate, no
augmentation: this measures the engine's own cost, not the data pipeline's).

Printed:
  training throughput ratio   engine samples/s over bare-loop samples/s while training (the
                              target is >= 0.97): the per-step cost of events, metrics lines,
                              running accuracy, loss average, control checks and lr schedule;
  whole-run ratio             wall time incl. each epoch's validation pass, and for the engine
                              also its checkpoint and weights files (a per-epoch cost that the
                              tiny digits epochs, ~23 steps, make look larger than it is).
Each side runs several times, alternating, and the best time counts (the least disturbed run).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

BATCH = 64
EPOCHS = 6
REPEATS = 5


def _setup():
    from designer.templates import new_from_template
    from designer.training.config import config_for_design
    from designer.training.engine import prepare_for

    design = new_from_template("lenet5")
    config = config_for_design(
        design,
        {
            "epochs": EPOCHS,
            "batch_size": BATCH,
            "optimizer": "adam",
            "lr": 0.001,
            "schedule": "constant",
            "augmentation": {},
            "device": "cpu",
        },
    )
    return design, config, prepare_for(design, config)


def bare_loop(design, config, data) -> tuple[float, float]:
    """A plain loop: shuffle, forward, loss, backward, step; a validation pass per epoch.
    Returns (training seconds, whole-run seconds)."""
    from designer.codegen import compile_design
    from designer.training.recipe import init_weights

    torch.manual_seed(config.seed)
    model = compile_design(design)
    init_weights(model, "he")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    x, y = data.train_x, data.train_y
    train_seconds = 0.0
    start = time.perf_counter()
    for _ in range(EPOCHS):
        tick = time.perf_counter()
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for lo in range(0, len(x), BATCH):
            index = order[lo : lo + BATCH]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        train_seconds += time.perf_counter() - tick
        model.eval()
        with torch.no_grad():
            (model(data.val_x).argmax(1) == data.val_y).float().mean().item()
    return train_seconds, time.perf_counter() - start


def engine_run(design, config, data) -> tuple[float, float]:
    from designer.training.engine import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        trainer = Trainer(design, config, Path(tmp) / "run", data=data, evaluate_test=False)
        seconds = [0.0]

        def on_event(event):
            if event.kind == "epoch":
                seconds[0] += (data.train_x.shape[0]) / event.samples_per_second

        end = trainer.run_to_end(on_event)
        total = time.perf_counter() - start
        assert end.status == "completed", end.message
    return seconds[0], total


def main() -> None:
    from designer import threads
    from designer.core.summary import summarize

    design, config, data = _setup()
    # Both sides with the threads the engine chooses for this model (designer.threads), so the
    # ratio measures the engine, not a thread count.
    threads.fit_to_model(summarize(design).macs)
    samples = EPOCHS * len(data.train_x)
    bare_loop(design, config, data)  # warm-up: first-call allocations and kernel selection
    bare_train = bare_total = engine_train = engine_total = float("inf")
    for _ in range(REPEATS):
        t, total = bare_loop(design, config, data)
        bare_train, bare_total = min(bare_train, t), min(bare_total, total)
        t, total = engine_run(design, config, data)
        engine_train, engine_total = min(engine_train, t), min(engine_total, total)
    print(
        f"lenet5 on digits, batch {BATCH}, {EPOCHS} epochs of {len(data.train_x)} samples, "
        f"{torch.get_num_threads()} threads"
    )
    print(
        f"  bare loop: {samples / bare_train:10,.0f} samples/s training, {bare_total:.2f}s whole "
        "run"
    )
    print(
        f"  engine:    {samples / engine_train:10,.0f} samples/s training, {engine_total:.2f}s "
        "whole run"
    )
    print(
        f"  training throughput ratio (engine / bare): {bare_train / engine_train:.3f}  (target "
        ">= 0.97)"
    )
    print(f"  whole-run ratio (engine / bare):            {bare_total / engine_total:.3f}")


if __name__ == "__main__":
    main()
