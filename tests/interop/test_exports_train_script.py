"""The exported training script, run for real: with python, and with torchrun as two CPU
processes (DistributedDataParallel over gloo)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from designer.cli import main
from designer.codegen import generate
from designer.core.serialization import save_design
from designer.training.config import TrainConfig
from designer.training.model import build_trainable
from tests.helpers import chain

SETTINGS = {"dataset": "digits", "optimizer": "adam", "lr": 0.01, "schedule": "cosine", "epochs": 2,
            "batch_size": 128, "augmentation": {"rotation_range": 10.0, "width_shift_range": 0.1}}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny design with a frozen first convolution, exported with --train-script and --code."""
    tmp = tmp_path_factory.mktemp("script")
    design = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                   ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Dropout", {"p": 0.2}),
                   ("Linear", {"out_features": 10}), input_shape=(1, 8, 8), name="Tiny")
    conv = next(n for n in design.nodes.values() if n.type == "Conv2d")
    conv.trainable = False
    design.metadata["training"] = dict(SETTINGS)
    save_design(design, tmp / "tiny.json")
    assert main(["export", str(tmp / "tiny.json"), "--train-script", str(tmp / "train.py"),
                 "--code", str(tmp / "model.py")]) == 0
    return design, tmp


def run_script(argv, cwd, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


def exported_model(tmp: Path):
    spec = importlib.util.spec_from_file_location("tiny_exported", tmp / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


def check_outputs(design, tmp: Path, out: Path, epochs: int, processes: int):
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, epochs + 1))  # written once, by rank 0
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"):
        assert all(key in r for r in records)
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed" and result["processes"] == processes
    assert result["test_accuracy"] > 0.3
    model = exported_model(tmp)
    model.load_state_dict(torch.load(out / "last.pt", weights_only=True), strict=True)
    # The frozen convolution kept the initial weights, the same He weights the engine starts from.
    config = TrainConfig.from_dict(SETTINGS)
    start = build_trainable(design, config.to_dict(), torch.device("cpu"), config.seed).model
    assert torch.equal(model.conv2d.weight, start.conv2d.weight)
    assert not torch.equal(model.linear.weight, start.linear.weight)


def test_the_script_embeds_the_settings_and_the_model(exported):
    design, tmp = exported
    tree = ast.parse((tmp / "train.py").read_text())
    assigned = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    settings = ast.literal_eval(assigned["SETTINGS"])
    assert settings == {**TrainConfig.from_dict(SETTINGS).to_dict(), "loss": "cross_entropy"}
    assert ast.literal_eval(assigned["NODE_SETTINGS"]) == {"conv2d": {"trainable": False, "lr_mult": 1.0}}
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {generate(design).class_name, "build_model", "LrSchedule", "make_optimizer", "main"} <= names
    assert "designer" not in (tmp / "train.py").read_text().replace("Network Designer", "")


def test_script_trains_in_one_process(exported):
    design, tmp = exported
    run_script([sys.executable, "train.py", "--data", "digits", "--epochs", "2", "--out", "one"], tmp)
    check_outputs(design, tmp, tmp / "one", epochs=2, processes=1)


def test_script_trains_with_torchrun_on_two_cpu_processes(exported):
    design, tmp = exported
    torchrun = Path(sys.executable).with_name("torchrun")
    run_script([str(torchrun), "--standalone", "--nproc-per-node=2", "train.py", "--data", "digits",
                "--epochs", "1", "--out", "two"], tmp)
    check_outputs(design, tmp, tmp / "two", epochs=1, processes=2)


def test_a_runs_settings_go_into_the_script(exported, tmp_path):
    _, tmp = exported
    (tmp_path / "config.json").write_text(json.dumps({"lr": 0.003, "dropout": 0.4, "optimizer": "nesterov"}))
    assert main(["export", str(tmp / "tiny.json"), "--train-script", str(tmp_path / "t.py"),
                 "--config", str(tmp_path / "config.json")]) == 0
    text = (tmp_path / "t.py").read_text()
    tree = ast.parse(text)
    settings = next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.Assign) and n.targets[0].id == "SETTINGS")
    assert (settings["lr"], settings["optimizer"], settings["epochs"]) == (0.003, "nesterov", SETTINGS["epochs"])
    assert "nn.Dropout(p=0.4)" in text
