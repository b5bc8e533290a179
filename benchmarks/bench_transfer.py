"""Cached features vs none: fine-tuning a frozen ResNet-18 on digits with the training engine.

The resnet18 template with a new 10-class head (designer.core.transfer.replace_head) on 64x64
inputs (adapt_input), frozen up to the end of the last stage (freeze_until layer4_1: the
classifier trains on the pooled features, seed 000's feature-extractor recipe), trained on the
bundled digits without augmentation: once with the engine's cached features (cache_features
"auto": the frozen part's outputs are computed once), once without ("off"). Same data (prepared
once), seed, optimizer and batches. The same with layer4 training too is printed after it.

Printed:
  cached-feature epoch speed-up   the uncached epochs' time over the cached ones', epochs 2..N
                                  (training plus the validation pass; target >= 5x); epoch 1 is
                                  left out as the warm-up, and the cache's one-off computation is
                                  printed on its own;
  head weights identical          whether every weight after epoch 1 is the same number with and
                                  without the cache (it must be: nothing random touches the
                                  frozen part);
  frozen up to layer3_1            the same with layer4 training too, for comparison (the cache
                                  then saves only the frozen part's forward pass: at most ~2x).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

EPOCHS = 4
SIZE = 64
BATCH = 64


def _design(size: int, freeze: str):
    from designer.core.transfer import adapt_input, freeze_until, replace_head
    from designer.templates import new_from_template

    design = new_from_template("resnet18")
    replace_head(design, 10)
    adapt_input(design, size=size)
    freeze_until(design, freeze)
    return design


def _run(design, config, data, mode: str) -> tuple[list[float], float, dict]:
    """(seconds of each epoch, seconds before epoch 1 (the cache), weights after epoch 1)."""
    from designer.training.engine import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            design,
            config.with_changes(cache_features=mode),
            Path(tmp) / "run",
            data=data,
            evaluate_test=False,
        )
        seconds, first = [], {}
        start = time.perf_counter()
        before = [0.0]

        def on_event(event):
            if event.kind == "log" and "cached features" in event.message:
                before[0] = time.perf_counter() - start
            if event.kind == "epoch":
                seconds.append(event.seconds)
                if event.epoch == 1:
                    first.update({k: v.clone() for k, v in trainer.net.model.state_dict().items()})

        end = trainer.run_to_end(on_event)
        assert end.status == "completed", end.message
        assert (trainer.cache is not None) == (mode == "auto"), "the cache was not used"
    return seconds, before[0], first


def _compare(freeze: str, epochs: int, size: int) -> tuple[float, bool, float, list, list]:
    from designer.training.config import config_for_design
    from designer.training.engine import prepare_for

    design = _design(size, freeze)
    config = config_for_design(
        design,
        {
            "dataset": "digits",
            "epochs": epochs,
            "batch_size": BATCH,
            "optimizer": "momentum",
            "lr": 0.01,
            "schedule": "constant",
            "augmentation": {},
            "device": "cpu",
        },
    )
    data = prepare_for(design, config)
    plain, _, plain_first = _run(design, config, data, "off")
    cached, cache_seconds, cached_first = _run(design, config, data, "auto")
    same = plain_first.keys() == cached_first.keys() and all(
        torch.equal(plain_first[k], cached_first[k]) for k in plain_first
    )
    later = slice(1, None) if epochs > 1 else slice(None)
    return sum(plain[later]) / sum(cached[later]), same, cache_seconds, plain, cached


def main(epochs: int = EPOCHS, size: int = SIZE, with_last_stage: bool = True) -> None:
    speed_up, same, cache_seconds, plain, cached = _compare("layer4_1", epochs, size)
    print(
        f"resnet18 with a new 10-class head at {size}x{size} on digits, frozen up to the end of "
        f"the last stage (layer4_1; the head trains), batch {BATCH}, {epochs} epochs, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"  uncached epochs: {', '.join(f'{s:.2f}s' for s in plain)}")
    print(
        f"  cached epochs:   {', '.join(f'{s:.2f}s' for s in cached)} "
        f"(features computed once before them: {cache_seconds:.2f}s)"
    )
    print(f"cached-feature epoch speed-up: {speed_up:.2f}  (epochs 2..{epochs}; target >= 5)")
    print(f"head weights after one epoch identical: {'yes' if same else 'NO'}")
    if with_last_stage:
        # With layer4 training too, the cache only saves the frozen part's forward pass while
        # layer4 still runs forward and backward (about 23% of the MACs at 64x64): at most ~2x.
        ratio, same_rest, _, _, _ = _compare("layer3_1", epochs, size)
        print(
            f"  frozen up to layer3_1 (layer4 trains too): epoch speed-up {ratio:.2f}, "
            f"weights identical: {'yes' if same_rest else 'NO'}"
        )


if __name__ == "__main__":
    main()
