"""The train and search verbs: training runs from the terminal, with a progress bar."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path

from designer import threads
from designer.cli import CliError
from designer.cli.design_verbs import load, require_valid
from designer.cli.recipe_names import add_help
from designer.data.source_names import NAMED_SOURCES

EXIT_CODES = {"completed": 0, "early_stopped": 0, "cancelled": 130}


def _settings_arguments(p, epochs_help: str = "number of epochs") -> None:
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help=f"{', '.join(NAMED_SOURCES)} (digits: the default, offline), or an image folder "
        "with one subfolder per class (folder:PATH)",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", help="where the named datasets are (and are downloaded to)"
    )
    p.add_argument("--epochs", type=int, metavar="N", help=epochs_help)
    p.add_argument("--batch-size", type=int, metavar="B")
    p.add_argument("--lr", type=float, metavar="LR", help="learning rate")
    p.add_argument("--optimizer", metavar="NAME", help="the optimizer (names below)")
    p.add_argument("--schedule", metavar="NAME", help="learning-rate schedule (names below)")
    p.add_argument("--weight-decay", type=float, metavar="WD")
    p.add_argument("--seed", type=int, metavar="S")
    p.add_argument(
        "--device", metavar="DEV", help="auto (default: CUDA, MPS, else CPU), cpu, cuda, mps"
    )
    p.add_argument(
        "--config",
        metavar="SETTINGS.json",
        help="more training settings as a JSON object (flags override it)",
    )
    p.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write TensorBoard event files, to DIR/<run name> (needs "
        "netdesigner[tensorboard])",
    )


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a design; writes metrics, checkpoints and weights to a run directory",
        description="Train DESIGN. Without flags, the design's template settings apply "
        "(dataset, optimizer, learning rate, schedule, epochs, "
        "augmentation).",
        add_help=False,
    )
    add_help(p)
    p.add_argument("design", metavar="DESIGN")
    p.add_argument("--run-dir", required=True, metavar="DIR", help="where the run's files go")
    _settings_arguments(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir from its last checkpoint",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--weights",
        metavar="W.safetensors",
        help="start from these weights (default: the design's own weights, if it has them)",
    )
    start.add_argument(
        "--fresh", action="store_true", help="start from fresh weights even if the design has some"
    )
    p.add_argument(
        "--overfit",
        type=int,
        metavar="N",
        help="sanity check: train on N samples until all are right "
        "(or until --epochs, default 200, pass)",
    )
    p.set_defaults(func=cmd_train)

    s = sub.add_parser(
        "search",
        help="hyperparameter search (Optuna): N trials of K epochs, ranked",
        description="Search (random by default, or TPE) over learning rate and weight decay "
        "(log-uniform), dropout rate and batch size, on Optuna; each trial is a run "
        "directory under --run-dir. Several processes can share one search through "
        "--storage and --study.",
        add_help=False,
    )
    add_help(s)
    s.add_argument("design", metavar="DESIGN")
    s.add_argument(
        "--run-dir", required=True, metavar="DIR", help="the trials go to DIR/trial_01, ..."
    )
    s.add_argument(
        "--trials", type=int, default=10, metavar="N", help="number of trials (default 10)"
    )
    _settings_arguments(s, epochs_help="epochs per trial (default 3)")
    s.add_argument(
        "--lr-range", type=float, nargs=2, metavar=("LOW", "HIGH"), help="default 1e-4 1e-1"
    )
    s.add_argument(
        "--weight-decay-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="default 1e-6 1e-2",
    )
    s.add_argument(
        "--dropout-range", type=float, nargs=2, metavar=("LOW", "HIGH"), help="default 0 0.6"
    )
    s.add_argument("--batch-sizes", metavar="B,B,...", help="default 16,32,64,128")
    s.add_argument(
        "--sampler",
        choices=("random", "tpe"),
        default="random",
        help="how trials are chosen: random (default) or tpe (Optuna's TPE)",
    )
    s.add_argument(
        "--prune",
        action="store_true",
        help="stop a trial after an epoch (from epoch 2) whose validation accuracy is "
        "below the median of earlier trials at that epoch",
    )
    s.add_argument(
        "--storage",
        metavar="URL",
        help="an Optuna storage (database URL, or an SQLite file path) that several "
        "processes share; each runs --trials trials of the study",
    )
    s.add_argument(
        "--study",
        metavar="NAME",
        help="the study's name in --storage (default: the --run-dir folder's name)",
    )
    s.set_defaults(func=cmd_search)


def _overrides(args) -> dict:
    import json

    settings: dict = {}
    if args.config:
        try:
            settings = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CliError(f"cannot read {args.config}: {exc.strerror or exc}", code=2) from None
        except ValueError as exc:
            raise CliError(f"{args.config} is not valid JSON: {exc}", code=2) from None
        if not isinstance(settings, dict):
            raise CliError(f"{args.config} must hold a JSON object of training settings", code=2)
    flags = {
        "dataset": args.data,
        "data_dir": args.data_dir,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "schedule": args.schedule,
        "weight_decay": args.weight_decay,
        "seed": args.seed,
        "device": args.device,
        "tensorboard": args.tensorboard,
    }
    settings.update({k: v for k, v in flags.items() if v is not None})
    return settings


def _config(design, overrides: dict):
    from designer.training.config import ConfigError, config_for_design

    try:
        return config_for_design(design, overrides)
    except ConfigError as exc:
        raise CliError(str(exc), code=2) from None


@contextlib.contextmanager
def ctrl_c_cancels(control, resume: str = "", what: str = "it"):
    """The first Ctrl-C asks the run to stop cleanly (checkpoint, resumable); a second one
    interrupts. ``resume`` is the command that continues ``what`` (the run, an experiment),
    shown when it stops."""

    def handler(signum, frame):
        if control.cancelled:
            raise KeyboardInterrupt
        hint = f"; continue {what} later with: {resume}" if resume else ""
        print(
            f"\nstopping after this step, keeping a checkpoint{hint} "
            f"(Ctrl-C again to interrupt)...",
            file=sys.stderr,
        )
        control.cancel()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _starting_weights(args, design):
    """--weights, else the design's own weights (unless --fresh). A resumed run uses them only
    if it stopped before its first checkpoint."""
    from designer.interop.weights import design_weights_path

    if args.weights:
        return args.weights
    own = None if args.fresh else design_weights_path(design, args.design)
    if own is None:
        return None
    if not own.is_file():
        raise CliError(
            f"{args.design} refers to the weights file {own}, which does not exist; "
            f"pass --fresh to train from fresh weights",
            code=1,
        )
    if not args.resume:
        print(f"starting from the design's own weights ({own}); pass --fresh for fresh ones")
    return own


def cmd_train(args) -> int:
    from designer.training.config import ConfigError, TrainConfig
    from designer.training.control import TrainingControl
    from designer.training.engine import Trainer
    from designer.training.model import TrainingError
    from designer.training.rundir import RunDir

    design = load(args.design)
    require_valid(design, args.design)
    overrides = _overrides(args)
    if args.overfit is not None:
        if args.overfit < 1:
            raise CliError(
                f"--overfit needs a number of samples of at least 1, got {args.overfit}", code=2
            )
        overrides = {
            **overrides,
            "overfit_samples": args.overfit,
            "epochs": args.epochs or 200,
            "early_stopping_patience": 0,
        }
    config = _config(design, overrides)
    if args.resume:
        # A resumed run keeps its settings; flags given now must agree with them.
        saved = (
            RunDir(args.run_dir).read_json(RunDir.CONFIG) if Path(args.run_dir).is_dir() else None
        )
        try:
            config = (
                TrainConfig.from_dict(saved).with_changes(**overrides)
                if saved and overrides
                else None
            )
        except ConfigError as exc:
            raise CliError(str(exc), code=2) from None
    weights = _starting_weights(args, design)
    control = TrainingControl()
    try:
        with DownloadProgress() as download:
            trainer = Trainer(
                design,
                config,
                args.run_dir,
                resume=args.resume,
                control=control,
                weights=weights,
                download_progress=download,
            )
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    bar = ProgressBar()
    resume = f"netdesigner train {args.design} --run-dir {args.run_dir} --resume"
    with ctrl_c_cancels(control, resume):
        end = trainer.run_to_end(bar.show)
    return (
        EXIT_CODES.get(end.status, 1) if not end.overfit else (0 if end.overfit["reached"] else 1)
    )


def cmd_search(args) -> int:
    from designer.training.config import ConfigError
    from designer.training.control import TrainingControl
    from designer.training.model import TrainingError
    from designer.training.search import SearchSpace, format_table, random_search

    design = load(args.design)
    require_valid(design, args.design)
    overrides = _overrides(args)
    epochs = overrides.pop("epochs", 3)
    config = _config(design, overrides)
    space_args = {}
    if args.lr_range:
        space_args["lr"] = tuple(args.lr_range)
    if args.weight_decay_range:
        space_args["weight_decay"] = tuple(args.weight_decay_range)
    if args.dropout_range:
        space_args["dropout"] = tuple(args.dropout_range)
    if args.batch_sizes:
        try:
            space_args["batch_sizes"] = tuple(int(b) for b in args.batch_sizes.split(","))
        except ValueError:
            raise CliError(
                "--batch-sizes must be whole numbers separated by commas, got "
                f"{args.batch_sizes!r}",
                code=2,
            ) from None
    try:
        space = SearchSpace(**space_args)
    except ConfigError as exc:
        raise CliError(str(exc), code=2) from None
    if args.study and not args.storage:
        raise CliError("--study names a study in a shared storage; give --storage too", code=2)
    study = (args.study or Path(args.run_dir).resolve().name) if args.storage else None
    control = TrainingControl()

    def show(trial: int, event) -> None:
        if event.kind == "start":
            print(f"trial {trial} ({event.run_dir})", flush=True)
        elif event.kind == "epoch":
            acc = f"{event.val_accuracy:.2%}" if event.val_accuracy is not None else "-"
            print(
                f"  epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f}, val "
                f"accuracy {acc}",
                flush=True,
            )
        elif event.kind == "end" and event.message:
            print(f"  {event.status}: {event.message}", flush=True)

    try:
        with ctrl_c_cancels(control):
            trials = random_search(
                design,
                config,
                args.run_dir,
                trials=args.trials,
                epochs=epochs,
                space=space,
                seed=config.seed,
                control=control,
                on_event=show,
                sampler=args.sampler,
                prune=args.prune,
                storage=args.storage,
                study=study,
            )
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    print()
    print(format_table(trials))
    print(f"\nresults: {Path(args.run_dir) / 'search.json'}")
    return 130 if control.cancelled else 0


class DownloadProgress:
    """A dataset's download in the terminal: a line per file, and on a terminal a tqdm bar of
    its bytes (the designer.data downloader's progress callback)."""

    def __init__(self, stream=None) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.stream = stream or sys.stderr
        self._bar = None
        self._file = None

    def __call__(self, name: str, done: int, total: int | None) -> bool:
        if name != self._file:
            self.close()
            self._file = name
            print(f"downloading {name}", file=self.stream, flush=True)
            self._bar = self._tqdm(
                total=total,
                desc=name,
                unit="B",
                unit_scale=True,
                file=self.stream,
                disable=None,
                leave=False,
                dynamic_ncols=True,
            )
        self._bar.update(done - self._bar.n)
        return False  # never stops it: Ctrl+C does

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ProgressBar:
    """Training progress in the terminal: one line per epoch, and on a terminal a tqdm bar for the
    epoch in progress (its width follows the terminal's, with the epoch's ETA); output that is
    not a terminal (a file, a pipe, CI) gets the lines only."""

    def __init__(self, stream=None, refresh_seconds: float = 0.1) -> None:
        from tqdm import tqdm  # here: every verb imports this module, few of them train

        self._tqdm = tqdm
        self.stream = stream or sys.stdout
        self.refresh_seconds = refresh_seconds  # at most this often the bar is drawn again
        self._bar = None
        self._bar_epoch = None

    def show(self, event) -> None:
        getattr(self, f"_{event.kind}", lambda e: None)(event)

    def _write(self, text: str) -> None:
        self._tqdm.write(text, file=self.stream)  # above a live bar, which is drawn again below
        self.stream.flush()  # a reader of a pipe sees each line as it happens

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = self._bar_epoch = None

    def _start(self, e) -> None:
        self.run_dir = e.run_dir
        where = (
            f"resuming after epoch {e.start_epoch}"
            if e.start_epoch or e.start_batch
            else "training"
        )
        self._write(
            f"{where} on {e.dataset} ({e.train_samples} training / {e.val_samples} validation / "
            f"{e.test_samples} test samples, {len(e.classes)} classes), {e.trainable_params:,} "
            f"trainable parameters, device {e.device} ({threads.describe()})"
        )

    def _log(self, e) -> None:
        self._write(f"note: {e.message}")

    def _step(self, e) -> None:
        if self._bar_epoch != e.epoch:
            self._close_bar()
            # disable=None: no bar where the stream is not a terminal; leave=False: the epoch's
            # line replaces its bar.
            self._bar = self._tqdm(
                total=e.batches,
                initial=e.batch - 1,
                desc=f"epoch {e.epoch}",
                unit="batch",
                file=self.stream,
                disable=None,
                leave=False,
                dynamic_ncols=True,
                mininterval=self.refresh_seconds,
            )
            self._bar_epoch = e.epoch
        self._bar.set_postfix_str(f"loss {e.loss_ema:.4f}, lr {e.lr:.2e}", refresh=False)
        self._bar.update(1)

    def _state(self, e) -> None:
        self._write("paused" if e.state == "paused" else "resumed")

    def _epoch(self, e) -> None:
        self._close_bar()

        def pct(x):
            return f"{x:.2%}" if x is not None else "-"

        val = (
            f"val loss {e.val_loss:.4f} acc {pct(e.val_accuracy)}"
            if e.val_loss is not None
            else "no validation"
        )
        extra = (
            f"  overfit sample acc {pct(e.overfit_accuracy)}"
            if e.overfit_accuracy is not None
            else ""
        )
        self._write(
            f"epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f} acc "
            f"{pct(e.train_accuracy)}  {val}  "
            f"lr {e.lr:.2e}  {e.samples_per_second:,.0f} samples/s  {e.seconds:.1f}s"
            f"{'  *' if e.best else ''}{extra}"
        )

    def _end(self, e) -> None:
        self._close_bar()
        if e.message:
            self._write(f"{e.status}: {e.message}")
        if e.test_accuracy is not None:
            self._write(
                f"test accuracy {e.test_accuracy:.2%} (loss {e.test_loss:.4f})"
                + self._kept_note(e)
                + (
                    f", best validation accuracy {e.best_val_accuracy:.2%} at epoch {e.best_epoch}"
                    if e.best_val_accuracy is not None
                    else ""
                )
                + f"; {e.epochs_run} epoch(s) in {e.seconds:.1f}s"
            )
        elif not e.message:
            self._write(e.status)
        self._write(f"run directory: {getattr(self, 'run_dir', '?')}")

    @staticmethod
    def _kept_note(e) -> str:
        """Which weights the test figures are of, and the other weights' accuracy if they differ."""
        tests = e.test or {}
        kept = tests.get(e.kept) or {}
        note = f" with the {e.kept} weights (epoch {kept.get('epoch')})" if kept else ""
        other = tests.get("last" if e.kept == "best" else "best") or {}
        if other and other.get("epoch") != kept.get("epoch") and other.get("accuracy") is not None:
            name = "last" if e.kept == "best" else "best"
            note += f"; {name} weights (epoch {other['epoch']}): {other['accuracy']:.2%}"
        return note
