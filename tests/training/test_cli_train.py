"""The train and search verbs: flags over template settings, errors as messages with exit codes,
progress output, resume, and Ctrl-C in a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from designer.cli import main
from designer.core.serialization import save_design
from designer.interop.weights import save_weights
from designer.templates import new_from_template
from designer.training.control import TrainingControl
from designer.training.engine import Trainer
from designer.training.events import StepEvent
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_config, tiny_design

FAST = ["--batch-size", "128", "--lr", "0.01"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def design_file(tmp_path):
    path = tmp_path / "tiny.json"
    save_design(tiny_design(), path)
    return path


def test_train_with_flags(capsys, tmp_path, design_file):
    code, out, err = run(
        capsys,
        "train",
        design_file,
        "--run-dir",
        tmp_path / "run",
        "--epochs",
        2,
        "--optimizer",
        "nesterov",
        "--seed",
        3,
        *FAST,
    )
    assert code == 0, err
    assert "epoch 1/2" in out and "epoch 2/2" in out and "test accuracy" in out
    config = RunDir(tmp_path / "run").read_json("config.json")
    assert (config["epochs"], config["optimizer"], config["seed"], config["lr"]) == (
        2,
        "nesterov",
        3,
        0.01,
    )
    assert RunDir(tmp_path / "run").read_json("result.json")["status"] == "completed"


def test_template_settings_apply_without_flags(capsys, tmp_path):
    path = tmp_path / "lenet.json"
    design = new_from_template("lenet5")
    save_design(design, path)
    code, _, err = run(capsys, "train", path, "--run-dir", tmp_path / "run", "--epochs", 1)
    assert code == 0, err
    config = RunDir(tmp_path / "run").read_json("config.json")
    defaults = design.metadata["training"]
    for key in ("dataset", "optimizer", "lr", "schedule", "batch_size"):
        assert config[key] == defaults[key], key
    assert {k: config["augmentation"][k] for k in defaults["augmentation"]} == defaults[
        "augmentation"
    ]
    assert config["epochs"] == 1


def test_class_count_mismatch_names_both_numbers(capsys, tmp_path):
    path = tmp_path / "five.json"
    save_design(tiny_design(num_classes=5), path)
    assert run(capsys, "train", path, "--run-dir", tmp_path / "run") == (
        1,
        "",
        (
            "netdesigner: error: the dataset 'digits' has 10 classes but the design's head "
            "has 5; set the design's number of classes to 10\n"
        ),
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "argv, exit_code, message",
    [
        (
            ["--optimizer", "adagrad"],
            2,
            (
                "training setting 'optimizer' must be one of sgd, momentum, "
                "nesterov, rmsprop, adam, adamw, got 'adagrad'"
            ),
        ),
        (["--epochs", "0"], 2, "training setting 'epochs' must be at least 1, got 0"),
        # Bad usage, found before anything loads.
        (
            ["--data", "nowhere"],
            2,
            (
                "unknown data source 'nowhere'; known sources: digits, mnist, "
                "fashion_mnist, cifar10, cifar100, folder:PATH (or the path of an "
                "existing image folder)"
            ),
        ),
    ],
)
def test_bad_flags_are_messages(capsys, tmp_path, design_file, argv, exit_code, message):
    refused = run(capsys, "train", design_file, "--run-dir", tmp_path / "run", *argv)
    assert refused == (exit_code, "", f"netdesigner: error: {message}\n")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("verb", ["train", "search"])
def test_help_names_every_optimizer_and_schedule(capsys, verb):
    from designer.training.config import OPTIMIZERS, SCHEDULES

    with pytest.raises(SystemExit) as done:
        main([verb, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # as one line, however argparse wraps it
    assert f"Optimizers: {', '.join(OPTIMIZERS)}." in text
    assert f"Learning-rate schedules: {', '.join(SCHEDULES)}." in text and "linear" in SCHEDULES


def test_a_file_in_place_of_the_run_directory_is_named(capsys, tmp_path, design_file):
    (tmp_path / "afile").write_text("not a folder")
    assert run(capsys, "train", design_file, "--run-dir", tmp_path / "afile") == (
        1,
        "",
        (
            f"netdesigner: error: cannot write the run directory {tmp_path / 'afile'}: "
            f"{tmp_path / 'afile'} is a file, not a folder\n"
        ),
    )


def test_building_the_verbs_parsers_does_not_import_torch():
    """Why the names are read when help is asked for: every start builds all the verbs' parsers,
    and `netdesigner check` should not wait for torch."""
    probe = (
        "import sys; from designer.cli import _verb_parser; _verb_parser(); "
        "print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr


def test_settings_file(capsys, tmp_path, design_file):
    (tmp_path / "s.json").write_text(json.dumps({"grad_clip": 1.0, "epochs": 1, "lr": 0.5}))
    code, _, err = run(
        capsys,
        "train",
        design_file,
        "--run-dir",
        tmp_path / "run",
        "--config",
        tmp_path / "s.json",
        "--lr",
        0.02,
    )
    assert code == 0, err
    config = RunDir(tmp_path / "run").read_json("config.json")
    assert (config["grad_clip"], config["epochs"], config["lr"]) == (1.0, 1, 0.02)  # flags win
    (tmp_path / "bad.json").write_text(json.dumps({"learning_rate": 0.1}))
    code, _, err = run(
        capsys,
        "train",
        design_file,
        "--run-dir",
        tmp_path / "other",
        "--config",
        tmp_path / "bad.json",
    )
    assert code == 2 and "unknown training setting 'learning_rate'" in err


def test_resume_from_the_cli(capsys, tmp_path, design_file):
    control = TrainingControl()
    config = tiny_config(epochs=2)
    Trainer(tiny_design(), config, tmp_path / "run", control=control).run_to_end(
        lambda e: control.cancel() if isinstance(e, StepEvent) and e.step == 5 else None
    )
    code, _, err = run(
        capsys, "train", design_file, "--run-dir", tmp_path / "run", "--resume", "--lr", 0.5
    )
    assert code == 1 and "started with lr=0.01" in err
    code, out, err = run(capsys, "train", design_file, "--run-dir", tmp_path / "run", "--resume")
    assert code == 0, err
    assert "resuming after epoch 0" in out and "resumed after epoch 0, batch 5" in out
    code, _, err = run(capsys, "train", design_file, "--run-dir", tmp_path / "run", "--resume")
    assert code == 1 and "has finished (completed)" in err
    code, _, err = run(capsys, "train", design_file, "--run-dir", tmp_path / "run")
    assert code == 1 and "pass --resume" in err


def test_overfit_mode(capsys, tmp_path, design_file):
    code, out, err = run(
        capsys, "train", design_file, "--run-dir", tmp_path / "run", "--overfit", 10, "--lr", 0.03
    )
    assert code == 0, err
    assert "reached 100% training accuracy on 10 samples" in out


def test_the_designs_own_weights_are_the_starting_point(capsys, tmp_path):
    from designer.codegen import compile_design

    design = tiny_design()
    design.metadata["weights"] = "tiny.safetensors"
    save_design(design, tmp_path / "tiny.json")
    code, _, err = run(
        capsys, "train", tmp_path / "tiny.json", "--run-dir", tmp_path / "a", "--epochs", 1
    )
    assert code == 1 and "tiny.safetensors" in err and "--fresh" in err
    save_weights(compile_design(design), tmp_path / "tiny.safetensors")
    code, out, err = run(
        capsys, "train", tmp_path / "tiny.json", "--run-dir", tmp_path / "b", "--epochs", 1
    )
    assert code == 0 and "starting from the design's own weights" in out
    code, out, err = run(
        capsys,
        "train",
        tmp_path / "tiny.json",
        "--run-dir",
        tmp_path / "c",
        "--epochs",
        1,
        "--fresh",
    )
    assert code == 0 and "own weights" not in out


def test_search_verb(capsys, tmp_path, design_file):
    code, out, err = run(
        capsys,
        "search",
        design_file,
        "--run-dir",
        tmp_path / "s",
        "--trials",
        2,
        "--epochs",
        1,
        "--batch-sizes",
        "64,128",
        "--lr-range",
        0.001,
        0.01,
    )
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "trial"])
    assert [line.split()[0] for line in lines[header + 1 : header + 3]] == ["1", "2"]
    assert len(json.loads((tmp_path / "s" / "search.json").read_text())) == 2
    code, _, err = run(
        capsys, "search", design_file, "--run-dir", tmp_path / "t", "--batch-sizes", "a,b"
    )
    assert code == 2 and "--batch-sizes" in err


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path, design_file):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "designer",
            "train",
            str(design_file),
            "--run-dir",
            str(tmp_path / "run"),
            "--epochs",
            "300",
            *FAST,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            if line.startswith("epoch 1/300") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in out and "Traceback" not in err
    assert f"--run-dir {tmp_path / 'run'} --resume" in err  # how to continue it
    assert RunDir(tmp_path / "run").read_json("result.json")["status"] == "cancelled"
    assert RunDir(tmp_path / "run").load_checkpoint() is not None


@pytest.mark.slow
def test_the_train_process_waits_passively(tmp_path, design_file):
    """The CLI sets its threads' wait policy before torch is imported (designer.threads)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    argv = [
        sys.executable,
        "-m",
        "designer",
        "train",
        str(design_file),
        "--run-dir",
        str(tmp_path / "run"),
        "--epochs",
        "1",
        *FAST,
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "OpenMP wait policy PASSIVE" in done.stdout
