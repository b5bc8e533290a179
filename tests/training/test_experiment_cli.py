"""`netdesigner experiment` end to end: a 2x2 experiment (variant x learning rate) on the bundled
digits trains four run directories, prints the results table and writes the CSV and JSON; run
again, it trains nothing; stopped in the middle, it continues the stopped run from its
checkpoint. `netdesigner experiments` lists the shipped ones."""

from __future__ import annotations

import csv
import json

import pytest

from designer.cli import main
from designer.training.control import TrainingControl
from designer.training.experiment import load_experiment
from designer.training.experiment_results import read_results
from designer.training.experiment_run import ExperimentProgress, run_experiment
from designer.training.rundir import RunDir
from tests.training.test_experiment import SHIPPED_NAMES

# thesis_fcn at a few filters per layer: the digits resized to 32x32 RGB, an epoch in a second.
TINY = {f"conv{i}.out_channels": 4 for i in (1, 2, 3)} | {
    f"conv{i}.out_channels": 8 for i in (4, 5, 6, 7, 8)
}
RUNS = {
    "variant=plain,lr=0.02,seed=0",
    "variant=plain,lr=0.04,seed=0",
    "variant=shiftscale,lr=0.02,seed=0",
    "variant=shiftscale,lr=0.04,seed=0",
}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "two_by_two.json"
    path.write_text(
        json.dumps(
            {
                "format": "netdesigner-experiment",
                "version": 1,
                "title": "2x2",
                "base": {"template": "thesis_fcn"},
                "edits": TINY,
                "settings": {"dataset": "digits", "epochs": 1, "batch_size": 128, "device": "cpu"},
                "factors": [
                    {"name": "variant", "option": "variant", "levels": ["plain", "shiftscale"]},
                    {"name": "lr", "setting": "lr", "levels": [0.02, 0.04]},
                ],
            }
        )
    )
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(out):
    """mtime and bytes of every run's metrics and result."""
    return {
        (run, name): ((out / run / name).stat().st_mtime_ns, (out / run / name).read_bytes())
        for run in RUNS
        for name in (RunDir.METRICS, RunDir.RESULT)
    }


@pytest.mark.slow
def test_a_two_by_two_experiment_runs_prints_its_table_writes_csv_and_resumes(
    capsys, tmp_path, spec_file
):
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "experiment", spec_file, "--out", out)
    assert code == 0, err
    assert {p.name for p in out.iterdir() if p.is_dir()} == RUNS
    for name in RUNS:
        result = RunDir(out / name).read_json(RunDir.RESULT)
        assert result["status"] == "completed" and result["epochs_run"] == 1
    assert (RunDir(out / "variant=plain,lr=0.04,seed=0").read_json(RunDir.CONFIG)["lr"]) == 0.04

    table = stdout[stdout.index("rank") :].splitlines()
    assert table[0].split()[:5] == ["rank", "variant", "lr", "val", "acc"]
    assert "test acc" in table[0] and "epochs" in table[0] and "time" in table[0]
    assert [line.split()[0] for line in table[1:5]] == ["1", "2", "3", "4"]

    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["variant"], r["lr"]) for r in rows} == {
        ("plain", "0.02"),
        ("plain", "0.04"),
        ("shiftscale", "0.02"),
        ("shiftscale", "0.04"),
    }
    accuracies = [float(r["best_val_accuracy"]) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True) and all(0 <= a <= 1 for a in accuracies)
    assert all(r["status"] == "completed" and float(r["epochs"]) == 1 for r in rows)
    assert all(0 <= float(r["test_accuracy"]) <= 1 and float(r["seconds"]) > 0 for r in rows)
    assert {r["runs"] for r in rows} == RUNS
    for row, line in zip(rows, table[1:5], strict=True):  # the table is the CSV's order
        assert line.split()[1:3] == [row["variant"], row["lr"]]
        assert f"{float(row['best_val_accuracy']):.2%}" in line
    results = json.loads((out / "results.json").read_text())
    assert [r["combination"] for r in results["rows"]] == [
        f"variant={r['variant']},lr={r['lr']}" for r in rows
    ]
    header, read = read_results(out)  # what the app's results table shows
    assert header["factors"] == ["variant", "lr"] and header["offline"] is False
    assert [r.combination for r in read] == [r["combination"] for r in results["rows"]]
    assert [r.best_val_accuracy for r in read] == accuracies

    before = snapshot(out)
    code, stdout, err = run(capsys, "experiment", spec_file, "--out", out)
    assert code == 0, err
    assert stdout.count("not trained again") == 4 and "epoch 1/1" not in stdout
    assert snapshot(out) == before  # nothing was trained or rewritten
    assert "rank" in stdout and (out / "results.csv").read_text().count("\n") == 5


