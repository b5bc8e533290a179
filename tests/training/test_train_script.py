"""The exported training script, run for real: with python and with torchrun as two CPU
processes (DistributedDataParallel over gloo), against `netdesigner train` with the same settings,
from the design's own weights, on an image folder with a broken file, and with a dataset it
cannot load."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from designer.cli import main
from designer.codegen import compile_design, generate
from designer.core.serialization import save_design
from designer.interop.weights import save_weights
from designer.training.config import TrainConfig
from designer.training.model import build_trainable
from designer.training.script.export import THIRD_PARTY, TrainScriptError, parse_piece
from tests.helpers import chain
from tests.training.conftest import tiny_design

pytestmark = pytest.mark.slow  # real training runs, script subprocesses and torchrun

SETTINGS = {"dataset": "digits", "optimizer": "adam", "lr": 0.01, "schedule": "cosine", "epochs": 2,
            "batch_size": 128, "augmentation": {"rotation_range": 10.0, "width_shift_range": 0.1}}


def tiny(num_classes=10, **settings):
    """A tiny design with dropout and a frozen first convolution."""
    design = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                   ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Dropout", {"p": 0.2}),
                   ("Linear", {"out_features": num_classes}), input_shape=(1, 8, 8),
                   num_classes=num_classes, name="Tiny")
    next(n for n in design.nodes.values() if n.type == "Conv2d").trainable = False
    design.metadata["training"] = {**SETTINGS, **settings}
    return design


def export(design, folder: Path, *extra) -> str:
    """Save the design and export its training script as folder/train.py; the CLI's output."""
    save_design(design, folder / "tiny.json")
    code = main(["export", str(folder / "tiny.json"), "--train-script", str(folder / "train.py"),
                 *extra])
    assert code == 0
    return str(folder / "train.py")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The tiny design, exported with --train-script and --code."""
    tmp = tmp_path_factory.mktemp("script")
    design = tiny()
    export(design, tmp, "--code", str(tmp / "model.py"))
    return design, tmp


def run_script(argv, cwd, timeout=300, ok=True):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                         timeout=timeout, env=env, check=False)
    if ok:
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


def exported_model(tmp: Path):
    spec = importlib.util.spec_from_file_location("tiny_exported", tmp / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


def epochs_of(metrics_file: Path) -> list[dict]:
    records = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    return [r for r in records if r.get("kind", "epoch") == "epoch"]


def check_outputs(design, tmp: Path, out: Path, epochs: int, processes: int):
    records = epochs_of(out / "metrics.jsonl")
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
    text = (tmp / "train.py").read_text()
    tree = ast.parse(text)
    assigned = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets}
    settings = ast.literal_eval(assigned["SETTINGS"])
    assert settings == {**TrainConfig.from_dict(SETTINGS).to_dict(), "loss": "cross_entropy"}
    assert ast.literal_eval(assigned["NODE_SETTINGS"]) == {
        "conv2d": {"trainable": False, "lr_mult": 1.0}}
    assert ast.unparse(assigned["WEIGHTS"]) == "None"  # the design has no weights of its own
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {generate(design).class_name, "build_model", "LrSchedule", "make_optimizer", "main",
            "split_indices", "augment_batch", "fit_stats", "iterate_batches"} <= names
    # Standalone: only the standard library and torch's family, at the top; no designer import.
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported - set(sys.stdlib_module_names) <= set(THIRD_PARTY)
    assert "designer" not in imported
    assert [line for line in text.splitlines() if len(line) > 100] == []


def test_script_trains_in_one_process(exported):
    design, tmp = exported
    run_script([sys.executable, "train.py", "--data", "digits", "--epochs", "2", "--out", "one"],
               tmp)
    check_outputs(design, tmp, tmp / "one", epochs=2, processes=1)


def test_script_trains_with_torchrun_on_two_cpu_processes(exported):
    design, tmp = exported
    torchrun = Path(sys.executable).with_name("torchrun")
    run_script([str(torchrun), "--standalone", "--nproc-per-node=2", "train.py", "--data", "digits",
                "--epochs", "1", "--out", "two"], tmp)
    check_outputs(design, tmp, tmp / "two", epochs=1, processes=2)


@pytest.mark.parametrize("own_weights", [False, True])
def test_the_script_trains_as_netdesigner_train_does(tmp_path, own_weights):
    """Same settings and seed, augmentation and dropout on: the same validation loss every epoch
    and the same test accuracy, also when both start from the design's own weights."""
    design = tiny()
    if own_weights:
        torch.manual_seed(7)
        save_weights(compile_design(design), tmp_path / "tiny.safetensors")
        design.metadata["weights"] = "tiny.safetensors"
    export(design, tmp_path)
    run_script([sys.executable, "-m", "designer", "train", "tiny.json", "--run-dir", "engine",
                "--seed", "3", "--epochs", "2"], tmp_path)
    run_script([sys.executable, "train.py", "--seed", "3", "--epochs", "2", "--out", "script"],
               tmp_path)
    engine, script = epochs_of(tmp_path / "engine" / "metrics.jsonl"), epochs_of(
        tmp_path / "script" / "metrics.jsonl")
    assert len(engine) == len(script) == 2
    for a, b in zip(engine, script):
        assert b["val_loss"] == pytest.approx(a["val_loss"], abs=1e-5)
        assert b["train_loss"] == pytest.approx(a["train_loss"], abs=1e-5)
    engine_end = json.loads((tmp_path / "engine" / "result.json").read_text())
    script_end = json.loads((tmp_path / "script" / "result.json").read_text())
    assert script_end["test_accuracy"] == engine_end["test_accuracy"]


