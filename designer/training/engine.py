"""The training engine: a loop that yields progress events, obeys cancel and pause, writes its run
directory, and resumes from a checkpoint exactly where it stopped.

Qt-free, so the editor's training panel, the CLI and the worker process all drive this one loop:

    trainer = Trainer(design, config, "runs/lenet")      # checks everything, may raise
    TrainingError
    for event in trainer.events():                      # StartEvent ... StepEvent/EpochEvent ...
    EndEvent
        ...

Exact resume: all randomness comes from two generators whose states are checkpointed, the global
torch RNG (dropout) and a data generator (order and augmentation of each epoch, drawn when the
epoch starts, see designer.data.iterate_batches); with the model, optimizer and schedule state,
a resumed run computes the same numbers as one that never stopped.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from designer import threads
from designer.codegen import CodegenError, generate
from designer.core.design import Design
from designer.core.errors import DesignFileError
from designer.core.serialization import dumps, loads
from designer.core.summary import summarize
from designer.data import DataError, PreparedData, iterate_batches, prepare_data
from designer.interop.weights import WeightsError, load_weights, save_weights
from designer.training import feature_cache, filter_history
from designer.training.config import ConfigError, TrainConfig
from designer.training.control import TrainingControl
from designer.training.events import (
    EndEvent,
    EpochEvent,
    Event,
    LogEvent,
    StartEvent,
    StateEvent,
    StepEvent,
)
from designer.training.metrics import EpochTotals, Evaluation, LossAverage, evaluate
from designer.training.model import (
    TrainableModel,
    TrainingError,
    build_trainable,
    head_features,
    pick_device,
    with_dropout,
)
from designer.training.recipe import DATA_SEED_OFFSET, LrSchedule, compute_loss, is_better
from designer.training.rundir import RunDir, RunDirError

CHECKPOINT_FORMAT = 1
FINAL_STATUSES = ("completed", "early_stopped", "diverged", "pruned")


class Trainer:
    """One training run in ``run_dir``.

    The constructor checks the design, settings and data and raises TrainingError with a clear
    message; after that, events() never raises: failures end the run with status "failed".

    design: may be None when resuming (the run directory keeps the design it was started with).
    config: None when resuming means "the run's own settings"; given, it must match them.
    weights: start from this weights file instead of fresh initial weights (fine-tuning).
    data: already prepared data (it must match config's dataset and preprocessing).
    evaluate_test: False skips the test split at the end (the hyperparameter search never looks at
    it).
    """

    def __init__(
        self,
        design: Design | None,
        config: TrainConfig | None,
        run_dir: str | Path,
        *,
        resume: bool = False,
        control: TrainingControl | None = None,
        weights: str | Path | None = None,
        data: PreparedData | None = None,
        evaluate_test: bool = True,
        download_progress=None,
    ) -> None:
        self.run = RunDir(run_dir)
        self._download_progress = download_progress  # (file, bytes, total) while data downloads
        self.control = control or TrainingControl()
        self.evaluate_test = evaluate_test
        self.logs: list[str] = []
        self._pruned: str | None = None
        try:
            if resume:
                design, config = self._resume_inputs(design, config)
            elif config is None:
                raise TrainingError("no training settings given")
            if design is None:
                raise TrainingError("no design given")
            self._setup(design, config, weights, data, resume)
        except (
            ConfigError,
            DataError,
            CodegenError,
            RunDirError,
            WeightsError,
            DesignFileError,
        ) as exc:
            raise TrainingError(str(exc)) from None
        except OSError as exc:
            raise TrainingError(
                f"the run directory {self.run.path} cannot be used: {exc}"
            ) from None

    # -- setup ------------------------------------------------------------------------------------
    def _resume_inputs(self, design: Design | None, config: TrainConfig | None):
        saved = self.run.read_json(RunDir.CONFIG)
        if saved is None:
            raise TrainingError(
                f"{self.run.path} holds no training run to resume (no {RunDir.CONFIG})"
            )
        result = self.run.read_json(RunDir.RESULT)
        if result and result.get("status") in FINAL_STATUSES:
            raise TrainingError(
                f"the run in {self.run.path} has finished ({result['status']}); nothing to resume. "
                f"Start a new run directory to train again"
            )
        saved_config = TrainConfig.from_dict(saved, what=str(self.run.file(RunDir.CONFIG)))
        if config is not None and config != saved_config:
            mine, theirs = config.to_dict(), saved_config.to_dict()
            name = next(k for k in mine if mine[k] != theirs[k])
            raise TrainingError(
                f"the run in {self.run.path} was started with {name}={theirs[name]!r}, not "
                f"{mine[name]!r}; "
                f"a resumed run keeps its settings (start a new run directory to change them)"
            )
        design_file = self.run.file(RunDir.DESIGN)
        if not design_file.is_file():
            raise TrainingError(
                f"{self.run.path} holds no {RunDir.DESIGN}, so its run cannot be resumed"
            )
        saved_design = loads(design_file.read_text(encoding="utf-8"), str(design_file))
        if design is not None and generate(design).source != generate(saved_design).source:
            raise TrainingError(
                f"the design differs from the one the run in {self.run.path} was started with "
                f"(its generated code is not the same); start a new run directory to train it"
            )
        return saved_design, saved_config

    def _setup(self, design: Design, config: TrainConfig, weights, data, resume: bool) -> None:
        self.design, self.config = design, config
        self.task_design = with_dropout(design, config.dropout)
        features = head_features(self.task_design)
        self.loss_kind = config.resolved_loss(design.task)
        self.data = (
            data if data is not None else prepare_for(design, config, self._download_progress)
        )
        self.num_classes = self.data.num_classes
        _check_head(design, self.loss_kind, features, self.data)
        if len(self.data.train_x) == 0:
            raise TrainingError(f"the dataset '{self.data.name}' has no training samples")
        if self.data.skipped:
            self.logs.append(
                f"{len(self.data.skipped)} unreadable image(s) skipped, e.g. {self.data.skipped[0]}"
            )
        self.top5 = features == self.num_classes > 5
        self.device = pick_device(config.device)
        self.settings = {**config.to_dict(), "loss": self.loss_kind}
        self.augmentation = None if config.overfit_samples else config.augmentation
        self.steps_per_epoch = math.ceil(len(self.data.train_x) / config.batch_size)
        checkpoint = self.run.load_checkpoint() if resume else None
        weights_loader = None
        if weights is not None and checkpoint is None:

            def weights_loader(model):
                load_weights(model, weights)

            self.logs.append(f"started from the weights in {weights}")
        threads.fit_to_model(summarize(self.task_design).macs)  # before the model is built
        self.net: TrainableModel = build_trainable(
            self.task_design, self.settings, self.device, config.seed, weights_loader
        )
        self.schedule = LrSchedule(self.settings, self.steps_per_epoch)
        self.data_rng = torch.Generator().manual_seed(config.seed + DATA_SEED_OFFSET)
        self.ema = LossAverage()
        self.totals = EpochTotals(self.top5)
        self.epoch, self.batch, self.step = 0, 0, 0
        self.best = {"val_accuracy": None, "val_loss": None, "epoch": None}
        self.stopping = {"best_loss": math.inf, "bad_epochs": 0}
        self.seconds_before = 0.0
        self.epoch_rng_state = self.data_rng.get_state()
        self.cache: feature_cache.FeatureCache | None = None  # set when the run starts
        metrics_bytes = None
        if resume:
            metrics_bytes = 0
            if checkpoint is not None:
                metrics_bytes = self._restore(checkpoint)
                self.logs.append(
                    f"resumed after epoch {self.epoch}"
                    + (f", batch {self.batch}" if self.batch else "")
                )
            self.run.file(RunDir.RESULT).unlink(missing_ok=True)
        else:
            self.run.create(config.to_dict(), dumps(design))
            filter_history.record(self.run.path, self.net.model, 0)
        self.run.write_json(
            RunDir.DATA,
            {
                "dataset": self.data.name,
                "classes": self.data.classes,
                "image_shape": list(self.data.image_shape),
                "train_samples": len(self.data.train_x),
                "val_samples": len(self.data.val_x),
                "test_samples": len(self.data.test_x),
                "test_is_own_split": self.data.test_is_own_split,
                "skipped": len(self.data.skipped),
                "stats": self.data.stats.to_dict(),
            },
        )
        self.metrics = self.run.metrics(metrics_bytes)
        if config.tensorboard:
            self._start_tensorboard(config.tensorboard)

    def _start_tensorboard(self, folder: str) -> None:
        """metrics.jsonl's records also as TensorBoard events (and the graph, and the filters)."""
        from designer.training.tensorboard_log import TensorBoardLog, log_dir

        try:
            self.metrics = TensorBoardLog(
                self.metrics, log_dir(folder, self.run.path), self.net.model
            )
        except ConfigError:
            self.metrics.close()
            raise
        # zeros, not random numbers: tracing must not move the RNG a resumed run replays
        example = torch.zeros_like(self.data.train_x[:1]).to(self.device)
        problem = self.metrics.add_graph(example)
        if problem:
            self.logs.append(problem)

    # -- checkpoints ------------------------------------------------------------------------------
    def _checkpoint(self, mid_epoch: bool) -> None:
        state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,  # finished epochs
            "batch": self.batch if mid_epoch else 0,
            "step": self.step,
            "model": self.net.model.state_dict(),
            "optimizer": self.net.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "torch_rng": torch.get_rng_state(),
            # Mid-epoch, the data generator's state from the epoch's start replays its order.
            "data_rng": self.epoch_rng_state if mid_epoch else self.data_rng.get_state(),
            "ema": self.ema.state_dict(),
            "totals": self.totals.state_dict() if mid_epoch else None,
            "best": dict(self.best),
            "stopping": dict(self.stopping),
            "seconds": self.seconds_before + self._elapsed(),
            "metrics_bytes": self.metrics.tell(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        self.run.save_checkpoint(state)

    def _restore(self, state: dict[str, Any]) -> int:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(
                f"{self.run.file(RunDir.CHECKPOINT)} is not a checkpoint this version can resume"
            )
        self.net.model.load_state_dict(state["model"])
        self.net.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.data_rng.set_state(state["data_rng"])
        self.epoch_rng_state = state["data_rng"]
        self.ema.load_state_dict(state["ema"])
        if state["totals"] is not None:
            self.totals.load_state_dict(state["totals"])
        self.epoch, self.batch, self.step = (
            int(state["epoch"]),
            int(state["batch"]),
            int(state["step"]),
        )
        self.best, self.stopping = dict(state["best"]), dict(state["stopping"])
        self.seconds_before = float(state["seconds"])
        return int(state["metrics_bytes"])

    # -- the loop ---------------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        """Run, yielding events; the last one is always an EndEvent."""
        self._started = time.perf_counter()
        self._paused_seconds = 0.0
        try:
            yield from self._run()
        except Exception as exc:  # noqa: BLE001 - an unexpected failure ends the run, reported
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            yield self._end("failed", f"training failed: {reason}")
        finally:
            self.metrics.close()

    def prune(self, message: str) -> None:
        """End the run as "pruned" right after the epoch just reported (a search's pruner found
        it hopeless): final, not resumable, and the test split is not looked at. Call it while
        handling an EpochEvent."""
        self._pruned = message

    def run_to_end(self, on_event=None) -> EndEvent:
        """Run in the calling thread; ``on_event(event)`` sees every event."""
        end = None
        for event in self.events():
            if on_event is not None:
                on_event(event)
            end = event
        assert isinstance(end, EndEvent)
        return end

    def _elapsed(self) -> float:
        return time.perf_counter() - self._started - self._paused_seconds

    def _run(self) -> Iterator[Event]:
        data, cfg = self.data, self.config
        yield StartEvent(
            run_dir=str(self.run.path),
            device=str(self.device),
            dataset=data.name,
            classes=list(data.classes),
            train_samples=len(data.train_x),
            val_samples=len(data.val_x),
            test_samples=len(data.test_x),
            trainable_params=self.net.trainable_params,
            epochs=cfg.epochs,
            steps_per_epoch=self.steps_per_epoch,
            start_epoch=self.epoch,
            start_batch=self.batch,
        )
        for message in self.logs:
            yield LogEvent(message)
        yield from self._start_feature_cache()
        overfit = None
        while self.epoch < cfg.epochs:
            outcome = yield from self._train_epoch()
            if outcome is not None:
                yield outcome
                return
            epoch_event = self._finish_epoch()
            yield epoch_event
            if self._pruned is not None:
                yield self._end("pruned", self._pruned)
                return
            if cfg.overfit_samples and epoch_event.overfit_accuracy == 1.0:
                overfit = epoch_event.epoch
                break
            if (
                cfg.early_stopping_patience
                and self.stopping["bad_epochs"] >= cfg.early_stopping_patience
            ):
                yield self._finish(
                    "early_stopped",
                    f"stopped early: the validation loss has not improved for "
                    f"{cfg.early_stopping_patience} epoch(s)",
                )
                return
        message = ""
        if cfg.overfit_samples:
            message = (
                f"reached 100% training accuracy on {len(data.train_x)} samples at epoch {overfit}"
                if overfit
                else f"did not reach 100% training accuracy on {len(data.train_x)} samples "
                f"in {cfg.epochs} epochs"
            )
        yield self._finish("completed", message, overfit_epoch=overfit)

    def _train_epoch(self) -> Iterator[Event]:
        """One epoch's steps; returns an EndEvent if the run stops during it, else None."""
        cfg, data, net, control = self.config, self.data, self.net, self.control
        if self.batch == 0:
            self.epoch_rng_state = self.data_rng.get_state()
            self.totals = EpochTotals(self.top5)
        # else: resuming mid-epoch, data_rng holds the epoch's starting state (see _checkpoint)
        cache = self.cache
        # Cached: the batches are sample indices, drawn exactly as the samples would be.
        batches = iterate_batches(
            data.train_x if cache is None else cache.index,
            data.train_y,
            cfg.batch_size,
            True,
            self.data_rng,
            self.augmentation,
            stats=data.stats,
            image_shape=data.image_shape,
            start_batch=self.batch,
        )
        forward = net.model if cache is None else cache.rest
        forward.train()
        net.train_mode()  # after forward.train(): frozen modules back in eval mode
        groups = net.optimizer.param_groups
        device, loss_kind, clip = self.device, self.loss_kind, cfg.grad_clip
        tick = time.perf_counter()
        for xb, yb in batches:
            if control.paused:
                self.totals.seconds += time.perf_counter() - tick
                yield StateEvent("paused")
                paused_at = time.perf_counter()
                control.wait_while_paused()
                self._paused_seconds += time.perf_counter() - paused_at
                yield StateEvent("running")
                tick = time.perf_counter()
            if control.cancelled:
                self.totals.seconds += time.perf_counter() - tick
                self._checkpoint(mid_epoch=True)
                return self._end(
                    "cancelled",
                    f"cancelled during epoch {self.epoch + 1}; the run can be resumed "
                    f"from where it stopped",
                )
            if cache is not None:
                xb = cache.inputs(xb)
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            lr = self.schedule.lr(self.step)
            for group in groups:
                group["lr"] = lr * group["lr_mult"]
            output = forward(xb)
            loss = compute_loss(loss_kind, output, yb)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                return self._end(
                    "diverged",
                    (
                        f"the loss became {loss_value} at epoch {self.epoch + 1}, "
                        f"step {self.step + 1}: the learning "
                        f"rate ({cfg.lr:g}) is probably too high; try a lower one, "
                        f"e.g. {cfg.lr / 10:g}. "
                        f"The last good weights are kept in {RunDir.LAST}"
                    ),
                )
            net.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(net.model.parameters(), clip)
            net.optimizer.step()
            self.totals.add(loss_kind, output, yb, loss_value)
            self.step += 1
            self.batch += 1
            ema = self.ema.update(loss_value)
            self.metrics.write(
                {
                    "kind": "step",
                    "epoch": self.epoch + 1,
                    "step": self.step,
                    "loss": loss_value,
                    "loss_ema": ema,
                    "lr": lr,
                }
            )
            yield StepEvent(
                self.epoch + 1, self.step, self.batch, self.steps_per_epoch, loss_value, ema, lr
            )
        self.totals.seconds += time.perf_counter() - tick
        self.last_lr = self.schedule.lr(max(self.step - 1, 0))
        return None

    def _evaluate(self, x, y, confusion: bool = False, model=None) -> Evaluation:
        return evaluate(
            self.net.model if model is None else model,
            x,
            y,
            self.loss_kind,
            self.device,
            num_classes=self.num_classes,
            top5=self.top5,
            confusion=confusion,
        )

    def _start_feature_cache(self) -> Iterator[Event]:
        """Train on cached features when that gives the same numbers (see feature_cache); the
        log says so, or why frozen layers are not cached."""
        if self.config.cache_features == "off":
            return
        augmented = self.augmentation is not None and self.augmentation.is_active
        self.cache, message = feature_cache.start(
            self.task_design,
            self.net.model,
            self.net.code,
            self.data,
            self.config.batch_size,
            self.device,
            self.run.path,
            augmented,
        )
        if message:
            yield LogEvent(message)

    def _finish_epoch(self) -> EpochEvent:
        cfg, data, totals = self.config, self.data, self.totals
        tick = time.perf_counter()
        val = (
            self._evaluate(data.val_x, data.val_y)
            if self.cache is None
            else self._evaluate(self.cache.val, data.val_y, model=self.cache.rest)
        )
        overfit_accuracy = (
            self._evaluate(data.train_x, data.train_y).accuracy if cfg.overfit_samples else None
        )
        self.schedule.end_epoch(val.loss)
        self.epoch += 1
        self.batch = 0
        is_best = self._is_best(val)
        if is_best:
            self.best = {"val_accuracy": val.accuracy, "val_loss": val.loss, "epoch": self.epoch}
        if val.loss is not None and val.loss < self.stopping["best_loss"]:
            self.stopping = {"best_loss": val.loss, "bad_epochs": 0}
        elif val.loss is not None:
            self.stopping["bad_epochs"] += 1
        seconds = totals.seconds + (time.perf_counter() - tick)
        event = EpochEvent(
            epoch=self.epoch,
            epochs=cfg.epochs,
            train_loss=totals.loss,
            train_accuracy=totals.accuracy,
            val_loss=val.loss,
            val_accuracy=val.accuracy,
            lr=self.last_lr,
            seconds=seconds,
            samples_per_second=totals.seen / totals.seconds if totals.seconds > 0 else 0.0,
            train_top5=totals.top5_accuracy,
            val_top5=val.top5,
            best=is_best,
            overfit_accuracy=overfit_accuracy,
        )
        self.metrics.write(
            {"kind": "epoch", **{k: v for k, v in vars(event).items() if k != "epochs"}}
        )
        save_weights(self.net.model, self.run.file(RunDir.LAST))
        filter_history.record(self.run.path, self.net.model, self.epoch)
        if is_best:
            self.run.copy_file(RunDir.LAST, RunDir.BEST)
        self._checkpoint(mid_epoch=False)
        return event

    def _is_best(self, val: Evaluation) -> bool:
        """Higher validation accuracy wins, then lower validation loss; without a validation
        split every epoch is the best so far."""
        best = self.best
        if best["epoch"] is None:
            return True
        return is_better(val.loss, val.accuracy, best["val_loss"], best["val_accuracy"])

    def _finish(self, status: str, message: str, overfit_epoch: int | None = None) -> EndEvent:
        tests = self._test_both() if self.evaluate_test else None
        overfit = None
        if self.config.overfit_samples:
            overfit = {
                "samples": len(self.data.train_x),
                "reached": overfit_epoch is not None,
                "epoch": overfit_epoch,
            }
        return self._end(status, message, tests, overfit)

    def _test_both(self) -> dict[str, dict]:
        """The test split with the last epoch's weights (the model's now) and the best epoch's
        (best.safetensors, loaded into a copy); evaluated once when they are the same epoch."""
        x, y = self.data.test_x, self.data.test_y
        last = self._evaluate(x, y, confusion=True)
        best_epoch = self.best["epoch"] or self.epoch
        best = last
        if best_epoch != self.epoch:
            model = copy.deepcopy(self.net.model)
            load_weights(model, self.run.file(RunDir.BEST))
            best = evaluate(
                model,
                x,
                y,
                self.loss_kind,
                self.device,
                num_classes=self.num_classes,
                top5=self.top5,
                confusion=True,
            )
        return {"best": _figures(best, best_epoch), "last": _figures(last, self.epoch)}

    def _end(
        self,
        status: str,
        message: str,
        tests: dict[str, dict] | None = None,
        overfit: dict | None = None,
    ) -> EndEvent:
        kept = self.config.keep
        figures = (tests or {}).get(kept) or {}
        end = EndEvent(
            status=status,
            message=message,
            epochs_run=self.epoch,
            seconds=self.seconds_before + self._elapsed(),
            test_loss=figures.get("loss"),
            test_accuracy=figures.get("accuracy"),
            test_top5=figures.get("top5"),
            best_val_accuracy=self.best["val_accuracy"],
            best_val_loss=self.best["val_loss"],
            best_epoch=self.best["epoch"],
            classes=list(self.data.classes),
            confusion=figures.get("confusion"),
            overfit=overfit,
            kept=kept,
            test=tests,
        )
        self.run.write_result(end)
        return end


def _figures(test: Evaluation, epoch: int) -> dict[str, Any]:
    """An evaluation as result.json's plain numbers, with the epoch whose weights it is of."""
    return {
        "epoch": epoch,
        "loss": test.loss,
        "accuracy": test.accuracy,
        "top5": test.top5,
        "confusion": test.confusion.tolist() if test.confusion is not None else None,
    }


def prepare_for(
    design: Design,
    config: TrainConfig,
    progress=None,
    *,
    any_head: bool = False,
    train_limit: int | None = None,
) -> PreparedData:
    """The data of a run: the settings' source, split and preprocessed for the design's input
    (``progress(file, bytes so far, total)`` follows a download of it). ``any_head``: images to
    look at, whatever the design's number of classes; ``train_limit``: at most this many
    training samples prepared (previews look at test images only; the normalization is then
    fitted on these)."""
    classify = design.task == "classification" and not any_head
    data = prepare_data(
        config.dataset,
        design.input_shape,
        num_classes=design.num_classes if classify else None,
        preprocessing=config.preprocessing,
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
        seed=config.split_seed,
        data_dir=config.data_dir,
        limit=config.overfit_samples or train_limit or None,
        progress=progress,
    )
    return data


def _check_head(design: Design, loss_kind: str, features: int, data: PreparedData) -> None:
    """The head must fit the data before anything trains; the message names both numbers."""
    classes = data.num_classes
    if features == classes:
        return
    if (
        features == 1
        and loss_kind in ("binary_cross_entropy", "mse")
        and (loss_kind == "mse" or classes == 2)
    ):
        return
    raise TrainingError(
        f"the dataset '{data.name}' has {classes} classes but the design's head gives {features} "
        f"output(s); set the last layer's output size to {classes}"
    )