class CancelAtFirstStep(ExperimentProgress):
    """Stops the experiment in the middle of its ``run``-th run; records how runs start."""

    def __init__(self, control, run=None):
        self.control, self.run, self.index, self.starts = control, run, 0, []

    def start_run(self, index, total, run, resumed):
        self.index = index
        self.starts.append((run.name, resumed))

    def event(self, event):
        if event.kind == "start":
            self.starts.append(("start_batch", event.start_batch))
        if event.kind == "step" and self.index == self.run:
            self.control.cancel()


@pytest.mark.slow
def test_a_stopped_experiment_continues_its_stopped_run_from_the_checkpoint(tmp_path, spec_file):
    experiment = load_experiment(spec_file)
    out = tmp_path / "out"
    control = TrainingControl()
    first = run_experiment(
        experiment, out, control=control, progress=CancelAtFirstStep(control, run=2)
    )
    second_run = out / "variant=plain,lr=0.04,seed=0"
    assert first.cancelled and first.trained == ["variant=plain,lr=0.02,seed=0", second_run.name]
    assert RunDir(second_run).read_json(RunDir.RESULT)["status"] == "cancelled"
    assert RunDir(second_run).file(RunDir.CHECKPOINT).exists()
    assert not (out / "variant=shiftscale,lr=0.02,seed=0").exists()
    done = (out / first.trained[0] / RunDir.METRICS).read_bytes()

    progress = CancelAtFirstStep(TrainingControl())
    again = run_experiment(experiment, out, progress=progress)
    assert not again.cancelled and again.skipped == ["variant=plain,lr=0.02,seed=0"]
    assert progress.starts == [
        (second_run.name, True),
        ("start_batch", 1),
        ("variant=shiftscale,lr=0.02,seed=0", False),
        ("start_batch", 0),
        ("variant=shiftscale,lr=0.04,seed=0", False),
        ("start_batch", 0),
    ]
    assert all(RunDir(out / n).read_json(RunDir.RESULT)["status"] == "completed" for n in RUNS)
    assert (out / first.trained[0] / RunDir.METRICS).read_bytes() == done


def test_usage_errors_and_the_plan(capsys, tmp_path, spec_file):
    code, _, err = run(capsys, "experiment", spec_file)
    assert code == 2 and "--out DIR" in err
    code, stdout, err = run(capsys, "experiment", spec_file, "--plan")
    assert code == 0, err
    assert "4 combination(s) x 1 seed(s) = 4 run(s), on its own dataset" in stdout
    assert all(name in stdout for name in RUNS)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netdesigner-experiment", "version": 1, "base": {}}')
    code, _, err = run(capsys, "experiment", bad, "--out", tmp_path / "x")
    assert code == 1 and f"{bad}: base: name a 'template'" in err
    assert not (tmp_path / "x").exists()


def test_experiments_lists_the_shipped_ones(capsys):
    code, stdout, err = run(capsys, "experiments", "--json")
    assert code == 0, err
    listed = {e["name"]: e for e in json.loads(stdout)}
    assert set(listed) == SHIPPED_NAMES
    assert listed["thesis_shift_scale"]["runs"] == 33
    code, stdout, _ = run(capsys, "experiments")
    assert code == 0 and "thesis_shift_scale" in stdout and "33 runs" in stdout


class Recorder(ExperimentProgress):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.epochs: list[str] = []

    def start_run(self, index, total, run, resumed) -> None:
        self.calls.append(("start", run.name))

    def event(self, event, run=None) -> None:
        if event.kind == "epoch":
            self.epochs.append(run.name)

    def end_run(self, index, total, run, end, eta) -> None:
        self.calls.append((end.status, run.name))


@pytest.mark.slow
def test_runs_side_by_side_train_in_their_own_processes_and_resume_alike(tmp_path, spec_file):
    # Two slots of no GPU (CUDA_VISIBLE_DEVICES=""): what --at-once 2 does on a 2-GPU machine.
    experiment = load_experiment(spec_file)
    out = tmp_path / "out"
    progress = Recorder()
    outcome = run_experiment(experiment, out, progress=progress, slots=["", ""])
    assert sorted(outcome.trained) == sorted(RUNS) and not outcome.failed
    kinds = [kind for kind, _ in progress.calls]
    assert kinds[:2] == ["start", "start"]  # the second starts before the first ends
    assert kinds.count("completed") == 4 and sorted(progress.epochs) == sorted(RUNS)
    assert all(RunDir(out / n).read_json(RunDir.RESULT)["status"] == "completed" for n in RUNS)
    assert len(read_results(out)[1]) == 4
    again = run_experiment(experiment, out, progress=Recorder(), slots=["", ""])
    assert again.trained == [] and sorted(again.skipped) == sorted(RUNS)


def test_runs_at_once_need_as_many_gpus(capsys, tmp_path, spec_file):
    import torch

    more = max(2, torch.cuda.device_count() + 1)
    code, _, err = run(capsys, "experiment", spec_file, "--out", tmp_path / "x", "--at-once", more)
    assert code == 2 and f"{more} runs at once need {more} GPUs" in err
    assert not (tmp_path / "x").exists()
