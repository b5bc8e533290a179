"""The evaluate and predict verbs on a real run: the figures match result.json for the same
weights, images of any size and mode are converted like the training data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from designer.cli import main
from designer.core.serialization import save_design
from designer.data import load_source, split_indices
from designer.training.engine import prepare_for
from designer.training.evaluation import from_run
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_design


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def design_file(tmp_path):
    path = tmp_path / "tiny.json"
    save_design(tiny_design(), path)
    return path


@pytest.mark.parametrize("which", ["best", "last"])
def test_evaluate_matches_the_runs_result(capsys, finished_run, which):
    code, out, err = run(capsys, "evaluate", "--run", finished_run, "--which", which, "--json")
    assert code == 0, err
    shown = json.loads(out)
    expected = RunDir(finished_run).read_json(RunDir.RESULT)["test"][which]
    assert shown["which"] == which and shown["weights"].endswith(f"{which}.safetensors")
    assert {k: shown[k] for k in ("loss", "accuracy", "top5", "confusion")} == {
        k: expected[k] for k in ("loss", "accuracy", "top5", "confusion")
    }
    matrix = np.array(expected["confusion"])
    assert list(shown["per_class_accuracy"].values()) == list(np.diag(matrix) / matrix.sum(axis=1))


def test_evaluate_prints_the_kept_weights_figures(capsys, finished_run, design_file):
    result = RunDir(finished_run).read_json(RunDir.RESULT)
    code, out, err = run(capsys, "evaluate", design_file, "--run", finished_run)
    assert code == 0, err
    correct = int(np.trace(np.array(result["confusion"])))
    assert "the best weights of the run" in out and "epoch 2" in out and "kept" in out
    figures = f"loss {result['test_loss']:.4f}  accuracy {result['test_accuracy']:.2%}"
    assert f"{figures} ({correct}/180)" in out
    assert f"top-5 {result['test_top5']:.2%}" in out
    assert sum(line.startswith("  ") and " of " in line for line in out.splitlines()) == 10
    # A weights file gives the same figures.
    best = finished_run / "best.safetensors"
    code, out2, _ = run(capsys, "evaluate", design_file, "--weights", best)
    assert code == 0 and out2.splitlines()[1:] == out.splitlines()[1:]


def test_evaluate_other_splits_and_bad_usage(capsys, finished_run, design_file):
    code, out, _ = run(capsys, "evaluate", "--run", finished_run, "--split", "val")
    assert code == 0 and "the val split of digits: 180 samples" in out
    code, _, err = run(capsys, "evaluate", design_file)
    assert code == 1 and "no weights of its own" in err
    code, _, err = run(capsys, "evaluate", design_file, "--which", "last")
    assert code == 2 and "--which goes with --run" in err
    code, _, err = run(capsys, "evaluate", "--run", design_file.parent / "nowhere")
    assert code == 1 and "holds no training run" in err and "Traceback" not in err
    other = tiny_design(batchnorm=True)
    save_design(other, design_file.parent / "other.json")
    code, _, err = run(capsys, "evaluate", design_file.parent / "other.json", "--run", finished_run)
    assert code == 1 and "best.safetensors: the tensor 'batchnorm.weight' is missing" in err


def test_predict_a_png_as_the_training_data_would_be(capsys, finished_run, tmp_path):
    """Test image 0 of the run, written as an 8×8 PNG, is classified exactly as in evaluation;
    a 40×40 colour version of it still works."""
    raw = load_source("digits")
    split = split_indices(raw.train_labels, val_fraction=0.1, test_fraction=0.1, seed=0)
    index = int(split.test[0])
    pixels = raw.train_images[index, 0].numpy()
    Image.fromarray(pixels, mode="L").save(tmp_path / "digit.png")
    Image.fromarray(pixels).convert("RGB").resize((40, 40)).save(tmp_path / "big.png")

    trained = from_run(finished_run)
    data = prepare_for(trained.design, trained.config)
    with torch.no_grad():
        probabilities = trained.module()(data.test_x[:1]).softmax(dim=1)[0]
    expected = probabilities.topk(3)

    code, out, err = run(
        capsys,
        "predict",
        "--run",
        finished_run,
        tmp_path / "digit.png",
        tmp_path / "big.png",
        "--json",
    )
    assert code == 0, err
    first, big = json.loads(out)["predictions"]
    assert [p["class"] for p in first["top"]] == [data.classes[i] for i in expected.indices]
    assert [p["score"] for p in first["top"]] == pytest.approx(expected.values.tolist(), abs=1e-6)
    assert len(big["top"]) == 3 and all(0 <= p["score"] <= 1 for p in big["top"])

    code, out, _ = run(capsys, "predict", "--run", finished_run, "--top", 1, tmp_path / "digit.png")
    top = data.classes[int(expected.indices[0])]
    assert code == 0 and f"digit.png: {top} ({expected.values[0]:.1%})" in out


def test_predict_refuses_what_it_cannot_read(capsys, finished_run, tmp_path, design_file):
    (tmp_path / "notes.png").write_text("not an image")
    code, _, err = run(capsys, "predict", "--run", finished_run, tmp_path / "notes.png")
    assert code == 1 and "notes.png: cannot be read as an image" in err
    missing = tmp_path / "missing.png"
    code, _, err = run(capsys, "predict", design_file, "--run", finished_run, missing)
    assert code == 1 and "missing.png: no such image file" in err
    code, _, err = run(capsys, "predict", design_file)
    assert code == 2 and "image files" in err
