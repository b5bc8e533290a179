"""The search on Optuna: sampling, the TPE sampler, the median pruner, and several processes
sharing one SQLite storage."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from designer.core.serialization import save_design
from designer.training.config import ConfigError
from designer.training.model import TrainingError
from designer.training.rundir import RunDir
from designer.training.search import SearchSpace, SearchStudy, random_search
from tests.training.conftest import tiny_config, tiny_design


def asked(study: SearchStudy, count: int, folder: Path = Path("runs")) -> list[dict]:
    return [study.ask(lambda n: folder / f"t{n}")[2] for _ in range(count)]


def test_log_uniform_sampling_covers_the_range():
    study = SearchStudy(SearchSpace(lr=(1e-4, 1e-1)), dropout=False)
    lrs = [p["lr"] for p in asked(study, 400)]
    decades = [sum(10 ** (e - 1) <= x < 10**e for x in lrs) for e in (-3, -2, -1)]
    assert all(80 <= d <= 180 for d in decades), decades  # about a third in each decade
    assert min(lrs) >= 1e-4 and max(lrs) <= 1e-1 and not math.isnan(sum(lrs))


def test_a_trial_is_the_same_for_the_same_seed_and_number_wherever_it_is_asked():
    space = SearchSpace(batch_sizes=(16, 32, 64))
    first = asked(SearchStudy(space, dropout=True, seed=5), 4)
    again = asked(SearchStudy(space, dropout=True, seed=5), 4)
    other = asked(SearchStudy(space, dropout=True, seed=6), 4)
    assert first == again and first != other
    assert len({p["lr"] for p in first}) == 4
    assert all(0 <= p["dropout"] <= 0.6 and p["batch_size"] in (16, 32, 64) for p in first)
    assert all(p["dropout"] is None for p in asked(SearchStudy(space, dropout=False), 3))


def test_tpe_is_one_choice_away_and_unknown_samplers_are_refused():
    study = SearchStudy(SearchSpace(), dropout=False, sampler="tpe", seed=1)
    assert isinstance(study.study.sampler, optuna.samplers.TPESampler)
    trial, run_dir, params = study.ask(lambda n: Path("r") / f"trial_{n + 1:02d}")
    assert run_dir == Path("r/trial_01") and 1e-4 <= params["lr"] <= 1e-1
    study.tell(trial, {"status": "completed", "best_val_accuracy": 0.5})
    assert study.trials()[0].best_val_accuracy == 0.5 and study.trials()[0].status == "completed"
    with pytest.raises(ConfigError, match="sampler must be one of random, tpe"):
        SearchStudy(SearchSpace(), dropout=False, sampler="grid")


def test_a_shared_study_keeps_its_space(tmp_path):
    storage = str(tmp_path / "s.db")
    SearchStudy(SearchSpace(), dropout=False, storage=storage, study="s", epochs=2)
    with pytest.raises(TrainingError, match="the study s searches"):
        SearchStudy(
            SearchSpace(lr=(1e-3, 1e-2)), dropout=False, storage=storage, study="s", epochs=2
        )


def test_the_median_pruner_stops_a_hopeless_trial_early(tmp_path):
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    study = optuna.create_study(storage=storage, study_name="p", direction="maximize")
    good = {"weight_decay": 1e-5, "dropout": 0.1, "batch_size": 128}
    study.enqueue_trial({"lr": 0.02, **good})
    study.enqueue_trial({"lr": 0.01, **good})
    study.enqueue_trial({"lr": 1e-5, **good})  # learns next to nothing in 4 epochs
    space = SearchSpace(lr=(1e-5, 1e-1), weight_decay=(1e-6, 1e-3), batch_sizes=(128,))
    trials = random_search(
        tiny_design(),
        tiny_config(),
        tmp_path / "root",
        trials=3,
        epochs=4,
        space=space,
        prune=True,
        storage=storage,
        study="p",
    )
    by_number = {t.number: t for t in trials}
    assert [by_number[n].status for n in (1, 2, 3)] == ["completed", "completed", "pruned"]
    pruned = RunDir(tmp_path / "root" / "trial_03")
    result = pruned.read_json("result.json")
    # of 4 epochs: epoch 2 is the first after which the pruner may stop a trial
    assert result["status"] == "pruned" and result["epochs_run"] == 2
    assert "below the median" in result["message"]
    assert [r["epoch"] for r in pruned.read_metrics() if r["kind"] == "epoch"] == [1, 2]
    assert RunDir(tmp_path / "root" / "trial_01").read_json("result.json")["epochs_run"] == 4
    states = [t.state for t in optuna.load_study(study_name="p", storage=storage).trials]
    assert states == [optuna.trial.TrialState.COMPLETE] * 2 + [optuna.trial.TrialState.PRUNED]


def test_search_flags_for_a_shared_study_are_checked(tmp_path, capsys):
    from designer.cli import main

    save_design(tiny_design(), tmp_path / "tiny.json")
    base = ["search", str(tmp_path / "tiny.json"), "--run-dir", str(tmp_path / "s")]
    assert main([*base, "--study", "x"]) == 2
    assert "give --storage too" in capsys.readouterr().err
    assert main([*base, "--storage", "nosuchdatabase://x", "--trials", "1"]) == 1
    assert "cannot open the search storage nosuchdatabase://x" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # argparse's choices
        main([*base, "--sampler", "grid"])
    assert usage.value.code == 2
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_two_processes_share_one_search_on_sqlite(tmp_path):
    save_design(tiny_design(), tmp_path / "tiny.json")
    root, db = tmp_path / "search", tmp_path / "search.db"
    command = [
        sys.executable,
        "-m",
        "designer",
        "search",
        str(tmp_path / "tiny.json"),
        "--run-dir",
        str(root),
        "--trials",
        "2",
        "--epochs",
        "1",
        "--batch-sizes",
        "64,128",
        "--storage",
        str(db),
        "--study",
        "shared",
        "--device",
        "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, out + err

    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{db}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]  # every trial once
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    dirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert dirs == ["trial_01", "trial_02", "trial_03", "trial_04"]
    saved = {s["number"]: s for s in json.loads((root / "search.json").read_text())}
    assert sorted(saved) == [1, 2, 3, 4]
    for trial in study.trials:
        run = RunDir(trial.user_attrs["run_dir"])
        assert run.path == root / f"trial_{trial.number + 1:02d}"
        result, config = run.read_json("result.json"), run.read_json("config.json")
        assert result["status"] == "completed" and trial.value == result["best_val_accuracy"]
        assert config["lr"] == trial.params["lr"]
        assert config["batch_size"] == trial.params["batch_size"]
        assert saved[trial.number + 1]["best_val_accuracy"] == trial.value
    assert len({t.params["lr"] for t in study.trials}) == 4  # the processes drew different trials
