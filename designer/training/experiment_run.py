"""Running an experiment (designer.training.experiment): each planned run trains in its own run
directory under the experiment's folder, one at a time, with the data prepared once for all the
runs that share it.

Resumable: a run that finished (completed, stopped early or diverged) is not trained again; one
that was stopped (cancelled, crashed, or its process killed) continues from its checkpoint with
Trainer(..., resume=True); the others start. The folder records whether the experiment runs on
its full dataset or offline (EXPERIMENT_RECORD), so a continued experiment keeps to it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.core.atomic import atomic_write_text
from designer.training.experiment import Experiment, ExperimentError, PlannedRun
from designer.training.rundir import RunDir, RunDirError, clean_json

EXPERIMENT_RECORD = "experiment.json"
FINISHED = ("completed", "early_stopped", "diverged")  # engine.FINAL_STATUSES, without torch


class ExperimentProgress:
    """What a runner reports; the CLI prints it, the default ignores it."""

    def begin(self, experiment: Experiment, total: int, finished: int, offline: bool) -> None:
        pass

    def skip_run(self, index: int, total: int, run: PlannedRun, status: str) -> None:
        pass

    def start_run(self, index: int, total: int, run: PlannedRun, resumed: bool) -> None:
        pass

    def event(self, event, run: PlannedRun | None = None) -> None:
        """A training event; ``run`` says whose when several train side by side."""

    def end_run(self, index: int, total: int, run: PlannedRun, end, eta: float | None) -> None:
        pass


@dataclass
class ExperimentOutcome:
    offline: bool
    plan: list[PlannedRun]
    trained: list[str] = field(default_factory=list)  # runs trained (or continued) this time
    skipped: list[str] = field(default_factory=list)  # runs that had finished before
    failed: list[str] = field(default_factory=list)
    cancelled: bool = False


def run_status(path: Path) -> str | None:
    """The status in a run directory's result.json, "stopped" for a run without one, None for a
    folder that holds no run."""
    run = RunDir(path)
    try:
        result = run.read_json(RunDir.RESULT)
    except RunDirError:  # a damaged result.json: the run is continued (the engine says why not)
        result = None
    if isinstance(result, dict):
        return str(result.get("status", "stopped"))
    return "stopped" if run.has_run else None


def choose_offline(
    experiment: Experiment, out: Path, offline: bool | None, data_dir: str | None = None
) -> bool:
    """Offline (the experiment's reduced variant) or not: as asked; else as the folder's record
    says (a continued experiment keeps to how it started); else when the dataset's files are
    not on this machine. A folder that holds another experiment is refused."""
    record = _read_record(out)
    if isinstance(record, dict) and record.get("name") not in (None, experiment.name):
        raise ExperimentError(
            f"{out} holds the experiment {record['name']!r}, not "
            f"{experiment.name!r}; choose another folder"
        )
    recorded = record.get("offline") if isinstance(record, dict) else None
    if offline and experiment.offline is None:
        raise ExperimentError(f"{experiment.source}: the experiment has no offline variant")
    if offline is not None and recorded is not None and offline != recorded:
        how = "offline (its reduced variant)" if recorded else "on its full dataset"
        raise ExperimentError(
            f"{out} holds this experiment run {how}; continue it that way, or choose another folder"
        )
    if offline is not None:
        return offline
    if isinstance(recorded, bool):
        return recorded and experiment.offline is not None
    return experiment.needs_offline(data_dir)


def experiment_folders(folder: str | Path) -> list[tuple[Path, dict]]:
    """The experiments' folders directly inside ``folder`` (a design's runs folder), by name,
    each with its record (name, offline, the planned runs' names, the experiment file)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for child in sorted(folder.iterdir()):
        record = _read_record(child) if child.is_dir() else None
        if isinstance(record, dict):
            found.append((child, record))
    return found


def _read_record(out: Path) -> Any:
    try:
        return json.loads((out / EXPERIMENT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class PreparedExperiment:
    """An experiment ready to train under ``out``: every run built (and so checked), and the
    status each run's folder has now (None: not started; a FINISHED one is not trained again)."""

    out: Path
    offline: bool
    plan: list[PlannedRun]
    built: list[tuple[Any, Any]]  # (design, TrainConfig) of each planned run
    statuses: list[str | None]

    def pending(self) -> list[int]:
        """The indexes of the runs still to train (or to continue), in the plan's order."""
        return [i for i, s in enumerate(self.statuses) if s not in FINISHED]


def prepare_experiment(
    experiment: Experiment,
    out: str | Path,
    *,
    offline: bool | None = None,
    data_dir: str | None = None,
) -> PreparedExperiment:
    """Build every run, check that the finished ones trained what the experiment asks for now,
    and record the experiment in ``out`` (the CLI's runner and the app's both start here)."""
    out = Path(out)
    offline = choose_offline(experiment, out, offline, data_dir)
    plan = experiment.plan(offline)
    built = [experiment.build(run, offline, data_dir) for run in plan]
    statuses = [run_status(out / run.name) for run in plan]
    for run, (design, config), status in zip(plan, built, statuses, strict=True):
        if status in FINISHED:
            _check_finished(out / run.name, design, config)
    _write_record(experiment, out, offline, plan)
    return PreparedExperiment(out, offline, plan, built, statuses)


def gpu_slots(at_once: int) -> list[str]:
    """One CUDA device per run for ``at_once`` runs side by side (as CUDA_VISIBLE_DEVICES
    values); ExperimentError when this machine has fewer GPUs than that."""
    if at_once <= 1:
        return []
    import torch

    count = torch.cuda.device_count()
    if at_once > count:
        raise ExperimentError(
            f"{at_once} runs at once need {at_once} GPUs, one each; this machine has {count}. "
            "On a CPU the runs train one at a time: two would share its cores and each take "
            "twice as long"
        )
    return [str(i) for i in range(at_once)]


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    *,
    offline: bool | None = None,
    data_dir: str | None = None,
    control=None,
    progress: ExperimentProgress | None = None,
    slots: list[str] | None = None,
) -> ExperimentOutcome:
    """Train every planned run that has not finished under ``out``, then write the results
    (designer.training.experiment_results) after each run. Every run's design and settings are
    built (and so checked) before anything trains. ExperimentError names what cannot be done;
    a cancelled ``control`` stops after the current run's checkpoint. With ``slots`` (see
    gpu_slots) runs train side by side, each in its own worker process on its own device;
    else one after another in this process, sharing the loaded data."""
    from designer.training.control import TrainingControl
    from designer.training.experiment_results import write_results

    progress = progress or ExperimentProgress()
    control = control or TrainingControl()
    prepared = prepare_experiment(experiment, out, offline=offline, data_dir=data_dir)
    outcome = ExperimentOutcome(prepared.offline, prepared.plan)
    total = len(prepared.plan)
    progress.begin(experiment, total, total - len(prepared.pending()), prepared.offline)
    if slots and len(slots) > 1:
        _side_by_side(experiment, prepared, outcome, slots, control, progress)
    else:
        _one_by_one(experiment, prepared, outcome, control, progress)
    write_results(experiment, outcome.plan, prepared.out, prepared.offline)
    return outcome


def _one_by_one(experiment, prepared, outcome, control, progress) -> None:
    """Train the pending runs in this process, in the plan's order, sharing loaded data."""
    out, plan, total = prepared.out, prepared.plan, len(prepared.plan)
    remaining = len(prepared.pending())
    data = _DataCache()
    spent: list[float] = []
    for index, (run, (design, config), status) in enumerate(
        zip(plan, prepared.built, prepared.statuses, strict=True)
    ):
        if status in FINISHED:
            outcome.skipped.append(run.name)
            progress.skip_run(index + 1, total, run, status)
            continue
        resumed = status is not None
        progress.start_run(index + 1, total, run, resumed)
        started = time.perf_counter()
        end = _train(
            out / run.name, design, config, resumed, control, data.get(design, config), progress
        )
        spent.append(time.perf_counter() - started)
        remaining -= 1
        eta = sum(spent) / len(spent) * remaining if remaining else 0.0
        _run_ended(experiment, prepared, outcome, index, end, eta, progress)
        if end.status == "cancelled" or control.cancelled:
            outcome.cancelled = True
            break


def _side_by_side(experiment, prepared, outcome, slots, control, progress) -> None:
    """Keep one run training in a worker process per slot (a CUDA_VISIBLE_DEVICES value)
    until every pending run has ended; a cancelled ``control`` stops them all after their
    checkpoints and starts no more."""
    from designer.training.worker import TrainingProcess

    out, plan, total = prepared.out, prepared.plan, len(prepared.plan)
    for index, status in enumerate(prepared.statuses):
        if status in FINISHED:
            outcome.skipped.append(plan[index].name)
            progress.skip_run(index + 1, total, plan[index], status)
    queue = prepared.pending()
    active: dict[int, tuple[int, TrainingProcess, float]] = {}  # slot number -> its run
    spent: list[float] = []
    stopping = False
    while queue or active:
        for number, slot in enumerate(slots):
            if number not in active and queue and not control.cancelled:
                index = queue.pop(0)
                design, config = prepared.built[index]
                resumed = prepared.statuses[index] is not None
                progress.start_run(index + 1, total, plan[index], resumed)
                proc = TrainingProcess(
                    design,
                    config,
                    out / plan[index].name,
                    resume=resumed,
                    environment={"CUDA_VISIBLE_DEVICES": slot},
                )
                proc.start()
                active[number] = (index, proc, time.perf_counter())
        if control.cancelled and not stopping:
            stopping = True
            for _index, proc, _started in active.values():
                proc.request_stop()
        for number, (index, proc, started) in list(active.items()):
            for event in proc.poll(timeout=0.05 / len(active)):
                if event.kind != "end":
                    progress.event(event, plan[index])
            if not proc.finished:
                continue
            del active[number]
            proc.join()
            spent.append(time.perf_counter() - started)
            left = len(queue) + len(active)
            eta = sum(spent) / len(spent) * left / len(slots) if left else 0.0
            _run_ended(experiment, prepared, outcome, index, proc.result, eta, progress)
            if proc.result.status == "cancelled":
                outcome.cancelled = True
    outcome.cancelled = outcome.cancelled or bool(control.cancelled)


def _run_ended(experiment, prepared, outcome, index: int, end, eta: float, progress) -> None:
    """Count a run that ended (trained, failed), rewrite the results, and report it."""
    from designer.training.experiment_results import write_results

    run = prepared.plan[index]
    outcome.trained.append(run.name)
    if end.status == "failed":
        outcome.failed.append(run.name)
    write_results(experiment, prepared.plan, prepared.out, prepared.offline)
    progress.end_run(index + 1, len(prepared.plan), run, end, eta)


def _train(path: Path, design, config, resume: bool, control, data, progress):
    from designer.training.engine import Trainer
    from designer.training.model import TrainingError

    try:
        trainer = Trainer(design, config, path, resume=resume, control=control, data=data)
    except TrainingError as exc:
        raise ExperimentError(f"the run {path}: {exc}") from None
    return trainer.run_to_end(progress.event)


def _check_finished(path: Path, design, config) -> None:
    """A finished run counts only if it trained what the experiment asks for now."""
    from designer.codegen import generate
    from designer.core.serialization import loads
    from designer.training.config import ConfigError, TrainConfig

    run = RunDir(path)
    hint = (
        "the experiment file changed since it ran; choose another folder, or delete that "
        "run to train it again"
    )
    try:
        saved = TrainConfig.from_dict(run.read_json(RunDir.CONFIG) or {})
    except (ConfigError, RunDirError) as exc:
        raise ExperimentError(f"{path}: its settings cannot be read ({exc}); {hint}") from None
    if saved != config:
        mine, theirs = config.to_dict(), saved.to_dict()
        name = next(k for k in mine if mine[k] != theirs[k])
        raise ExperimentError(
            f"{path} was trained with {name}={theirs[name]!r}, not {mine[name]!r}: {hint}"
        )
    design_file = run.file(RunDir.DESIGN)
    try:
        same = (
            generate(loads(design_file.read_text(encoding="utf-8"), str(design_file))).source
            == generate(design).source
        )
    except Exception:  # noqa: BLE001 - an unreadable design.json is reported like a changed one
        same = False
    if not same:
        raise ExperimentError(
            f"{path} trained another network than the experiment builds now: {hint}"
        )


def _write_record(experiment: Experiment, out: Path, offline: bool, plan: list[PlannedRun]):
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            out / EXPERIMENT_RECORD,
            json.dumps(
                clean_json(
                    {
                        "name": experiment.name,
                        "source": experiment.source,
                        "offline": offline,
                        "runs": [run.name for run in plan],
                        "experiment": experiment.data,
                    }
                ),
                indent=2,
            )
            + "\n",
        )
    except OSError as exc:
        raise ExperimentError(
            f"cannot write the experiment folder {out}: {exc.strerror or exc}"
        ) from None


class _DataCache:
    """The prepared data of the last runs, reused while the next run needs the same (the same
    dataset, split, input and preprocessing): one set at a time, as CIFAR takes 600 MB."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._data = None

    def get(self, design, config):
        from designer.training.engine import prepare_for

        key = json.dumps(
            [
                config.dataset,
                config.data_dir,
                list(design.input_shape),
                design.task,
                design.num_classes,
                config.preprocessing.to_dict(),
                config.val_fraction,
                config.test_fraction,
                config.split_seed,
                config.overfit_samples,
            ],
            sort_keys=True,
            default=str,
        )
        if key != self._key:
            from designer.data import DataError

            self._data = None  # free the old set before loading the next
            try:
                self._data = prepare_for(design, config)
            except DataError as exc:
                raise ExperimentError(f"the data of the experiment: {exc}") from None
            self._key = key
        return self._data