def test_the_script_starts_from_the_designs_own_weights(tmp_path, capsys):
    design = tiny()
    torch.manual_seed(7)
    own = compile_design(design)
    save_weights(own, tmp_path / "tiny.safetensors")
    design.metadata["weights"] = "tiny.safetensors"
    export(design, tmp_path, "--code", str(tmp_path / "model.py"))
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "train_weights.pt").is_file()
    tree = ast.parse((tmp_path / "train.py").read_text())
    weights = next(n.value for n in tree.body
                   if isinstance(n, ast.Assign) and n.targets[0].id == "WEIGHTS")
    assert "train_weights.pt" in ast.unparse(weights)
    run_script([sys.executable, "train.py", "--epochs", "1", "--out", "own"], tmp_path)
    run_script([sys.executable, "train.py", "--epochs", "1", "--out", "fresh", "--fresh"], tmp_path)
    trained = exported_model(tmp_path)
    trained.load_state_dict(torch.load(tmp_path / "own" / "last.pt", weights_only=True))
    assert torch.equal(trained.conv2d.weight, own.conv2d.weight)  # frozen at the design's weights
    trained.load_state_dict(torch.load(tmp_path / "fresh" / "last.pt", weights_only=True))
    assert not torch.equal(trained.conv2d.weight, own.conv2d.weight)


def test_the_script_skips_unreadable_images(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 256, (8, 8), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / label / f"{i}.png")
    whole = (tmp_path / "images" / "a" / "0.png").read_bytes()
    (tmp_path / "images" / "a" / "broken.png").write_bytes(whole[: len(whole) // 2])
    export(tiny(num_classes=2, batch_size=8), tmp_path)
    out = run_script([sys.executable, "train.py", "--data", tmp_path / "images", "--epochs", "1",
                      "--out", "run"], tmp_path)
    assert "1 unreadable image(s) skipped" in out.stdout and "broken.png" in out.stdout
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "completed"


def test_a_dataset_the_script_cannot_load_gets_a_hint_that_works(tmp_path, capsys):
    export(tiny(dataset="imagenet"), tmp_path)
    printed = capsys.readouterr().out
    assert "--data FOLDER" in printed and "--data imagenet" not in printed
    assert "cannot load the design's dataset 'imagenet'" in printed
    out = run_script([sys.executable, "train.py", "--epochs", "1"], tmp_path, ok=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "--data imagenet: not a dataset this script knows" in out.stderr


def test_a_runs_settings_go_into_the_script(exported, tmp_path):
    _, tmp = exported
    (tmp_path / "config.json").write_text(
        json.dumps({"lr": 0.003, "dropout": 0.4, "optimizer": "nesterov"}))
    assert main(["export", str(tmp / "tiny.json"), "--train-script", str(tmp_path / "t.py"),
                 "--config", str(tmp_path / "config.json")]) == 0
    text = (tmp_path / "t.py").read_text()
    tree = ast.parse(text)
    settings = next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.Assign) and n.targets[0].id == "SETTINGS")
    assert (settings["lr"], settings["optimizer"], settings["epochs"]) == (
        0.003, "nesterov", SETTINGS["epochs"])
    assert "nn.Dropout(p=0.4)" in text


def test_a_design_name_the_script_uses_itself_is_refused_by_name(tmp_path, capsys):
    design = tiny_design()
    design.name = "DataError"  # the class of the generated code would hide the script's own
    save_design(design, tmp_path / "d.json")
    assert main(["export", str(tmp_path / "d.json"), "--train-script", str(tmp_path / "t.py")]) == 1
    err = capsys.readouterr().err
    assert "'DataError'" in err and "rename" in err
    assert not (tmp_path / "t.py").exists()


@pytest.mark.parametrize("source, message", [
    ("import requests\n", "imports requests"),
    ("from designer.core.design import Design\n", "not copied into the training script"),
    ("from designer.data.errors import DataError as Problem\n", "under the same names"),
    ("def f():\n    from designer.data.errors import DataError\n", "not copied"),
    ("def f():\n    import requests\n", "imports requests"),
])
def test_only_standalone_modules_can_be_copied_into_the_script(source, message):
    with pytest.raises(TrainScriptError, match=message):
        parse_piece(source, "a module", {"designer.data.errors": {"DataError"}})
